"""The rules of Go as Position plays them, one fixture at a time.

Boards are ASCII diagrams (Position.from_ascii: 'X' black, 'O' white, '.' empty, top row
first); moves are GTP vertices, so 'A1' is the bottom-left corner.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from envs.go.coords import (
    GTP_COLUMNS,
    PASS,
    RESIGN,
    from_gtp,
    from_rowcol,
    from_sgf,
    to_gtp,
    to_rowcol,
    to_sgf,
)
from envs.go.errors import BadSize, BadVertex, GoError, IllegalMove
from envs.go.position import Position
from envs.go.rules import BLACK, EMPTY, WHITE, Rules, fixed_handicap, max_fixed_handicap


def play(pos: Position, *vertices: str) -> Position:
    """Play GTP vertices in turn, alternating colours as the position says."""
    for vertex in vertices:
        pos = pos.play(from_gtp(vertex, pos.size))
    return pos


def reason(pos: Position, vertex: str, color: int | None = None) -> str:
    """The IllegalMove reason for playing `vertex`; fails the test if the move is legal."""
    with pytest.raises(IllegalMove) as err:
        pos.play(from_gtp(vertex, pos.size), color)
    return err.value.reason


def board(diagram: str) -> list[int]:
    return Position.from_ascii(diagram).board.tolist()


def stones(pos: Position, color: int) -> set[str]:
    return {to_gtp(p, pos.size) for p in np.flatnonzero(pos.board == color).tolist()}


# ---- captures ---------------------------------------------------------------------------------

def test_single_capture():
    pos = Position.from_ascii("""
        . . . . .
        . . X . .
        . X O . .
        . . X . .
        . . . . .
    """)
    after = play(pos, "D3")
    assert after.board.tolist() == board("""
        . . . . .
        . . X . .
        . X . X .
        . . X . .
        . . . . .
    """)
    assert after.prisoners == (1, 0)
    assert after.ko == -1  # the capturing stone has four liberties: no ko
    assert after.to_play == WHITE
    assert pos.board[from_gtp("C3", 5)] == WHITE  # the old position is untouched


def test_capture_of_several_groups_in_one_move():
    pos = Position.from_ascii("""
        . X O X .
        X O . O X
        . X O X .
        . X O X .
        . . X . .
    """)
    after = play(pos, "C4")  # takes C5, B4, D4 and the two-stone group C3-C2
    assert after.board.tolist() == board("""
        . X . X .
        X . X . X
        . X . X .
        . X . X .
        . . X . .
    """)
    assert after.prisoners == (5, 0)
    assert after.ko == -1


def test_white_captures_count_for_white():
    pos = Position.from_ascii("""
        . . . . .
        . O X O .
        . . O . .
        . . . . .
        . . . . .
    """, to_play=WHITE)
    after = play(pos, "C5")
    assert after.board[from_gtp("C4", 5)] == EMPTY
    assert after.prisoners == (0, 1)


@pytest.mark.parametrize("diagram,move,taken", [
    # on the top edge
    (""". X O X .
        . . . . .
        . . . . .
        . . . . .
        . . . . .""", "C4", {"C5"}),
    # a lone stone in the top-left corner
    ("""O X . . .
        . . . . .
        . . . . .
        . . . . .
        . . . . .""", "A4", {"A5"}),
    # two stones along the bottom edge into the corner
    (""". . . . .
        . . . . .
        . . . . .
        X X . . .
        O O . . .""", "C1", {"A1", "B1"}),
    # two stones in the bottom-right corner
    (""". . . . .
        . . . . .
        . . . . X
        . . . X O
        . . . . O""", "D1", {"E2", "E1"}),
])
def test_capture_at_the_edge_and_in_the_corner(diagram, move, taken):
    pos = Position.from_ascii(diagram)
    after = play(pos, move)
    assert stones(after, WHITE) == stones(pos, WHITE) - taken
    assert stones(after, BLACK) == stones(pos, BLACK) | {move}
    assert after.prisoners == (len(taken), 0)


def test_snapback():
    pos = Position.from_ascii("""
        . . . . .
        . . . . .
        X X X X .
        X O O O X
        X O . . X
    """)
    thrown_in = play(pos, "C1")  # self-atari: the stone's only liberty is D1
    assert thrown_in.prisoners == (0, 0)
    taken = play(thrown_in, "D1")  # White captures the one stone...
    assert taken.prisoners == (0, 1)
    assert taken.board[from_gtp("C1", 5)] == EMPTY
    assert taken.ko == -1  # ...with a five-stone group: no ko
    snapped = play(taken, "C1")  # ...and Black takes all five back at once
    assert snapped.board.tolist() == board("""
        . . . . .
        . . . . .
        X X X X .
        X . . . X
        X . X . X
    """)
    assert snapped.prisoners == (5, 1)


# ---- suicide ----------------------------------------------------------------------------------

SINGLE_SUICIDE = """
    . O . . .
    O . . . .
    . . . . .
    . . . . .
    . . . . .
