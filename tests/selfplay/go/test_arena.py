"""The arena: real GNU Go matches, forfeits by misbehaving engines, colours and accounting.

The fake engines (engines/fake_gtp.py) keep no board: "pass" always passes, "resign" resigns,
the others break the rules or the protocol in one way each.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from envs.go.gtp_client import GtpClient
from envs.go.rules import BLACK, WHITE, Rules
from envs.go.sgf import position_from_record
from envs.go.sgf_files import load_sgf_file
from rlgo.cli import main as rlgo_main
from selfplay.go.arena import MatchConfig, MatchError, play_game, run_match

FAKE = Path(__file__).parent / "engines" / "fake_gtp.py"


def fake(mode: str, name: str | None = None) -> str:
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE))} {mode}"
    return command + (f" --name {name}" if name else "")


def gnugo(path: str, level: int = 1) -> str:
    return f"{shlex.quote(path)} --mode gtp --level {level}"


def check_sgfs(result, directory: Path, count: int) -> list:
    """Every game's SGF exists, replays legally, and its RE is the recorded result."""
    files = sorted(directory.glob("*.sgf"))
    assert [f.name for f in files] == [f"game-{i:03d}.sgf" for i in range(1, count + 1)]
    assert not list(directory.glob(".*"))  # no temporary files left behind
    records = []
    for game, path in zip(result.games, files, strict=True):
        assert game.sgf == str(path)
        record = load_sgf_file(path)
        position = position_from_record(record)  # raises on an illegal move
        assert record.result == game.result
        assert len(record.moves) == game.moves == position.move_number
        assert record.rules.komi == result.config.komi and record.date
        assert record.ruleset and "rlgo match game" in record.extra["C"][0]
        records.append(record)
    return records


# ---- real GNU Go ----------------------------------------------------------------------------

@pytest.mark.gnugo
def test_gnugo_against_itself_finishes_and_saves_legal_sgfs(gnugo_path, tmp_path, capsys):
    config = MatchConfig(gnugo(gnugo_path), gnugo(gnugo_path), games=2, size=9, komi=7,
                         time_per_move=1, sgf_dir=str(tmp_path), seed=3)
    start = time.monotonic()
    result = run_match(config)
    elapsed = time.monotonic() - start
    assert len(result.games) == 2 and elapsed < 60
    records = check_sgfs(result, tmp_path, 2)
    for game, record in zip(result.games, records, strict=True):
        assert game.reason in ("score", "resign") and game.moves >= 10
        assert record.player_black == record.player_white == "GNU Go 3.8"
        if game.reason == "score":  # no referee: our Tromp-Taylor count decides
            assert position_from_record(record).result() == game.result
    a, b = result.engines
    assert a.wins + b.wins + a.draws == 2 and a.forfeits == b.forfeits == 0
    assert a.games_black == a.games_white == 1 and a.move_times and b.move_times
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line[:9] for line in lines] == ["game 1/2:", "game 2/2:"]


@pytest.mark.gnugo
@pytest.mark.parametrize("mode", ["illegal", "hang"])
def test_a_broken_engine_forfeits_against_gnugo(gnugo_path, tmp_path, mode):
    config = MatchConfig(fake(mode), gnugo(gnugo_path), games=2, sgf_dir=str(tmp_path),
                         move_timeout=2.0)  # GNU Go's own moves take up to ~1 s
    result = run_match(config, progress=None)
    a, b = result.engines
    assert (a.losses, a.forfeits, b.wins) == (2, 2, 2)
    assert [g.result for g in result.games] == ["W+Forfeit", "B+Forfeit"]
    reason = "illegal move E5 (occupied)" if mode == "illegal" else "no answer within 2 s"
    assert all(reason in g.detail for g in result.games)
    records = check_sgfs(result, tmp_path, 2)
    assert reason in records[0].extra["C"][0]


@pytest.mark.gnugo
def test_gnugo_beats_a_passer_with_either_colour_and_the_referee_scores(gnugo_path, tmp_path):
    config = MatchConfig(gnugo(gnugo_path), fake("pass"), games=2, sgf_dir=str(tmp_path),
                         referee=f"{shlex.quote(gnugo_path)} --mode gtp --chinese-rules")
    result = run_match(config, progress=None)
    a = result.engines[0]
    assert (a.wins, a.wins_black, a.wins_white) == (2, 1, 1)
    assert all(g.reason == "score" and "referee" in g.detail for g in result.games)
    check_sgfs(result, tmp_path, 2)


