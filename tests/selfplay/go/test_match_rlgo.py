"""A short real match: rlgo's GTP engine against GNU Go, through the arena, as CI runs it."""

from __future__ import annotations

import sys

import pytest

from envs.go.sgf import position_from_record
from envs.go.sgf_files import load_sgf_file
from selfplay.go.arena import MatchConfig, run_match


@pytest.mark.gnugo
def test_rlgo_plays_two_games_against_gnugo(gnugo_path, tmp_path):
    rlgo = f"{sys.executable} -m rlgo.cli go gtp --visits 150 --quiet"
    config = MatchConfig(black=rlgo, white=f"{gnugo_path} --mode gtp --level 1", games=2,
                         size=9, komi=7.0, time_per_move=1.0, sgf_dir=str(tmp_path),
                         referee=f"{gnugo_path} --mode gtp --chinese-rules", seed=1)
    result = run_match(config)
    files = sorted(tmp_path.glob("game-*.sgf"))
    assert len(files) == 2
    for path in files:
        record = load_sgf_file(path)
        assert record.result == "0" or record.result[:2] in ("B+", "W+")  # "0": a jigo
        assert "Forfeit" not in record.result  # both engines played legal moves throughout
        position_from_record(record)  # replays legally
    assert len(result.games) == 2


@pytest.mark.slow
@pytest.mark.gnugo
def test_the_19x19_engine_beats_gnugo_in_a_real_game(gnugo_path, tmp_path):
    # The default 19x19 engine (the shipped policy_19x19 net in the search) plays a whole game
    # at 1 s a move against GNU Go level 1, scored by GNU Go: about 5 minutes.
    rlgo = f"{sys.executable} -m rlgo.cli go gtp --size 19 --time 1 --quiet"
    config = MatchConfig(black=rlgo, white=f"{gnugo_path} --mode gtp --level 1", games=1,
                         size=19, komi=7.5, time_per_move=1.0, sgf_dir=str(tmp_path),
                         referee=f"{gnugo_path} --mode gtp --chinese-rules", seed=5)
    result = run_match(config, progress=None)
    game = result.games[0]
    record = load_sgf_file(tmp_path / "game-001.sgf")
    assert record.rules.size == 19 and position_from_record(record).move_number == game.moves
    assert game.reason in ("score", "resign") and game.moves >= 100, game
    assert game.result.startswith("B+"), game  # rlgo (Black) wins
    rlgo_times = result.engines[0].move_times
    assert max(rlgo_times) < 2.5, max(rlgo_times)  # 1 s a move, with room for a busy machine