"""

MULTI_SUICIDE = """
    . . . . .
    . . . . .
    O O . . .
    X X O . .
    . O . . .
"""


@pytest.mark.parametrize("diagram,move", [
    (SINGLE_SUICIDE, "A5"),
    (""". . . . .
        . . O . .
        . O . O .
        . . O . .
        . . . . .""", "C3"),
    (MULTI_SUICIDE, "A1"),  # would leave A1-A2-B2 without liberties, capturing nothing
])
def test_suicide_is_illegal_by_default(diagram, move):
    pos = Position.from_ascii(diagram)
    assert reason(pos, move) == "suicide"
    assert not pos.legal_moves()[from_gtp(move, 5)]
    assert pos.illegal_reason(from_gtp(move, 5)) == "suicide"


def test_allowed_suicide_removes_the_group_and_scores_it_for_the_opponent():
    pos = Position.from_ascii(MULTI_SUICIDE, suicide=True)
    assert pos.legal_moves()[from_gtp("A1", 5)]
    after = play(pos, "A1")
    assert after.board.tolist() == board("""
        . . . . .
        . . . . .
        O O . . .
        . . O . .
        . O . . .
    """)
    assert after.prisoners == (0, 3)
    assert after.to_play == WHITE
    assert after.ko == -1


def test_allowed_single_stone_suicide_repeats_the_board():
    """Suicide of one stone leaves the board as it was: a pass under simple ko (with a prisoner
    for the opponent), a repetition that positional superko forbids."""
    simple = Position.from_ascii(SINGLE_SUICIDE, suicide=True, ko="simple")
    after = play(simple, "A5")
    assert np.array_equal(after.board, simple.board)
    assert after.prisoners == (0, 1)
    positional = Position.from_ascii(SINGLE_SUICIDE, suicide=True, ko="positional")
    assert reason(positional, "A5") == "superko"
    assert not positional.legal_moves()[0]


# ---- ko and superko ---------------------------------------------------------------------------

KO = """
    . . . . .
    . X O . .
    X O . O .
    . X O . .
    . . . . .
