"""Time management: how many seconds the next move may take under the game's clock.

The GTP engine feeds this the controller's clock commands and asks for a budget before each
genmove; the budget becomes `SearchLimits.seconds`. The rule of thumb is "never overthink":

- main time is spread over the moves we still expect to play, an estimate that shrinks as the
  board fills (about `fill_fraction` of the empty points, never fewer than `min_moves`);
- in byo-yomi, a safe fraction (`byo_fraction`) of the time each stone may use: a Japanese
  period per move, a Canadian period divided by the stones still owed;
- a budget never exceeds the time left minus `margin` seconds (for the controller's latency and
  our own start-up), and is never below `floor` seconds.

Clock vocabulary (GTP v2 section 4.2 and kgsGtp):

    time_settings M B S          main time M s, then byo-yomi of B s for every S stones
                                 (Canadian). B = 0: absolute time M. B > 0 and S = 0: no limit.
    kgs-time_settings none
    kgs-time_settings absolute M
    kgs-time_settings byoyomi M P N     Japanese: main time M, then N periods of P s each
    kgs-time_settings canadian M B S    as time_settings
    time_left COLOR T S          S = 0: T s of main time left. S > 0: in byo-yomi with T s left
                                 for S stones (Canadian) or in the current period with S periods
                                 left (Japanese).

`spent(color, seconds)` keeps our own clock when the controller sends no time_left.

Every value is range-checked on the way in (ValueError naming the range): a clock holds only
numbers a budget can be computed from, so no controller input can make a later genmove fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from envs.go import Position

NONE, ABSOLUTE, CANADIAN, JAPANESE = "none", "absolute", "canadian", "japanese"

# One year: longer than any game's clock, and far below threading.TIMEOUT_MAX, so a budget can
# always be waited on. A 400-digit time or stone count (an OverflowError as a float) is refused.
MAX_SECONDS = 365 * 24 * 3600
MAX_STONES = 10_000  # Canadian stones per period, or Japanese periods
KGS_ARITY = {"none": 0, "absolute": 1, "byoyomi": 3, "canadian": 3}  # values per system


@dataclass
class _Clock:
    """One player's clock: main time left, then the current byo-yomi state."""

    main: float = 0.0
    in_byo: bool = False
    period: float = 0.0  # seconds left in the current byo-yomi period
    stones: int = 0  # Canadian: stones still owed in this period; Japanese: periods left