@pytest.mark.gnugo
def test_play_game_adjudicates_at_the_move_cap(gnugo_path):
    with GtpClient(gnugo(gnugo_path)) as black, GtpClient(gnugo(gnugo_path)) as white:
        outcome = play_game(black, white, Rules(size=9, komi=7, ko="simple"), 10.0, max_moves=8)
    assert outcome.reason == "move limit" and outcome.moves == 8
    assert outcome.result == outcome.position.result() and "adjudicated" in outcome.detail
    assert len(outcome.move_times[BLACK]) == len(outcome.move_times[WHITE]) == 4


# ---- fake engines only (no GNU Go needed) ---------------------------------------------------

@pytest.mark.parametrize(("mode", "reason"), [
    ("illegal", "illegal move E5 (occupied)"),
    ("garbage", "unparsable move 'banana'"),
    ("error", "GTP error: cannot play"),
    ("crash", "engine died"),
    ("hang", "no answer within 1 s (hung; killed)"),
])
def test_every_kind_of_misbehaviour_forfeits_and_the_match_goes_on(mode, reason, tmp_path):
    config = MatchConfig(fake("pass"), fake(mode), games=3, sgf_dir=str(tmp_path),
                         move_timeout=1.0)
    result = run_match(config, progress=None)
    assert len(result.games) == 3
    a, b = result.engines
    assert (a.wins, b.losses, b.forfeits, a.forfeits) == (3, 3, 3, 0)
    assert [g.result for g in result.games] == ["B+Forfeit", "W+Forfeit", "B+Forfeit"]
    for game in result.games:
        assert game.reason == "forfeit" and game.loser == "B" and reason in game.detail
    check_sgfs(result, tmp_path, 3)


def test_colours_alternate_and_results_count_per_engine(tmp_path):
    # Two passers on an empty board: White wins every game by komi, so each engine wins
    # exactly the games in which it has White.
    config = MatchConfig(fake("pass", "alpha"), fake("pass", "beta"), games=4, komi=7,
                         sgf_dir=str(tmp_path))
    result = run_match(config, progress=None)
    assert [(g.black, g.white, g.result) for g in result.games] == [
        ("A", "B", "W+7"), ("B", "A", "W+7"), ("A", "B", "W+7"), ("B", "A", "W+7")]
    a, b = result.engines
    assert (a.name, b.name) == ("alpha 0.1", "beta 0.1")
    for engine in (a, b):
        assert (engine.wins, engine.losses, engine.draws) == (2, 2, 0)
        assert (engine.wins_black, engine.wins_white) == (0, 2)
        assert engine.games_black == engine.games_white == 2
    records = check_sgfs(result, tmp_path, 4)
    assert [r.player_black for r in records] == ["alpha 0.1", "beta 0.1"] * 2
    assert [r.player_white for r in records] == ["beta 0.1", "alpha 0.1"] * 2


def test_without_alternation_engine_a_always_has_black():
    config = MatchConfig(fake("pass"), fake("pass"), games=3, komi=5.5, alternate=False)
    result = run_match(config, progress=None)
    assert all(g.black == "A" and g.result == "W+5.5" for g in result.games)
    assert result.engines[1].wins_white == 3 and result.a_vs_b.rate == 0


def test_draws_and_resignations():
    draws = run_match(MatchConfig(fake("pass"), fake("pass"), games=2, komi=0), progress=None)
    assert [g.result for g in draws.games] == ["0", "0"]
    assert draws.engines[0].draws == 2 and draws.a_vs_b.rate == 0.5
    resigns = run_match(MatchConfig(fake("resign"), fake("pass"), games=2), progress=None)
    assert [g.result for g in resigns.games] == ["W+R", "B+R"]
    assert resigns.engines[0].losses == 2 and resigns.engines[0].forfeits == 0
    assert [(g.reason, g.moves) for g in resigns.games] == [("resign", 0), ("resign", 1)]


def test_a_referee_that_says_nothing_useful_falls_back_to_the_area_count():
    config = MatchConfig(fake("pass"), fake("pass"), games=1, referee=fake("pass"))
    result = run_match(config, progress=None)
    assert result.games[0].result == "W+7.5"  # envs.go.DEFAULT_KOMI
    assert "referee said ''" in result.games[0].detail


def test_play_game_with_clients_directly():
    with GtpClient(fake("pass")) as black, GtpClient(fake("illegal")) as white:
        outcome = play_game(black, white, Rules(size=5, komi=0.5), move_timeout=5.0)
    assert (outcome.result, outcome.winner, outcome.forfeit) == ("B+Forfeit", BLACK, WHITE)
    assert outcome.reason == "forfeit" and "illegal move E5 (occupied)" in outcome.detail
    assert outcome.moves == 3  # pass, E5 (legal the first time), pass; then E5 again


