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
