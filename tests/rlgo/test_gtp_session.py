"""The GTP engine's session commands through handle_line: scoring, clean-up, clocks, SGF
records, and streaming analysis (through run() with a slow stdin)."""

from __future__ import annotations

import io
import re
import threading
import time

import numpy as np
import pytest

from agents.alphago.search.player import MoveInfo, SearchLimits
from tests.rlgo.test_gtp_engine import Scripted, V, ask, fails, make

# ---- the end of the game -----------------------------------------------------------------------

def _walled_game(engine):
    """Black owns columns A-C, White D-E of a 5x5 board, and White has a stone at A1."""
    for row in range(1, 6):
        ask(engine, f"play b c{row}")
        ask(engine, f"play w d{row}")
    ask(engine, "play w a1")
    ask(engine, "play b pass")
    ask(engine, "play w pass")


def test_final_score_without_and_with_dead_stones():
    engine = make(Scripted(), size=5)
    ask(engine, "komi 0.5")
    _walled_game(engine)
    # all stones alive: A1 makes Black's area a region that touches both colours
    assert ask(engine, "final_score") == engine.position.result()
    dead_engine = make(Scripted(dead=[V("A1", 5)]), size=5)
    ask(dead_engine, "komi 0.5")
    _walled_game(dead_engine)
    assert ask(dead_engine, "final_score") == "B+4.5"  # 15 - 10 - 0.5
    assert ask(dead_engine, "final_status_list dead") == "A1"
    alive = ask(dead_engine, "final_status_list alive").split("\n")
    assert alive == ["C5 C4 C3 C2 C1", "D5 D4 D3 D2 D1"]  # one chain per line
    assert ask(dead_engine, "final_status_list seki") == ""
    assert fails(dead_engine, "final_status_list sleepy") == "invalid status"
    assert fails(dead_engine, "final_status_list") == "invalid status"


def test_final_score_draw_and_random_player():
    engine = make(size=2)
    ask(engine, "komi 0")
    assert ask(engine, "final_score") == "0"
    engine = make()
    for _ in range(30):
        ask(engine, "genmove b")
        ask(engine, "genmove w")
    assert re.fullmatch(r"[BW]\+\d+(\.5)?|0", ask(engine, "final_score"))


def test_kgs_genmove_cleanup_captures_dead_stones_instead_of_passing():
    engine = make(Scripted(dead=[V("A1", 5)]), size=5)
    _walled_game(engine)
    move = ask(engine, "kgs-genmove_cleanup b")
    assert move in ("A2", "B1")  # a liberty of the dead stone
    assert engine.position.board[V(move, 5)] == 1
    quiet = make(Scripted(), size=5)
    _walled_game(quiet)
    assert ask(quiet, "kgs-genmove_cleanup b") == "pass"


# ---- clocks ------------------------------------------------------------------------------------

def test_time_commands_set_the_search_budget():
    player = Scripted(moves=[V("E5"), V("C3"), V("G7"), V("C7")])
    engine = make(player, limits=SearchLimits(visits=50))
    ask(engine, "genmove b")
    assert player.limits[-1] == SearchLimits(visits=50)
    ask(engine, "time_settings 60 0 0")
    ask(engine, "genmove w")
    assert player.limits[-1].visits == 50 and 0 < player.limits[-1].seconds <= 60 - 0.3
    ask(engine, "time_left b 2 0")
    ask(engine, "genmove b")
    assert player.limits[-1].seconds <= 1.7
    ask(engine, "kgs-time_settings byoyomi 0 10 3")
    ask(engine, "genmove w")
    assert 5 <= player.limits[-1].seconds <= 9.7
    ask(engine, "kgs-time_settings none")
    ask(engine, "time_settings 0 1 0")  # GTP: byo-yomi time without stones = no limit
    for bad in ["time_settings 1 2", "time_settings a 1 1", "time_left b", "time_left x 1 0",
                "kgs-time_settings", "kgs-time_settings byoyomi 1",
                "kgs-time_settings fischer 1 2", "time_settings nan 0 0", "time_left b 1 1.5"]:
        assert fails(engine, bad) == "syntax error"


