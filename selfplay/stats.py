"""Match statistics: a win rate's Wilson confidence interval and its Elo equivalent.

A match between engines A and B gives A a score: wins plus half the draws, over the games
played. The Wilson score interval is the right interval for the small samples an arena
produces (unlike the normal approximation, it stays inside [0, 1] and is not degenerate at 0%
or 100%). The logistic Elo model turns a score p into a rating difference
400 * log10(p / (1 - p)); p = 0 or 1 would be an infinite difference, so every Elo figure here
is clamped to +-ELO_CAP and reported as such (`capped`). The Elo interval is the image of the
Wilson interval, which is valid because the Elo curve is monotonic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Z95 = 1.959963984540054  # two-sided 95% normal quantile
ELO_CAP = 800.0  # |Elo| beyond this (a score of about 99%) is reported as the cap


def wilson_interval(score: float, games: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion `score` / `games` (score may count draws as
    halves). (0.0, 1.0) when no game was played."""
    if games < 0 or not 0 <= score <= games:
        raise ValueError(f"need 0 <= score <= games, got score {score}, games {games}")
    if games == 0:
        return 0.0, 1.0
    p = score / games
    z2 = z * z
    denominator = 1 + z2 / games
    centre = (p + z2 / (2 * games)) / denominator
    half = z * math.sqrt(p * (1 - p) / games + z2 / (4 * games * games)) / denominator
    low = 0.0 if score == 0 else max(0.0, centre - half)
    high = 1.0 if score == games else min(1.0, centre + half)
    return low, high


def elo_from_score(p: float) -> float:
    """The Elo difference for an expected score p in [0, 1], clamped to +-ELO_CAP."""
    if not 0 <= p <= 1:
        raise ValueError(f"a score must lie in [0, 1], got {p}")
    if p <= 0:
        return -ELO_CAP
    if p >= 1:
        return ELO_CAP
    return max(-ELO_CAP, min(ELO_CAP, 400.0 * math.log10(p / (1 - p))))


def score_from_elo(elo: float) -> float:
    """The expected score of a player rated `elo` points above its opponent."""
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


@dataclass(frozen=True)
class WinRate:
    """One side's results against the other, with 95% intervals."""

    wins: int
    draws: int
    losses: int

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        """Wins plus half the draws."""
        return self.wins + 0.5 * self.draws

    @property
    def rate(self) -> float:
        """The score as a fraction of the games (0.5 when none was played)."""
        return self.score / self.games if self.games else 0.5

    @property
    def interval(self) -> tuple[float, float]:
        """95% Wilson interval of the rate."""
        return wilson_interval(self.score, self.games)

    @property
    def elo(self) -> float:
        """Elo difference implied by the rate (clamped to +-ELO_CAP)."""
        return elo_from_score(self.rate)

    @property
    def elo_interval(self) -> tuple[float, float]:
        """95% interval of the Elo difference: the Wilson endpoints mapped through the Elo
        curve (clamped to +-ELO_CAP)."""
        low, high = self.interval
        return elo_from_score(low), elo_from_score(high)

    @property
    def capped(self) -> bool:
        """Whether the point estimate hit the cap (a 0% or ~100% score)."""
        return abs(self.elo) >= ELO_CAP

    def describe(self) -> str:
        """'62.5% [40.9%, 80.0%], Elo +89 [-64, +241]'."""
        low, high = self.interval
        elo_low, elo_high = self.elo_interval
        cap = " (capped)" if self.capped else ""
        return (f"{100 * self.rate:.1f}% [{100 * low:.1f}%, {100 * high:.1f}%], "
                f"Elo {self.elo:+.0f}{cap} [{elo_low:+.0f}, {elo_high:+.0f}]")


# ---- a match's tally ----------------------------------------------------------------------------

@dataclass
class GameSummary:
    """One finished game of a match, by engine label ("A", "B"), not by colour."""

    number: int
    black: str
    white: str
    result: str
    reason: str
    moves: int
    seconds: float
    detail: str = ""
    sgf: str | None = None

    @property
    def winner(self) -> str | None:
        """The label of the winning engine, None for a draw."""
        return {"B": self.black, "W": self.white}.get(self.result[:1])

    @property
    def loser(self) -> str | None:
        winner = self.winner
        return None if winner is None else (self.white if winner == self.black else self.black)


@dataclass
class EngineStats:
    """One engine's record over a match."""

    label: str
    command: str
    name: str = ""
    wins: int = 0
    losses: int = 0
    draws: int = 0
    forfeits: int = 0
    games_black: int = 0
    games_white: int = 0
    wins_black: int = 0
    wins_white: int = 0
    move_times: list[float] = field(default_factory=list)

    @property
    def games(self) -> int:
        return self.wins + self.losses + self.draws

    @property
    def win_rate(self) -> WinRate:
        return WinRate(self.wins, self.draws, self.losses)

    def time_stats(self) -> str:
        """'0.05 / 0.21 s' (mean / max seconds per genmove), or '-'."""
        if not self.move_times:
            return "-"
        return (f"{sum(self.move_times) / len(self.move_times):.2f} / "
                f"{max(self.move_times):.2f} s")


