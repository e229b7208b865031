"""TimeManager: budgets that spread main time, respect byo-yomi and never overrun the clock."""

from __future__ import annotations

import pytest

from agents.alphago.search.timing import TimeManager
from envs.go import BLACK, WHITE, Position, Rules

EMPTY_19 = Position.new(Rules(size=19))
EMPTY_9 = Position.new(Rules(size=9))


def test_no_clock_means_no_budget():
    clock = TimeManager()
    assert not clock.limited and clock.budget(EMPTY_19, BLACK) is None
    clock.time_settings(0, 5, 0)  # GTP: byo-yomi time without stones means no limit
    assert clock.budget(EMPTY_19, BLACK) is None
    clock.kgs_time_settings("none")
    assert clock.budget(EMPTY_19, BLACK) is None


def test_absolute_time_is_spread_over_the_expected_moves():
    clock = TimeManager()
    clock.time_settings(600, 0, 0)
    opening = clock.budget(EMPTY_19, BLACK)
    assert 3 < opening < 10  # about 126 moves still to play
    full = Position.new(Rules(size=19)).with_stones(black=range(300))
    assert clock.budget(full, BLACK) > opening  # fewer moves left: more per move
    assert clock.budget(EMPTY_9, BLACK) > opening  # a small board has fewer moves


def test_budget_never_exceeds_time_left_minus_margin():
    clock = TimeManager(margin=0.3)
    clock.time_settings(600, 0, 0)
    clock.time_left(BLACK, 2.0, 0)
    assert clock.budget(EMPTY_9, BLACK) <= 1.7
    clock.time_left(BLACK, 0.1, 0)
    assert clock.budget(EMPTY_9, BLACK) == clock.floor  # past the margin: answer at once
    assert clock.budget(EMPTY_9, WHITE) > 1  # White's clock is its own


def test_canadian_byo_yomi_uses_a_safe_share_per_stone():
    clock = TimeManager(byo_fraction=0.8)
    clock.time_settings(0, 100, 10)
    assert clock.budget(EMPTY_19, BLACK) == pytest.approx(8.0)
    clock.time_left(BLACK, 30, 2)
    assert clock.budget(EMPTY_19, BLACK) == pytest.approx(12.0)
    clock.time_left(BLACK, 1, 1)
    assert clock.budget(EMPTY_19, BLACK) == pytest.approx(0.7)


def test_japanese_byo_yomi_per_period():
    clock = TimeManager(byo_fraction=0.8)
    clock.kgs_time_settings("byoyomi", 0, 30, 5)
    assert clock.budget(EMPTY_19, BLACK) == pytest.approx(24.0)
    clock.time_left(BLACK, 30, 1)  # the last period
    assert clock.budget(EMPTY_19, BLACK) == pytest.approx(24.0)
    clock.kgs_time_settings("byoyomi", 60, 30, 5)  # main time first, byo-yomi after it
    main = clock.budget(EMPTY_19, BLACK)
    assert 60 / 127 < main < 60 + 30 - 0.3


def test_own_bookkeeping_without_time_left():
    clock = TimeManager()
    clock.time_settings(10, 20, 2)
    fresh = clock.budget(EMPTY_19, BLACK)
    assert fresh == pytest.approx(10 / 0.35 / 361 + 20 / 2 * 0.8 * 0.5)  # main + half a stone
    clock.spent(BLACK, 9.5)
    assert clock.budget(EMPTY_19, BLACK) < fresh
    clock.spent(BLACK, 1.0)  # main time runs out: into byo-yomi, 20 s for 2 stones
    assert clock.budget(EMPTY_19, BLACK) == pytest.approx((20 - 0.5) / 1 * 0.8)
    clock.spent(BLACK, 1.0)  # the period's second stone: a fresh period
    assert clock.budget(EMPTY_19, BLACK) == pytest.approx(20 / 2 * 0.8)
    clock.new_game()
    assert clock.budget(EMPTY_19, BLACK) == fresh  # back in main time


def test_japanese_periods_are_lost_by_overrunning():
    clock = TimeManager(byo_fraction=1.0, margin=0.0)
    clock.kgs_time_settings("byoyomi", 0, 10, 3)
    clock.spent(BLACK, 25)  # two periods used up
    assert clock._clock(BLACK).stones == 1
    assert clock.budget(EMPTY_19, BLACK) == pytest.approx(10)


@pytest.mark.parametrize("args", [("fischer", 1, 2), ("absolute",), ("byoyomi", 1, 2),
                                  ("canadian", -1, 2, 3), ("absolute", float("nan"))])
def test_bad_kgs_settings(args):
    with pytest.raises(ValueError):
        TimeManager().kgs_time_settings(*args)


def test_bad_settings():
    clock = TimeManager()
    for args in [(-1, 0, 0), (1, -1, 1), (float("inf"), 0, 0)]:
        with pytest.raises(ValueError):
            clock.time_settings(*args)
    with pytest.raises(ValueError):
        clock.time_left(BLACK, 1, -1)


def test_huge_values_are_refused_not_overflowed():
    """Issue 22: a 400-digit stone count was stored, and every budget raised OverflowError."""
    clock = TimeManager()
    huge = 10**400
    for call in [lambda: clock.time_left(BLACK, 10, huge),
                 lambda: clock.time_left(BLACK, huge, 0),
                 lambda: clock.time_settings(0, 0, huge),
                 lambda: clock.time_settings(huge, 0, 0),
                 lambda: clock.kgs_time_settings("byoyomi", 1, 1, huge),
                 lambda: clock.kgs_time_settings("byoyomi", 1, 1, 2.5)]:
        with pytest.raises(ValueError, match="must be"):
            call()
    assert clock.budget(EMPTY_9, BLACK) is None  # nothing was half-set


def test_a_tiny_japanese_period_cannot_overflow_the_periods_lost():
    clock = TimeManager()
    clock.kgs_time_settings("byoyomi", 0, 5e-324, 3)
    clock.spent(BLACK, 10.0)  # 10 / 5e-324 periods is infinite as a float
    assert clock._clock(BLACK).stones == 1 and clock.budget(EMPTY_9, BLACK) == clock.floor
