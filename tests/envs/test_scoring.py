"""Counting finished games under area and territory rules (envs.go.scoring), on hand-made
boards whose counts are worked out in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go import BLACK, GoError, Position, Rules, from_gtp
from envs.go.rules import rule_set
from envs.go.scoring import (
    dead_from_ownership,
    final_result,
    final_score,
    seki_stones,
    territory_count,
)

WALLS = """
    . X O . .
    . X O . .
    . X O . .
    . X O . .
    . X O . .
"""
# White's stone at A5 sits inside Black's area: dead.
INVADED = WALLS.replace(". X O . .", "O X O . .", 1)
# Black's A2-A4 and White's column B share A5 and A1 and have no other liberty: seki. Black's
# column C lives with D and E.
SEKI = """
    . O X . .
    X O X . .
    X O X . .
    X O X . .
    . O X . .
"""


def _pos(diagram: str, komi: float = 0.5, scoring: str = "territory") -> Position:
    return Position.from_ascii(diagram, rules=Rules(5, komi, "simple", scoring=scoring))


def v(name: str) -> int:
    return from_gtp(name, 5)


def test_area_and_territory_agree_when_stones_are_equal():
    # area: Black 5 stones + 5 = 10, White 15; territory: Black 5, White 10
    count = territory_count(_pos(WALLS))
    assert count.territory == (5, 10) and count.prisoners == (0, 0) and count.seki == ()
    assert count.score == -5.5
    assert final_result(_pos(WALLS)) == "W+5.5"
    assert final_result(_pos(WALLS, scoring="area")) == "W+5.5"


def test_dead_stones_count_as_prisoners_under_territory_only():
    dead = [v("A5")]
    # area: the dead stone is taken off and Black owns A5 again: 10 - 15 - 0.5
    assert final_score(_pos(INVADED, scoring="area"), dead) == -5.5
    # territory: Black 5 territory + 1 dead stone = 6, White 10: one point better for Black
    count = territory_count(_pos(INVADED), dead)
    assert count.territory == (5, 10) and count.dead == (1, 0)
    assert count.score == -4.5
    assert final_result(_pos(INVADED), dead) == "W+4.5"
    # alive, it spoils Black's region under both counts
    assert final_score(_pos(INVADED, scoring="area")) == 5 - 16 - 0.5
    assert territory_count(_pos(INVADED)).territory == (0, 10)


def test_captures_during_the_game_are_prisoners():
    pos = _pos(INVADED).play(v("A4"), BLACK)  # captures A5
    count = territory_count(pos)
    assert count.prisoners == (1, 0) and count.territory == (4, 10)
    assert count.score == 4 + 1 - 10 - 0.5
    # area: Black's 6 stones and 4 points, White's 15
    assert final_score(Position.from_ascii(str(pos), rules=Rules(5, 0.5))) == -5.5


def test_no_territory_in_seki():
    pos = _pos(SEKI)
    seki = {v(p) for p in ("A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5")}
    assert set(seki_stones(pos).tolist()) == seki
    count = territory_count(pos)
    # Japanese: Black's D and E columns only; A5 and A1 are shared liberties, nobody's
    assert count.territory == (10, 0)
    assert count.score == 10 - 0.5
    # area: Black's 8 stones and 10 points, White's 5 stones: the seki's stones count
    assert final_score(_pos(SEKI, scoring="area")) == 18 - 5 - 0.5


def test_walls_are_no_seki():
    assert seki_stones(_pos(WALLS)).size == 0


def test_dead_from_ownership():
    pos = _pos(WALLS)
    owned = np.zeros(25, np.float32)
    owned[v("B5")] = -0.8  # a Black stone the search gives White: dead
    owned[v("C5")] = -0.9  # a White stone White keeps: alive
    assert dead_from_ownership(pos, owned).tolist() == [v("B5")]


def test_rule_sets():
    assert rule_set("japanese") == ("territory", "simple", False)
    assert rule_set("New_Zealand") == ("area", "positional", True)
    assert rule_set("tromp-taylor") == ("area", "positional", True)
    with pytest.raises(GoError, match="unknown rules"):
        rule_set("ing-spight")
    with pytest.raises(GoError, match="scoring"):
        Rules(9, scoring="stones")
    with pytest.raises(GoError, match="suicide"):
        Rules(9, suicide="yes")


@pytest.mark.parametrize("name", ["tromp-taylor", "new-zealand", "chinese", "japanese"])
def test_suicide_is_legal_only_where_the_rule_set_allows_it(name):
    scoring, ko, suicide = rule_set(name)
    # Black A2 would leave A1-A2 without liberties (a two-stone suicide: a one-stone one
    # would only repeat the board, which positional superko forbids anyway)
    corner = "\n".join([". . . . .", ". . . . .", "O . . . .", ". O . . .", "X O . . ."])
    pos = Position.from_ascii(corner, rules=Rules(5, 0.5, ko, suicide, scoring))
    assert pos.is_legal(v("A2")) == suicide
    if suicide:  # the stones are taken off and counted for White
        after = pos.play(v("A2"))
        assert after.board[v("A1")] == 0 and after.prisoners == (0, 2)
    else:
        assert pos.illegal_reason(v("A2")) == "suicide"