class TimeManager:
    """Tracks the game's time system and both players' clocks; `budget` gives a move's seconds.

    margin:        seconds always kept in reserve (never plan to use the last `margin` s).
    fill_fraction: expected moves still to play for one side, per empty point.
    min_moves:     the expected moves never drop below this (the game may go on long).
    byo_fraction:  share of a byo-yomi period (per stone) that one move may use.
    floor:         the smallest budget returned (a search must be allowed to return a move).
    """

    def __init__(self, margin: float = 0.3, fill_fraction: float = 0.35, min_moves: int = 10,
                 byo_fraction: float = 0.8, floor: float = 0.01):
        self.margin = margin
        self.fill_fraction = fill_fraction
        self.min_moves = min_moves
        self.byo_fraction = byo_fraction
        self.floor = floor
        self.system = NONE
        self.main_time = 0.0
        self.byo_time = 0.0
        self.byo_stones = 0  # Canadian stones per period, or Japanese periods
        self._clocks: dict[int, _Clock] = {}

    # ---- settings ------------------------------------------------------------------------------

    def time_settings(self, main_time: float, byo_yomi_time: float, byo_yomi_stones: int) -> None:
        """GTP time_settings (Canadian byo-yomi, or absolute time, or no limit)."""
        _check_times(main_time, byo_yomi_time)
        _check_stones(byo_yomi_stones)
        if byo_yomi_time > 0 and byo_yomi_stones == 0:
            self._set(NONE, 0.0, 0.0, 0)
        elif byo_yomi_time == 0:
            self._set(ABSOLUTE, main_time, 0.0, 0)
        else:
            self._set(CANADIAN, main_time, byo_yomi_time, byo_yomi_stones)

    def kgs_time_settings(self, system: str, *args: float) -> None:
        """kgs-time_settings none | absolute M | byoyomi M P N | canadian M B S."""
        if system not in KGS_ARITY:
            raise ValueError(f"unknown time system {system[:20]!r} (none, absolute, byoyomi or "
                             "canadian)")
        if len(args) != KGS_ARITY[system]:
            raise ValueError(f"the {system} time system takes {KGS_ARITY[system]} values")
        _check_times(*args[:2])
        if len(args) == 3:
            _check_stones(args[2])
        if system == "none":
            self._set(NONE, 0.0, 0.0, 0)
        elif system == "absolute":
            self._set(ABSOLUTE, args[0], 0.0, 0)
        elif system == "canadian":
            self.time_settings(args[0], args[1], int(args[2]))
        elif args[1] == 0 or args[2] == 0:
            self._set(ABSOLUTE, args[0], 0.0, 0)
        else:
            self._set(JAPANESE, args[0], args[1], int(args[2]))

    def time_left(self, color: int, seconds: float, stones: int) -> None:
        """GTP time_left: the controller's view of `color`'s clock, which overrides ours."""
        _check_times(abs(seconds))  # a late controller may report a negative time
        _check_stones(stones)
        clock = self._clock(color)
        seconds = max(float(seconds), 0.0)
        if stones == 0:
            clock.main, clock.in_byo = seconds, False
        else:
            clock.main, clock.in_byo, clock.period, clock.stones = 0.0, True, seconds, stones
        if self.system == NONE:  # the controller keeps a clock we were not told about
            self.system = ABSOLUTE if stones == 0 else CANADIAN

    def new_game(self) -> None:
        """Both clocks back to the full main time (clear_board); the settings stay."""
        self._clocks.clear()

    def _set(self, system: str, main: float, byo: float, stones: int) -> None:
        self.system, self.main_time, self.byo_time, self.byo_stones = system, main, byo, stones
        self._clocks.clear()

    def _clock(self, color: int) -> _Clock:
        if color not in self._clocks:
            clock = _Clock(main=self.main_time)
            if self.main_time <= 0 and self.system in (CANADIAN, JAPANESE):
                clock.in_byo, clock.period, clock.stones = True, self.byo_time, self.byo_stones
            self._clocks[color] = clock
        return self._clocks[color]

    @property
    def limited(self) -> bool:
        """Whether a clock is running at all."""
        return self.system != NONE

    # ---- budget --------------------------------------------------------------------------------

    def budget(self, position: Position, color: int) -> float | None:
        """Seconds `color` may spend on its next move in `position`; None without a clock."""
        if not self.limited:
            return None
        clock = self._clock(color)
        if clock.in_byo:
            per_stone = clock.period / max(clock.stones, 1) if self.system == CANADIAN \
                else clock.period
            plan = per_stone * self.byo_fraction
            available = clock.period
        else:
            empty = int(np.count_nonzero(position.board == 0))
            moves = max(self.min_moves, self.fill_fraction * empty)
            plan = clock.main / moves
            available = clock.main
            if self.byo_time > 0 and self.byo_stones > 0:  # byo-yomi follows: an extra is safe
                per_stone = self.byo_time / (self.byo_stones if self.system == CANADIAN else 1)
                plan += per_stone * self.byo_fraction * 0.5
                available = clock.main + per_stone
        return max(self.floor, min(plan, available - self.margin))

    def spent(self, color: int, seconds: float) -> None:
        """Charge `seconds` of thinking to `color`'s clock (our own bookkeeping between
        time_left commands)."""
        if not self.limited or seconds < 0:
            return
        clock = self._clock(color)
        if not clock.in_byo:
            if seconds <= clock.main or self.system == ABSOLUTE:
                clock.main = max(0.0, clock.main - seconds)
                return
            seconds -= clock.main
            clock.main, clock.in_byo = 0.0, True
            clock.period, clock.stones = self.byo_time, self.byo_stones
        if self.system == JAPANESE:
            lost = int(min(seconds // self.byo_time, clock.stones)) if self.byo_time else 0
            clock.stones = max(1, clock.stones - lost)
            clock.period = self.byo_time  # a period that is not used up resets
        else:
            clock.period = max(0.0, clock.period - seconds)
            clock.stones -= 1
            if clock.stones <= 0:  # a new Canadian period
                clock.period, clock.stones = self.byo_time, self.byo_stones


def _check_times(*seconds: float) -> None:
    """Comparisons, not float(): they cannot overflow on a huge int, and NaN fails them."""
    if not all(0 <= s <= MAX_SECONDS for s in seconds):
        raise ValueError(f"time values must be 0 to {MAX_SECONDS} seconds")


def _check_stones(stones: float) -> None:
    if not (0 <= stones <= MAX_STONES and stones == int(stones)):
        raise ValueError(f"stone and period counts must be whole numbers from 0 to {MAX_STONES}")