HUGE = "9" * 400  # issue 22: a 400-digit number got in once and broke every later genmove


@pytest.mark.parametrize("line, error", [
    (f"time_left b 10 {HUGE}", "stones out of range (0 to 10000)"),
    (f"time_settings 0 0 {HUGE}", "stones out of range (0 to 10000)"),
    (f"time_settings {HUGE} 0 0", "time out of range (0 to 31536000 seconds)"),
    ("time_settings 0 1e300 1", "time out of range (0 to 31536000 seconds)"),
    ("time_settings inf 0 0", "time out of range (0 to 31536000 seconds)"),
    ("time_settings -1 0 0", "time out of range (0 to 31536000 seconds)"),
    ("time_left b 1 -2", "stones out of range (0 to 10000)"),
    ("time_left b -1e9 0", "time out of range (-31536000 to 31536000 seconds)"),
    (f"kgs-time_settings byoyomi 1 1 {HUGE}", "stones out of range (0 to 10000)"),
    ("kgs-time_settings absolute 1e400", "time out of range (0 to 31536000 seconds)"),
    (f"lz-analyze {HUGE}", "interval out of range (0 to 360000)"),
    ("lz-analyze b interval -5", "interval out of range (0 to 360000)"),
    (f"lz-analyze minmoves {HUGE}", "minmoves out of range (0 to 360000)"),
    (f"boardsize {HUGE}", "unacceptable size"),
    ("boardsize -9", "unacceptable size"),
    ("boardsize \u0669", "boardsize not an integer"),  # an Arabic-Indic nine: no GTP integer
    ("komi 1e400", "komi not a float"),
    ("komi -1001", "komi not a float"),
    (f"fixed_handicap {HUGE}", "invalid number of stones (2 to 9)"),
    (f"place_free_handicap -{HUGE}", "invalid number of stones (2 to 80)"),
    (f"loadsgf game.sgf {HUGE}", "invalid move number"),
])
def test_numeric_arguments_are_bounded_and_never_poison_genmove(line, error):
    player = Scripted()
    engine = make(player, limits=SearchLimits(visits=1))
    ask(engine, "time_settings 60 0 0")
    assert fails(engine, line) == error
    for color in "bw":  # the clock still gives budgets
        ask(engine, f"genmove {color}")
        assert 0 < player.limits[-1].seconds <= 60


def test_extreme_but_valid_clocks_still_give_budgets():
    player = Scripted()
    engine = make(player, limits=SearchLimits(visits=1))
    for line in ["time_settings 31536000 31536000 10000", "time_left b -5 0",
                 "kgs-time_settings byoyomi 1 1e-320 5", "time_left w 0.000001 10000"]:
        ask(engine, line)
        for color in "bw":
            ask(engine, f"genmove {color}")
            assert 0 < player.limits[-1].seconds <= 31536000


# ---- records -----------------------------------------------------------------------------------

def test_printsgf_and_loadsgf_round_trip(tmp_path):
    engine = make()
    ask(engine, "komi 6.5")
    for line in ["play b e5", "play w c3", "play b pass", "play w g7", "play b c7"]:
        ask(engine, line)
    text = ask(engine, "printsgf")
    assert text.startswith("(;") and "KM[6.5]" in text and "SZ[9]" in text
    path = tmp_path / "game.sgf"
    assert ask(engine, f"printsgf {path}") == ""
    fresh = make(size=19)
    assert ask(fresh, f"loadsgf {path}") == "white"
    assert fresh.rules == engine.rules
    assert np.array_equal(fresh.position.board, engine.position.board)
    assert fresh.position.moves() == engine.position.moves()
    assert ask(fresh, f"loadsgf {path} 3") == "black"  # replayed up to move 3: two moves
    assert fresh.position.move_number == 2
    ask(fresh, "undo")
    assert fresh.position.move_number == 1