def test_an_engine_that_cannot_start_is_a_match_error(tmp_path):
    with pytest.raises(MatchError, match="engine A .* did not start"):
        run_match(MatchConfig(str(tmp_path / "no-such-engine"), fake("pass")), progress=None)
    with pytest.raises(MatchError, match="engine B .* did not start"):
        run_match(MatchConfig(fake("pass"), "true"), progress=None)
    with pytest.raises(MatchError, match="games"):
        MatchConfig("a", "b", games=0)
    with pytest.raises(ValueError, match="ko rule"):
        MatchConfig("a", "b", ko="japanese")


def test_command_line(tmp_path, capsys):
    code = rlgo_main(["go", "match", "--black", fake("pass"), "--white", fake("garbage"),
                      "--games", "2", "--sgf-dir", str(tmp_path / "games"), "--time", "0.5",
                      "--seed", "7"])
    assert code == 0
    captured = capsys.readouterr()
    assert "A vs B: score 2/2" in captured.out and "unparsable move" in captured.out
    assert captured.err.count("\n") == 2 and captured.err.startswith("game 1/2: A (black)")
    assert len(list((tmp_path / "games").glob("game-*.sgf"))) == 2

    nope = str(tmp_path / "nope")
    assert rlgo_main(["go", "match", "--black", nope, "--white", fake("pass")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlgo: error: engine A") and err.count("\n") == 1
    assert rlgo_main(["go", "match", "--black", "x", "--white", "y", "--games", "0"]) == 2
    assert "--games" in capsys.readouterr().err
    assert rlgo_main(["go", "match", "--black", "x", "--white", "y", "--size", "1"]) == 2
    assert "board size" in capsys.readouterr().err
    # a GNU Go referee in its default (territory) rules would count area-scored games wrongly
    territory = ["go", "match", "--black", "x", "--white", "y", "--referee",
                 "/usr/games/gnugo --mode gtp"]
    assert rlgo_main(territory) == 2
    assert "--chinese-rules" in capsys.readouterr().err


def games_recorded(games):
    """Finished games in DIR/match.json (rewritten atomically after each game's SGF)."""
    state = games / "match.json"
    return len(json.loads(state.read_text())["games"]) if state.exists() else 0


def test_a_killed_match_resumes_where_it_stopped(tmp_path):
    # Engine B hangs on every genmove, so each game lasts its 1 s timeout; SIGKILL mid-match.
    games = tmp_path / "games"
    argv = [sys.executable, "-m", "rlgo.cli", "go", "match", "--engine-a", fake("pass"),
            "--engine-b", fake("hang"), "--games", "4", "--move-timeout", "1", "--size", "5",
            "--sgf-dir", str(games)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while games_recorded(games) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.kill()  # SIGKILL, in game 3 (or just after it): nothing is cleaned up
    finally:
        proc.wait()
    played = games_recorded(games)
    assert played in (2, 3)
    with pytest.raises(MatchError, match="already holds a match: pass --resume"):
        run_match(MatchConfig(fake("pass"), fake("hang"), games=4, size=5, move_timeout=1,
                              sgf_dir=str(games)), progress=None)
    with pytest.raises(MatchError, match="it was played with size=5, not 9"):
        run_match(MatchConfig(fake("pass"), fake("hang"), games=4, move_timeout=1,
                              sgf_dir=str(games), resume=True), progress=None)
    lines = []
    config = MatchConfig(fake("pass"), fake("hang"), games=5, size=5, move_timeout=1,
                         sgf_dir=str(games), resume=True)
    result = run_match(config, progress=lines.append)
    assert lines[0].startswith(f"resuming the match in {games}: {played} of 5 games played, A ")
    assert len(lines) == 1 + 5 - played and lines[-1].startswith("game 5/5")
    assert [g.number for g in result.games] == [1, 2, 3, 4, 5]
    assert [g.result for g in result.games] == ["B+Forfeit", "W+Forfeit"] * 2 + ["B+Forfeit"]
    a, b = result.engines
    assert (a.wins, b.forfeits, a.games_black, b.games_black) == (5, 5, 3, 2)
    assert a.name == "fake-pass 0.1" and len(b.move_times) == 0  # a forfeit counts no time
    check_sgfs(result, games, 5)
    again = run_match(config, progress=None)  # finished: nothing to play, the same summary
    assert [g.result for g in again.games] == [g.result for g in result.games]


def test_register_adds_match_to_a_go_parser():
    import argparse

    from rlgo.commands.match import register

    parser = argparse.ArgumentParser(prog="rlgo")
    go = parser.add_subparsers(dest="command")
    register(go)
    args = parser.parse_args(["match", "--black", "a", "--white", "b", "--no-alternate"])
    assert args.games == 10 and args.alternate is False and callable(args.func)