@dataclass
class MatchResult:
    """Per-engine results of a match (engines[0] is A, engines[1] is B) and every game."""

    config: object
    engines: list[EngineStats]
    games: list[GameSummary] = field(default_factory=list)

    def engine(self, label: str) -> EngineStats:
        return next(e for e in self.engines if e.label == label)

    def add(self, game: GameSummary, move_times: dict[str, list[float]]) -> None:
        """Count a finished game; move_times maps engine labels to their genmove seconds."""
        self.games.append(game)
        for engine in self.engines:
            engine.move_times.extend(move_times.get(engine.label, ()))
            as_black = engine.label == game.black
            if as_black:
                engine.games_black += 1
            else:
                engine.games_white += 1
            if game.winner is None:
                engine.draws += 1
            elif game.winner == engine.label:
                engine.wins += 1
                if as_black:
                    engine.wins_black += 1
                else:
                    engine.wins_white += 1
            else:
                engine.losses += 1
                engine.forfeits += game.reason == "forfeit"

    @property
    def a_vs_b(self) -> WinRate:
        """Engine A's results against B."""
        return self.engines[0].win_rate

    @property
    def mean_length(self) -> float:
        return sum(g.moves for g in self.games) / len(self.games) if self.games else 0.0

    def progress_line(self, game: GameSummary) -> str:
        """'game 3/10: A (white) beats B (black) by W+R in 45 moves, 12.3 s; A 2-1 B'."""
        total = getattr(self.config, "games", len(self.games))
        a, b = self.engines
        colour = {game.black: "black", game.white: "white"}
        if game.winner is None:
            what = f"{game.black} (black) and {game.white} (white) draw ({game.result})"
        else:
            what = (f"{game.winner} ({colour[game.winner]}) beats {game.loser} "
                    f"({colour[game.loser]}) by {game.result}")
        why = f" [{game.detail}]" if game.reason == "forfeit" else ""
        draws = f"-{a.draws}" if a.draws else ""
        return (f"game {game.number}/{total}: {what}{why} in {game.moves} moves, "
                f"{game.seconds:.1f} s; {a.label} {a.wins}-{b.wins}{draws} {b.label}")

    def format(self) -> str:
        return format_result(self)


def format_result(result: MatchResult) -> str:
    """A plain-text summary: the settings, one row per engine, A's win rate and Elo."""
    config = result.config
    lines = []
    if config is not None:
        alternate = "colours alternate" if getattr(config, "alternate", True) else \
            "A always black"
        lines.append(f"Match: {len(result.games)} games on {config.size}x{config.size}, komi "
                     f"{config.komi:g}, {config.ko} ko, {config.time_per_move:g} s per move "
                     f"(timeout {config.timeout:g} s), {alternate}")
    for engine in result.engines:
        lines.append(f"  {engine.label} = {engine.name or '?'}  ({engine.command})")
    header = (f"{'engine':<8}{'wins':>6}{'losses':>8}{'draws':>7}{'forfeits':>10}"
              f"{'as black':>10}{'as white':>10}   s/move mean / max")
    note = "(as black / as white: games won / games played with that colour)"
    lines += ["", header, "-" * len(header)]
    for e in result.engines:
        lines.append(f"{e.label:<8}{e.wins:>6}{e.losses:>8}{e.draws:>7}{e.forfeits:>10}"
                     f"{f'{e.wins_black}/{e.games_black}':>10}"
                     f"{f'{e.wins_white}/{e.games_white}':>10}   {e.time_stats()}")
    lines.append(note)
    a, b = result.engines
    rate = result.a_vs_b
    lines += ["", f"{a.label} vs {b.label}: score {rate.score:g}/{rate.games} = "
                  f"{rate.describe()} (95% intervals)"]
    if result.games:
        lengths = [g.moves for g in result.games]
        seconds = sum(g.seconds for g in result.games) / len(result.games)
        reasons: dict[str, int] = {}
        for game in result.games:
            reasons[game.reason] = reasons.get(game.reason, 0) + 1
        ends = ", ".join(f"{n} by {reason}" for reason, n in sorted(reasons.items()))
        lines.append(f"games: mean length {result.mean_length:.1f} moves (min {min(lengths)}, "
                     f"max {max(lengths)}), mean {seconds:.1f} s per game; ended {ends}")
    for game in result.games:
        if game.reason == "forfeit":
            lines.append(f"  game {game.number}: {game.result}: {game.detail}")
    return "\n".join(lines)
