"""The GTP engine command by command, through handle_line (and run() for streaming analysis)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from agents.alphago.search.player import Decision, RandomPlayer, SearchLimits
from envs.go import PASS, RESIGN, Rules, free_handicap_points, from_gtp
from rlgo import __version__
from rlgo.gtp import COMMANDS, GtpEngine
from rlgo.gtp.protocol import MAX_LINE, read_lines


class Scripted:
    """A player with scripted answers that records what it was asked."""

    name = "scripted"

    def __init__(self, moves=(), dead=(), candidates=(), fail=False):
        self.moves = list(moves)
        self.dead = list(dead)
        self.candidates = tuple(candidates)
        self.fail = fail
        self.limits: list[SearchLimits] = []
        self.cleared = 0

    def genmove(self, position, limits):
        self.limits.append(limits)
        if self.fail:
            raise RuntimeError("boom")
        return Decision(self.moves.pop(0) if self.moves else PASS, 0.5, self.candidates)

    def analyze(self, position, report, stop, interval):
        while not stop.is_set():
            report(list(self.candidates))
            stop.wait(interval)

    def dead_stones(self, position):
        return np.array(self.dead, dtype=np.int64)

    def clear(self):
        self.cleared += 1


def make(player=None, size=9, **kwargs) -> GtpEngine:
    if player is None:
        return GtpEngine(player_factory=lambda s: RandomPlayer(seed=1), rules=Rules(size=size),
                         log=None, **kwargs)
    return GtpEngine(player, rules=Rules(size=size), log=None, **kwargs)


def ask(engine: GtpEngine, line: str) -> str:
    """The response text without '= ' and the blank line; '?' responses raise AssertionError
    unless the caller uses fails()."""
    response = engine.handle_line(line)
    assert response is not None and response.endswith("\n\n"), repr(response)
    assert response.startswith("="), response
    return response[1:].lstrip("0123456789")[1:-2]


def fails(engine: GtpEngine, line: str) -> str:
    response = engine.handle_line(line)
    assert response is not None and response.startswith("?"), response
    assert response.endswith("\n\n") and response.count("\n") == 2
    return response[1:].lstrip("0123456789")[1:-2]


def V(vertex: str, size: int = 9) -> int:
    return from_gtp(vertex, size)


# ---- protocol ----------------------------------------------------------------------------------

def test_administration_commands():
    engine = make()
    assert engine.handle_line("protocol_version") == "= 2\n\n"
    assert ask(engine, "name") == "rlgo"
    # Lizzie (featurecat/lizzie Leelaz.java) reads the first word as Leela Zero's version and
    # needs the number after its first dot to be at least 15; rlgo's own version follows
    version = ask(engine, "version")
    assert version == f"0.17 (Leela Zero GTP extensions; rlgo {__version__})"
    assert int(version.split(" ")[0].split(".")[1]) >= 15
    assert ask(engine, "known_command genmove") == "true"
    assert ask(engine, "known_command lz-analyze") == "true"
    assert ask(engine, "known_command frobnicate") == "false"
    listed = ask(engine, "list_commands").split("\n")
    assert listed == list(COMMANDS)
    assert all(ask(engine, f"known_command {c}") == "true" for c in listed)


def test_ids_are_echoed_on_success_and_failure():
    engine = make()
    assert engine.handle_line("12 protocol_version") == "=12 2\n\n"
    assert engine.handle_line("7 frobnicate") == "?7 unknown command\n\n"
    assert engine.handle_line("3 boardsize 99") == "?3 unacceptable size\n\n"
    assert engine.handle_line("0 clear_board") == "=0 \n\n"
    assert engine.handle_line("42") == "?42 no command\n\n"


@pytest.mark.parametrize("line", ["", "   ", "\t", "# a comment", "  # indented comment",
                                  "\r", "\x00\x01\x02", "\x7f# x"])
def test_blank_and_comment_lines_get_no_response(line):
    assert make().handle_line(line) is None


def test_preprocessing_cr_tabs_controls_and_comments():
    engine = make()
    assert engine.handle_line("1 name # the engine's name\r\n") == "=1 rlgo\n\n"
    assert engine.handle_line("2\tknown_command\tplay\r") == "=2 true\n\n"
    assert engine.handle_line("na\x00m\x1be\n") == "= rlgo\n\n"  # control characters vanish
    assert engine.handle_line("NAME") == "= rlgo\n\n"  # names are accepted in any case
    assert engine.handle_line("boardsize 9 # 19") == "= \n\n"


def test_junk_lines_are_answered_not_fatal():
    engine = make()
    for line in ["\u00e9\u00e8 \u4e2d\u6587", "\ufffd\ufffd", "play \u0661 \u0662", "x" * 70000,
                 "play b " + "D4" * 5000, "genmove b w", "known_command"]:
        assert engine.handle_line(line).startswith("?")
    assert engine.handle_line("name") == "= rlgo\n\n"


def test_cut_lines_and_read_lines_on_binary_junk():
    data = b"name\n" + b"x" * (MAX_LINE + 10) + b"\n\xff\xfe\x00name\nprotocol_version"
    lines = list(read_lines(io.BytesIO(data)))
    assert [cut for _, cut in lines] == [False, True, False, False]
    assert lines[2][0] == "\ufffd\ufffd\x00name\n"
    assert make().handle_line(lines[1][0], lines[1][1]) == "? line too long\n\n"


# ---- board set-up ------------------------------------------------------------------------------

def test_boardsize_and_clear_board():
    engine = make()
    assert fails(engine, "boardsize 1") == "unacceptable size"
    assert fails(engine, "boardsize 26") == "unacceptable size"
    assert fails(engine, "boardsize nine") == "boardsize not an integer"
    assert fails(engine, "boardsize") == "boardsize not an integer"
    ask(engine, "play b e5")
    ask(engine, "boardsize 25")
    assert engine.rules.size == 25 and not engine.position.board.any()
    ask(engine, "play b Z25")
    ask(engine, "clear_board")
    assert not engine.position.board.any() and engine.rules.size == 25


def test_boardsize_rebuilds_the_player_only_when_the_size_changes():
    built = []

    def factory(size):
        built.append(size)
        return Scripted()

    engine = GtpEngine(player_factory=factory, rules=Rules(size=9), log=None)
    ask(engine, "boardsize 9")
    ask(engine, "boardsize 13")
    assert built == [9, 13]
    assert engine.player.cleared == 1


def test_komi_keeps_the_game():
    engine = make()
    ask(engine, "play b e5")
    ask(engine, "play w c3")
    ask(engine, "komi 0.5")
    assert engine.rules.komi == 0.5 and engine.position.rules.komi == 0.5
    assert engine.position.board[V("E5")] == 1 and engine.position.move_number == 2
    assert fails(engine, "komi seven") == "komi not a float"
    assert fails(engine, "komi nan") == "komi not a float"
    assert fails(engine, "komi") == "komi not a float"
    ask(engine, "komi -3")
    assert engine.rules.komi == -3


def test_play_accepts_any_colour_order_and_passes():
    engine = make()
    for line in ["play b d4", "play black e5", "play B C3", "play w pass", "play WHITE pass",
                 "play w PASS", "play b pass"]:
        ask(engine, line)
    assert engine.position.board[V("D4")] == engine.position.board[V("C3")] == 1
    assert fails(engine, "play w d4") == "illegal move: D4 is occupied"
    assert fails(engine, "play b i5") == "invalid color or coordinate"
    assert fails(engine, "play b k10") == "invalid color or coordinate"
    assert fails(engine, "play red d4") == "invalid color or coordinate"
    assert fails(engine, "play b resign") == "invalid color or coordinate"
    assert fails(engine, "play b") == "invalid color or coordinate"
    assert fails(engine, "play b d5 d6") == "invalid color or coordinate"


def test_suicide_and_ko_are_illegal_moves():
    engine = make(size=5)
    for line in ["play b b5", "play b a4", "play w c5", "play w b4", "play w a3"]:
        ask(engine, line)
    assert fails(engine, "play b a5") == "illegal move: A5 would be suicide"
    ask(engine, "clear_board")
    for line in ["play b b1", "play b a2", "play b b3", "play w c1", "play w c3", "play w d2",
                 "play b c2", "play w b2"]:  # white captures at b2: a ko
        ask(engine, line)
    assert fails(engine, "play b c2") == "illegal move: C2 retakes the ko"


def test_play_accepts_a_controllers_move_that_only_breaks_superko():
    """A controller refereeing by simple ko (GNU Go, KGS) may retake a ko after both passed,
    repeating an earlier board: that is its call (as KataGo's GTP play tolerates it), while
    genmove keeps to positional superko."""
    engine = make(size=5)
    for line in ["play b b1", "play b a2", "play b b3", "play w c1", "play w c3", "play w d2",
                 "play b c2", "play w b2", "play b pass", "play w pass"]:
        ask(engine, line)
    repeated = engine.position.parent.parent.parent.board.copy()  # after black's c2
    ask(engine, "play b c2")  # retakes: the board after black's c2 again
    assert (engine.position.board == repeated).all()
    assert not engine.position.parent.is_legal(V("c2", 5))  # the engine's own rule: superko
    # the ko ban itself still holds
    assert fails(engine, "play w b2") == "illegal move: B2 retakes the ko"


# ---- moves -------------------------------------------------------------------------------------

def test_genmove_plays_a_legal_move_into_the_game():
    engine = make()
    before = engine.position
    vertex = ask(engine, "genmove b")
    move = V(vertex)
    assert before.is_legal(move) and engine.position.board[move] == 1
    vertex = ask(engine, "genmove b")  # the same colour twice is fine
    assert engine.position.board[V(vertex)] == 1 and engine.position.parent.parent is before


def test_reg_genmove_leaves_the_game_alone():
    engine = make()
    assert V(ask(engine, "reg_genmove w")) >= 0
    assert engine.position.move_number == 0
    assert fails(engine, "reg_genmove") == "invalid color"
    assert fails(engine, "genmove purple") == "invalid color"


def test_genmove_after_the_game_ended_passes():
    engine = make()
    ask(engine, "play b pass")
    ask(engine, "play w pass")
    assert ask(engine, "genmove b") == "pass"
    assert ask(engine, "genmove w") == "pass"
    assert ask(engine, "showboard")


def test_resign_is_answered_but_not_played():
    engine = make(Scripted(moves=[RESIGN]))
    ask(engine, "play b e5")
    assert ask(engine, "genmove w") == "resign"
    assert engine.position.move_number == 1
    ask(engine, "play w c3")  # the controller may still go on


def test_an_illegal_move_from_the_player_becomes_a_pass():
    engine = make(Scripted(moves=[V("E5")]))
    ask(engine, "play b e5")
    assert ask(engine, "genmove w") == "pass"


def test_a_crashing_player_is_an_error_response_not_a_crash():
    engine = make(Scripted(fail=True))
    assert fails(engine, "genmove b") == "internal error: RuntimeError"
    assert ask(engine, "name") == "rlgo"


def test_undo():
    engine = make()
    assert fails(engine, "undo") == "cannot undo"
    ask(engine, "play b e5")
    ask(engine, "genmove w")
    ask(engine, "undo")
    ask(engine, "undo")
    assert not engine.position.board.any()
    assert fails(engine, "undo") == "cannot undo"


def test_showboard():
    engine = make(size=5)
    ask(engine, "play b c3")
    response = engine.handle_line("showboard")
    lines = response.split("\n")
    assert lines[0] == "= " and response.endswith("\n\n") and "" not in lines[1:-2]
    assert lines[1].split() == list("ABCDE")
    assert "(X)" in response and "White to play" in response


# ---- handicap ----------------------------------------------------------------------------------

def test_fixed_handicap():
    engine = make(size=19)
    assert ask(engine, "fixed_handicap 4").split() == ["D4", "Q16", "D16", "Q4"]
    assert engine.position.to_play == 2
    assert fails(engine, "fixed_handicap 2") == "board not empty"
    ask(engine, "clear_board")
    for bad in ["1", "10"]:
        assert fails(engine, f"fixed_handicap {bad}") == "invalid number of stones (2 to 9)"
    for bad in ["x", ""]:
        assert fails(engine, f"fixed_handicap {bad}") == "invalid number of stones"
    assert len(ask(engine, "fixed_handicap 9").split()) == 9
    ask(engine, "boardsize 5")
    assert fails(engine, "fixed_handicap 2") == "invalid number of stones (none on this board size)"


def test_place_free_handicap_uses_the_fixed_layout_then_spreads():
    engine = make(size=19)
    assert ask(engine, "place_free_handicap 4").split() == ["D4", "Q16", "D16", "Q4"]
    ask(engine, "clear_board")
    assert len(set(ask(engine, "place_free_handicap 12").split())) == 12
    ask(engine, "boardsize 5")
    stones = ask(engine, "place_free_handicap 3").split()
    assert len(set(stones)) == 3 and engine.position.to_play == 2
    ask(engine, "clear_board")
    assert len(set(ask(engine, "place_free_handicap 24").split())) == 24
    ask(engine, "clear_board")
    assert fails(engine, "place_free_handicap 25") == "invalid number of stones (2 to 24)"
    assert fails(engine, "place_free_handicap 1") == "invalid number of stones (2 to 24)"
    for size in range(2, 8):
        points = free_handicap_points(size, size * size - 1)
        assert len(set(points)) == size * size - 1 and all(0 <= p < size * size for p in points)


def test_set_free_handicap():
    engine = make()
    assert ask(engine, "set_free_handicap c3 g7 e5") == ""
    assert sorted(np.flatnonzero(engine.position.board)) == sorted(V(v) for v in ("C3", "G7", "E5"))
    assert engine.position.to_play == 2
    assert fails(engine, "set_free_handicap a1 a2") == "board not empty"
    ask(engine, "clear_board")
    assert fails(engine, "set_free_handicap a1") == "invalid number of stones (2 to 80)"
    assert fails(engine, "set_free_handicap a1 a1") == "bad vertex list: repeated vertex A1"
    assert fails(engine, "set_free_handicap a1 pass") == \
        "bad vertex list: pass is no handicap stone"
    assert fails(engine, "set_free_handicap a1 z9") == "invalid coordinate z9"
    assert fails(engine, "set_free_handicap a1 a2 resign") == "invalid coordinate resign"
    assert fails(engine, "set_free_handicap " + "a1 " * 81) == "invalid number of stones (2 to 80)"
    assert not np.any(engine.position.board)  # nothing placed by a refused list


def test_quit_ends_run_with_status_zero():
    engine = make()
    out = io.StringIO()
    status = engine.run(io.StringIO("name\nquit\nname\n"), out)
    assert status == 0 and out.getvalue() == "= rlgo\n\n= \n\n"
    assert make().run(io.StringIO("1 name"), io.StringIO()) == 0  # EOF without a newline


def test_stray_prints_in_player_code_go_to_stderr(capsys):
    class Chatty(Scripted):
        def genmove(self, position, limits):
            print("thinking hard...")
            return super().genmove(position, limits)

    out = io.StringIO()
    make(Chatty(moves=[V("E5")])).run(io.StringIO("genmove b\n"), out)
    assert out.getvalue() == "= E5\n\n"
    assert "thinking hard" in capsys.readouterr().err