"""


@pytest.mark.parametrize("ko_rule", ["positional", "simple"])
def test_simple_ko(ko_rule):
    pos = Position.from_ascii(KO, ko=ko_rule)
    taken = play(pos, "C3")  # no liberty until B3 is captured: capture comes before suicide
    assert taken.board[from_gtp("B3", 5)] == EMPTY
    assert taken.prisoners == (1, 0)
    assert taken.ko == from_gtp("B3", 5)
    assert reason(taken, "B3") == "ko"  # under either ko rule
    assert not taken.legal_moves()[from_gtp("B3", 5)]
    # A ko threat and its answer elsewhere make the recapture legal again.
    retaken = play(taken, "E5", "E1", "B3")
    assert retaken.board[from_gtp("C3", 5)] == EMPTY
    assert retaken.prisoners == (1, 1)
    assert retaken.ko == from_gtp("C3", 5)
    assert reason(retaken, "C3") == "ko"


def test_pass_clears_the_ko_point():
    taken = play(Position.from_ascii(KO), "C3")
    assert play(taken, "pass").ko == -1


def test_ko_point_binds_only_the_player_to_move():
    taken = play(Position.from_ascii(KO), "C3")
    assert taken.to_play == WHITE and taken.ko == from_gtp("B3", 5)
    assert reason(taken, "B3", WHITE) == "ko"
    filled = taken.play(from_gtp("B3", 5), BLACK)  # Black may fill its own eye there
    assert filled.board[from_gtp("B3", 5)] == BLACK
    assert filled.to_play == WHITE
    assert filled.ko == -1


@pytest.mark.parametrize("ko_rule", ["positional", "simple"])
def test_retaking_a_ko_after_two_passes(ko_rule):
    """Black takes the ko, both pass, White retakes: the board is the one the game started
    from, which only positional superko forbids."""
    over = play(Position.from_ascii(KO, ko=ko_rule), "C3", "pass", "pass")
    assert over.is_game_over()
    assert over.ko == -1
    if ko_rule == "positional":
        assert reason(over, "B3") == "superko"
        assert not over.legal_moves()[from_gtp("B3", 5)]
    else:
        again = play(over, "B3")
        assert np.array_equal(again.board, over.root().board)
        assert not again.is_game_over()


# Three kos on 9x9: the top-left (C8/B8) and bottom-left (C4/B4) ones hold a white stone that
# Black can take; the top-right one (G8/H8) holds a black stone that White can take.
TRIPLE_KO = """
    . X O . . . X O .
    X O . O . X . X O
    . X O . . . X O .
    . . . . . . . . .
    . X O . . . . . .
    X O . O . . . . .
    . X O . . . . . .
    . . . . . . . . .
    . . . . . . . . .
"""


@pytest.mark.parametrize("ko_rule", ["positional", "simple"])
def test_triple_ko_cycle(ko_rule):
    """Six captures, each in a different ko, bring back the starting board: every move is
    legal under simple ko, and positional superko forbids the sixth."""
    start = Position.from_ascii(TRIPLE_KO, ko=ko_rule)
    pos = play(start, "C8", "G8", "C4", "B8", "H8")
    assert pos.prisoners == (3, 2)
    assert pos.ko == from_gtp("G8", 9)
    boards = [p.board.tobytes() for p in pos.ancestors()]
    assert len(set(boards)) == len(boards)  # five new boards so far
    if ko_rule == "positional":
        assert reason(pos, "B4") == "superko"
        assert not pos.legal_moves()[from_gtp("B4", 9)]
        assert pos.illegal_reason(from_gtp("B4", 9)) == "superko"
    else:
        cycled = play(pos, "B4")
        assert np.array_equal(cycled.board, start.board)
        assert cycled.hash == start.hash
        assert cycled.prisoners == (3, 3)


# Black fills the two top rows of a 19x19 board (White passing), row 19 left to right and row
# 18 right to left; with suicide allowed the 38th stone takes the whole chain off, and the board
# is again the one from 38 stone moves earlier.
LONG_SUICIDE = "\n".join([". " * 19] * 2 + ["O " * 19] + [". " * 19] * 16)
LONG_SUICIDE_MOVES = " pass ".join(
    [f"{c}19" for c in GTP_COLUMNS[:19]] + [f"{c}18" for c in GTP_COLUMNS[:19][::-1]]).split()


@pytest.mark.parametrize("ko_rule", ["positional", "simple"])
def test_superko_remembers_boards_from_long_ago(ko_rule):
    start = Position.from_ascii(LONG_SUICIDE, suicide=True, ko=ko_rule)
    *fill, last = LONG_SUICIDE_MOVES
    pos = play(start, *fill)
    assert len(stones(pos, BLACK)) == 37
    if ko_rule == "positional":
        assert reason(pos, last) == "superko"
        assert not pos.legal_moves()[from_gtp(last, 19)]
    else:
        after = play(pos, last)
        assert np.array_equal(after.board, start.board)
        assert after.prisoners == (0, 38)


# ---- scoring ----------------------------------------------------------------------------------

# A seki in the top-left corner: the black group B7-C7-C6-C5 and the white group A6-A5-B5 share
# their only liberties A7 and B6, and whoever fills one is captured.
SEKI = """
    . X X O . . .
    O . X O . . .
    O O X O . . .
    X X O O . . .
    . X O . . . .
    . X O . . . .
    . X O . . . .