def test_loadsgf_errors(tmp_path):
    engine = make()
    assert fails(engine, f"loadsgf {tmp_path / 'missing.sgf'}").startswith("cannot open or parse")
    broken = tmp_path / "broken.sgf"
    broken.write_text("(;GM[1]SZ[9];B[ee];W[")
    assert fails(engine, f"loadsgf {broken}").startswith("cannot open or parse")
    illegal = tmp_path / "illegal.sgf"
    illegal.write_text("(;GM[1]SZ[9];B[ee];W[ee])")
    assert fails(engine, f"loadsgf {illegal}").startswith("cannot replay")
    assert fails(engine, f"loadsgf {illegal} zero") == "move number not an integer"
    assert fails(engine, f"loadsgf {illegal} 0") == "invalid move number"
    assert fails(engine, "loadsgf") .startswith("loadsgf needs")
    assert fails(engine, f"printsgf {tmp_path / 'no' / 'such' / 'dir.sgf'}").startswith(
        "cannot write")
    assert ask(engine, "name") == "rlgo"


# ---- analysis ----------------------------------------------------------------------------------

class SlowLines:
    """A stdin that hands out its lines with a pause before each (so analysis gets time)."""

    def __init__(self, lines, pause):
        self.lines = list(lines)
        self.pause = pause

    def readline(self, limit=-1):
        if not self.lines:
            return ""
        time.sleep(self.pause)
        return self.lines.pop(0)


def test_lz_analyze_streams_until_the_next_line():
    info = MoveInfo(V("E5"), 120, 0.5312, 0.184, 0.51, (V("E5"), V("C3")))
    engine = make(Scripted(candidates=[info, MoveInfo(V("C3"), 3, 0.4, 0.1, 0.0)]))
    out = io.StringIO()
    lines = ["1 lz-analyze b 2\n", "2 name\n", "lz-analyze w interval 1 minmoves 3\n", "\n",
             "lz-analyze\n"]
    assert engine.run(SlowLines(lines, 0.15), out) == 0
    text = out.getvalue()
    first, second, third, fourth = text.split("\n\n")[:4]
    head, *infos = first.split("\n")
    assert head == "=1" and infos
    assert infos[0] == ("info move E5 visits 120 winrate 5312 prior 1840 lcb 5100 order 0 pv "
                        "E5 C3 info move C3 visits 3 winrate 4000 prior 1000 lcb 0 order 1 pv C3")
    assert second == "=2 rlgo"
    assert third.startswith("=\ninfo move")
    assert fourth.startswith("=\ninfo move")  # the blank line ended the third; EOF the fourth
    assert text.endswith("\n\n") and threading.active_count() < 10


def test_lz_analyze_bad_arguments_and_random_player():
    engine = make()
    assert fails(engine, "lz-analyze b fast") == "unsupported analyze argument 'fast'"
    assert fails(engine, "lz-analyze interval x") == "interval not an integer"
    out = io.StringIO()
    engine.run(SlowLines(["lz-analyze 10\n", "quit\n"], 0.05), out)
    assert out.getvalue() == "=\n\n= \n\n"  # the random player reports nothing


def test_gogui_analyze_commands():
    engine = make(Scripted(moves=[V("E5")], candidates=[MoveInfo(V("E5"), 9, 0.61, 0.3, 0.5)]))
    entries = ask(engine, "gogui-analyze_commands").split("\n")
    for entry in entries:
        kind, label, command = entry.split("/", 2)
        assert kind in ("gfx", "plist", "string", "dboard", "none") and label
        assert ask(engine, f"known_command {command.split()[0]}") == "true"
    assert ask(engine, "rlgo-candidates b") == "LABEL E5 61%\nTEXT scripted would play E5"
    assert engine.position.move_number == 0