"""


def test_seki_shared_liberties_count_for_neither_side():
    pos = Position.from_ascii(SEKI, komi=0.5)
    owner = pos.ownership()
    assert owner[from_gtp("A7", 7)] == EMPTY and owner[from_gtp("B6", 7)] == EMPTY
    # Black: 9 stones + A3, A2, A1. White: 11 stones + 24 points on the right. Neutral: 2.
    assert pos.area() == (12, 35)
    assert pos.score() == 12 - 35 - 0.5
    assert pos.result() == "W+23.5"


def test_seki_filling_a_shared_liberty_is_self_atari():
    pos = Position.from_ascii(SEKI)
    filled = play(pos, "A7")  # legal, captures nothing...
    assert filled.prisoners == (0, 0)
    captured = play(filled, "B6")  # ...and White takes the five black stones
    assert captured.prisoners == (0, 5)
    for vertex in ("A7", "B7", "C7", "C6", "C5"):
        assert captured.board[from_gtp(vertex, 7)] == EMPTY


@pytest.mark.parametrize("diagram,komi,result", [
    (". X .\n. X .\n. X .", 5.5, "B+3.5"),  # Black owns all nine points
    (". X .\n. X .\n. X .", 7, "B+2"),
    (". X .\n. X .\n. X .", 9, "0"),  # integer komi: a draw
    ("X . O\nX . O\nX . O", 0.5, "W+0.5"),  # the middle column is dame
    ("X . O\nX . O\nX . O", 0, "0"),
    ("X . O\nX . O\nX . O", -1.5, "B+1.5"),
])
def test_result_strings(diagram, komi, result):
    pos = Position.from_ascii(diagram, komi=komi)
    assert pos.result() == result


def test_empty_board_result_is_komi():
    assert Position.new(Rules(size=9, komi=7.5)).result() == "W+7.5"


# ---- move errors, passes, resignation ---------------------------------------------------------

def test_occupied():
    pos = Position.from_ascii(KO)
    assert reason(pos, "B4") == "occupied"  # own stone
    assert reason(pos, "C4") == "occupied"  # opponent's stone
    assert pos.illegal_reason(from_gtp("C4", 5)) == "occupied"


@pytest.mark.parametrize("move", [25, 26, -3, -100, 10**9, 2.5, "C3", None])
def test_off_board(move):
    pos = Position.new(Rules(size=5))
    with pytest.raises(IllegalMove) as err:
        pos.play(move)
    assert err.value.reason == "off board"
    assert not pos.is_legal(move)


def test_numpy_integers_are_moves():
    pos = Position.new(Rules(size=5)).play(np.int64(12))
    assert pos.board[12] == BLACK and pos.last_move == 12


def test_two_passes_end_the_game_and_play_may_resume():
    pos = Position.new(Rules(size=9))
    one = pos.play(PASS)
    assert one.passes == 1 and not one.is_game_over() and one.to_play == WHITE
    two = one.play(PASS)
    assert two.passes == 2 and two.is_game_over() and two.to_play == BLACK
    assert np.array_equal(two.board, pos.board)
    resumed = play(two, "E5")
    assert resumed.passes == 0 and not resumed.is_game_over()
    assert not play(pos, "pass", "E5", "pass").is_game_over()  # not consecutive


@pytest.mark.parametrize("color,result", [(BLACK, "W+R"), (WHITE, "B+R")])
def test_resignation(color, result):
    pos = Position.new(Rules(size=9)).play(RESIGN, color)
    assert pos.winner == (WHITE if color == BLACK else BLACK)
    assert pos.is_game_over()
    assert pos.result() == result
    assert not pos.legal_moves().any()
    assert not pos.is_legal(PASS)
    for move in (PASS, 40, RESIGN):
        with pytest.raises(IllegalMove) as err:
            pos.play(move)
        assert err.value.reason == "game over"


def test_bad_colour():
    with pytest.raises(GoError):
        Position.new(Rules(size=5)).play(0, 3)


def test_legal_moves_mask():
    pos = Position.new(Rules(size=9))
    mask = pos.legal_moves()
    assert mask.shape == (82,) and mask.dtype == np.bool_
    assert mask.all()
    assert mask[PASS] and mask[81]
    after = play(pos, "E5")
    mask = after.legal_moves()
    assert not mask[from_gtp("E5", 9)]
    assert mask.sum() == 81  # 80 points and pass
    assert mask[PASS]
    assert not mask.flags.writeable


# ---- handicap ---------------------------------------------------------------------------------

# GTP 2 specification, section 4.1.1 (fixed_handicap), on 19x19.
GTP_19 = {
    2: "D4 Q16",
    3: "D4 Q16 D16",
    4: "D4 Q16 D16 Q4",
    5: "D4 Q16 D16 Q4 K10",
    6: "D4 Q16 D16 Q4 D10 Q10",
    7: "D4 Q16 D16 Q4 D10 Q10 K10",
    8: "D4 Q16 D16 Q4 D10 Q10 K4 K16",
    9: "D4 Q16 D16 Q4 D10 Q10 K4 K16 K10",
}


@pytest.mark.parametrize("size,count,expected", [
    *[(19, count, text) for count, text in GTP_19.items()],
    (13, 4, "D4 K10 D10 K4"),
    (13, 9, "D4 K10 D10 K4 D7 K7 G4 G10 G7"),
    (9, 2, "C3 G7"),
    (9, 5, "C3 G7 C7 G3 E5"),
    (9, 9, "C3 G7 C7 G3 C5 G5 E3 E7 E5"),
    (7, 4, "C3 E5 C5 E3"),
    (8, 4, "C3 F6 C6 F3"),
    (10, 3, "C3 H8 C8"),
    (25, 9, "D4 W22 D22 W4 D13 W13 N4 N22 N13"),
])
def test_fixed_handicap_matches_gtp(size, count, expected):
    points = fixed_handicap(size, count)
    assert [to_gtp(p, size) for p in points] == expected.split()
    pos = Position.new(Rules(size=size), handicap=points)
    assert pos.to_play == WHITE
    assert stones(pos, BLACK) == set(expected.split())
    assert not stones(pos, WHITE)


@pytest.mark.parametrize("size,count", [
    (19, 0), (19, 1), (19, 10), (13, 10), (9, 10), (7, 5), (8, 5), (10, 5), (6, 2), (5, 4),
    (2, 2),
])
def test_fixed_handicap_rejects_bad_counts(size, count):
    with pytest.raises(GoError):
        fixed_handicap(size, count)


def test_fixed_handicap_limits():
    assert [max_fixed_handicap(size) for size in (2, 6, 7, 8, 9, 10, 13, 19, 25)] == [
        0, 0, 4, 4, 9, 4, 9, 9, 9]
    with pytest.raises(BadSize):
        fixed_handicap(26, 2)


# ---- coordinates ------------------------------------------------------------------------------

@pytest.mark.parametrize("size", range(2, 26))
def test_coords_round_trip(size):
    n = size * size
    gtp_names = set()
    for p in range(n):
        vertex = to_gtp(p, size)
        gtp_names.add(vertex)
        assert "I" not in vertex
        assert from_gtp(vertex, size) == p
        assert from_gtp(vertex.lower(), size) == p
        assert from_gtp(f" {vertex} ", size) == p
        assert from_sgf(to_sgf(p, size), size) == p
        assert from_rowcol(*to_rowcol(p, size), size) == p
    assert len(gtp_names) == n
    assert to_gtp(0, size) == f"A{size}"  # top-left
    assert to_gtp((size - 1) * size, size) == "A1"  # bottom-left
    assert to_gtp(n - 1, size) == f"{GTP_COLUMNS[size - 1]}1"
    assert to_sgf(0, size) == "aa"
    for text in ("pass", "PASS", "Pass"):
        assert from_gtp(text, size) == PASS
    assert to_gtp(PASS, size) == "pass" and to_sgf(PASS, size) == ""
    assert from_sgf("", size) == PASS
    assert from_gtp("resign", size) == RESIGN and to_gtp(RESIGN, size) == "resign"


def test_sgf_tt_is_pass_only_up_to_19():
    assert from_sgf("tt", 19) == PASS
    assert from_sgf("tt", 20) == 19 * 20 + 19
    assert to_sgf(19 * 20 + 19, 20) == "tt"
    assert to_gtp(8, 9) == "J9" and to_gtp(18 * 19, 19) == "A1" and to_sgf(18 * 19, 19) == "as"


@pytest.mark.parametrize("vertex,size", [
    ("I5", 19), ("Z99", 19), ("", 19), ("A0", 19), ("5A", 19), ("A", 19), ("AA1", 19),
    ("A-1", 19), ("T20", 19), ("Z1", 19), ("K1", 9), ("J10", 9), ("A 1", 19), ("passs", 19),
])
def test_malformed_gtp_vertices(vertex, size):
    with pytest.raises(BadVertex):
        from_gtp(vertex, size)


@pytest.mark.parametrize("vertex", ["A²", "A1²", "C³"])
def test_non_ascii_digits_are_bad_vertices(vertex):
    """str.isdigit() accepts superscripts that int() rejects: these must still raise BadVertex
    (a GoError that front ends catch), not a bare ValueError from int()."""
    with pytest.raises(BadVertex):
        from_gtp(vertex, 19)


@pytest.mark.parametrize("point,size", [
    ("a", 19), ("abc", 19), ("A1", 19), ("AA", 19), ("zz", 19), ("uu", 20), ("j", 9),
])
def test_malformed_sgf_points(point, size):
    with pytest.raises(BadVertex):
        from_sgf(point, size)


@pytest.mark.parametrize("move", [-3, 81, 1000])
def test_off_board_indices_have_no_names(move):
    with pytest.raises(BadVertex):
        to_gtp(move, 9)
    with pytest.raises(BadVertex):
        to_sgf(move, 9)


def test_bad_vertex_is_a_go_error():
    assert issubclass(BadVertex, GoError) and issubclass(GoError, ValueError)
    assert issubclass(IllegalMove, GoError) and issubclass(BadSize, GoError)


# ---- immutability, rules, text ----------------------------------------------------------------

def test_position_is_immutable():
    pos = Position.new(Rules(size=9))
    with pytest.raises(AttributeError):
        pos.to_play = WHITE
    with pytest.raises(AttributeError):
        pos.anything = 1
    assert not pos.board.flags.writeable
    with pytest.raises(ValueError):
        pos.board[0] = BLACK
    child = play(pos, "E5")
    assert not pos.board.any() and child.board.any()
    assert child.parent is pos and child.root() is pos


def test_rules_are_frozen():
    rules = Rules()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.komi = 0.5
    assert isinstance(dataclasses.FrozenInstanceError(), AttributeError)


@pytest.mark.parametrize("size", [0, 1, 26, 100, -9, 9.0, True, "9"])
def test_rules_reject_bad_sizes(size):
    with pytest.raises(BadSize):
        Rules(size=size)


@pytest.mark.parametrize("kwargs", [
    {"komi": "abc"}, {"komi": None}, {"komi": float("nan")}, {"komi": float("inf")},
    {"komi": 5000}, {"ko": "japanese"}, {"ko": "superko"},
])
def test_rules_reject_bad_values(kwargs):
    with pytest.raises(GoError):
        Rules(**kwargs)


def test_rules_normalise_komi():
    assert Rules(komi="6.5").komi == 6.5
    assert isinstance(Rules(komi=7).komi, float)
    assert Rules() == Rules(size=19, komi=7.5, ko="positional", suicide=False)


def test_str_shows_gtp_coordinates_without_i():
    pos = play(Position.new(Rules(size=19)), "D4")
    text = str(pos)
    lines = text.splitlines()
    letters = "A B C D E F G H J K L M N O P Q R S T"
    assert lines[0].split() == letters.split() and lines[20].split() == letters.split()
    assert "I" not in lines[0]
    assert lines[1].startswith("19") and lines[19].startswith(" 1")
    assert "(X)" in lines[16]  # D4, the last move, on the fourth line from the bottom
    assert "White to play" in text
    assert np.array_equal(Position.from_ascii(text).board, pos.board)  # diagrams round-trip


def test_from_ascii_rejects_non_square_diagrams():
    with pytest.raises(GoError):
        Position.from_ascii(". . .\n. . .")
