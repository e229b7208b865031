"""The gate of closed self-play and its record: which candidate is promoted, and the ladder.

    RUN/
      ladder.csv    one row per promoted network (version 0 = the starting one): its Elo gain
                    over the network it replaced, with a 95% interval, and the cumulative Elo
      gates.csv     one row per gating match, promoted or not
      ladder.png    Ladder.plot: Elo against version and against positions trained
      tb/           ladder/elo, ladder/elo_gain, ladder/score at step = version (TensorBoard)

A candidate plays the current best in a gating match; `GateRule.decide` says after each game
whether to promote it, reject it or play on. Both CSVs are small (one row per gate), so every
append rewrites the whole file atomically (envs.atomic): a run killed at any instant leaves the
old file or the new one, never half a line. On resume, `truncate` drops the rows past the
checkpoint the run continues from, since those gates will be played again.

Elo figures come from selfplay.stats: the interval of a gain is the Wilson interval of the score
mapped through the (monotonic) Elo curve; a 0% or 100% score would be an infinite gain, so every
gain and interval end is clamped to +-ELO_CAP (800) by elo_from_score.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from envs.atomic import atomic_file, atomic_write_bytes
from selfplay.stats import ELO_CAP, elo_from_score, score_from_elo, wilson_interval

PROMOTE = "promote"
REJECT = "reject"


@dataclass(frozen=True)
class GateRule:
    """When a gating match ends, and whether the candidate is promoted.

    Two rules together. The fixed rule plays `games` games and promotes when the candidate's
    score (wins plus half the draws, over games) is at least `threshold`: it bounds the match, so
    a gate never costs more than `games` games however close the two networks are. With `sprt`,
    a sequential probability ratio test also runs after every game and stops the match early
    once the evidence is clear: a candidate that wins 18 of its first 20 is promoted (and one
    that wins 2 is rejected) without playing the other 20, which in a loop where most gates are
    clear saves much of the gating time. Whatever the SPRT has not decided by `games` games,
    the threshold decides.

    The SPRT tests H0: the candidate is elo0 stronger against H1: it is elo1 stronger, with
    error rates alpha (promoting under H0) and beta (rejecting under H1): it stops when the
    log-likelihood ratio leaves (log(beta / (1 - alpha)), log((1 - beta) / alpha)). The ratio
    is the normal-approximation GSPRT on the per-game score (fishtest's form):
        LLR = N * (s1 - s0) * (2 * x - s0 - s1) / (2 * var),   s_i = score_from_elo(elo_i)
    with x the mean score and var = x * (1 - x), its Bernoulli variance (an upper bound when
    there are draws, so the test is no bolder for them). The exact Bernoulli SPRT against
    hypotheses 35 Elo apart would need some 300 games to decide anything, longer than a gate;
    the GSPRT's variance, estimated from the games, lets lopsided results stop in 10 to 20.
    x is shrunk by half a win and half a loss ((wins + 0.5) / (games + 1)) so that a clean
    sweep of a few games has a nonzero variance: without it 3 wins out of 3 would be an
    infinite ratio; with it a sweep stops after 8 games (and 18/20 or 2/20 after 20).
    """

    games: int = 40
    threshold: float = 0.55
    sprt: bool = True
    elo0: float = 0.0
    elo1: float = 35.0
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self) -> None:
        if self.games < 1:
            raise ValueError(f"a gate plays at least one game, got games={self.games}")
        if not 0 <= self.threshold <= 1:
            raise ValueError(f"threshold is a score in [0, 1], got {self.threshold}")
        if not (0 < self.alpha < 1 and 0 < self.beta < 1):
            raise ValueError(f"alpha and beta lie in (0, 1), got {self.alpha}, {self.beta}")
        if self.elo1 <= self.elo0:
            raise ValueError(f"elo1 must exceed elo0, got {self.elo0}, {self.elo1}")

    @property
    def max_games(self) -> int:
        """The most games a gate plays."""
        return self.games

    @property
    def bounds(self) -> tuple[float, float]:
        """(lower, upper): the SPRT rejects below lower and promotes above upper."""
        return (math.log(self.beta / (1 - self.alpha)), math.log((1 - self.beta) / self.alpha))

    def llr(self, wins: float, games: int) -> float:
        """The GSPRT log-likelihood ratio of H1 against H0 after `wins` (draws as halves) in
        `games` games (0.0 before the first game)."""
        _check_score(wins, games)
        if games == 0:
            return 0.0
        s0, s1 = score_from_elo(self.elo0), score_from_elo(self.elo1)
        x = (wins + 0.5) / (games + 1)
        return games * (s1 - s0) * (2 * x - s0 - s1) / (2 * x * (1 - x))

    def decide(self, wins: float, games: int) -> str | None:
        """"promote", "reject", or None to play another game, after `wins` (draws as halves)
        in `games` games."""
        _check_score(wins, games)
        if games >= self.games:
            return PROMOTE if wins / games >= self.threshold else REJECT
        if self.sprt and games > 0:
            lower, upper = self.bounds
            llr = self.llr(wins, games)
            if llr >= upper:
                return PROMOTE
            if llr <= lower:
                return REJECT
        return None


def _check_score(wins: float, games: int) -> None:
    if games < 0 or not 0 <= wins <= games:
        raise ValueError(f"need 0 <= wins <= games, got wins {wins}, games {games}")


def gain_interval(wins: float, games: int) -> tuple[float, float, float, float]:
    """(score, elo_gain, elo_low, elo_high) of a match: the score as a fraction (0.5 with no
    games), its Elo and the 95% interval (Wilson, mapped through the Elo curve), each clamped to
    +-ELO_CAP. The gain is the Elo of the score shrunk by half a win and half a loss, as the
    SPRT sees it: a gate stopped early at 8-0 says "much stronger", not "infinitely", and the
    ladder adds the gains up (+490 for 8-0, where the raw score would give the cap, 800)."""
    _check_score(wins, games)
    if games == 0:
        return 0.5, 0.0, 0.0, 0.0
    score = wins / games
    low, high = wilson_interval(wins, games)
    gain = elo_from_score((wins + 0.5) / (games + 1))
    return score, gain, elo_from_score(low), elo_from_score(high)


# ---- rows ---------------------------------------------------------------------------------------

@dataclass
class LadderRow:
    """One promoted network. elo_gain [elo_low, elo_high] is its gain over the previous best
    from its gating match (clamped to +-800, see the module docstring); elo is cumulative (the
    previous row's elo + elo_gain; 0 for version 0, the reference). positions and
    learner_steps count the training that made it; wall_s is seconds since the run began,
    across resumes."""

    version: int
    games: int
    wins: float
    score: float
    elo_gain: float
    elo_low: float
    elo_high: float
    elo: float
    positions: int
    learner_steps: int
    wall_s: float
    network: str

    @classmethod
    def first(cls, network: str, positions: int = 0, learner_steps: int = 0,
              wall_s: float = 0.0) -> LadderRow:
        """Version 0, the starting network: no gate, Elo 0 by definition."""
        return cls(0, 0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, positions, learner_steps, wall_s,
                   network)

    @classmethod
    def promoted(cls, previous: LadderRow, *, games: int, wins: float, positions: int,
                 learner_steps: int, wall_s: float, network: str) -> LadderRow:
        """The row of the network that beat `previous` with `wins` in `games` games."""
        score, gain, low, high = gain_interval(wins, games)
        return cls(previous.version + 1, games, wins, score, gain, low, high,
                   previous.elo + gain, positions, learner_steps, wall_s, network)


@dataclass
class GateRecord:
    """One gating match, promoted or not: the candidate's learner_steps, its wins (draws as
    halves) in games, score, decision ("promote" or "reject"), Elo gain over the best (clamped
    to +-800) and wall_s (seconds since the run began, across resumes)."""

    learner_steps: int
    games: int
    wins: float
    score: float
    decision: str
    elo_gain: float
    wall_s: float

    @classmethod
    def of(cls, learner_steps: int, games: int, wins: float, decision: str,
           wall_s: float) -> GateRecord:
        score, gain, _, _ = gain_interval(wins, games)
        return cls(learner_steps, games, wins, score, decision, gain, wall_s)


# ---- one CSV of dataclass rows --------------------------------------------------------------

Row = TypeVar("Row", LadderRow, GateRecord)
_PARSE = {"int": int, "float": float, "str": str}


class _Table(Generic[Row]):
    """A CSV of `kind` rows whose every change rewrites the file atomically: small tables
    (one row per gate) where a torn last line would cost more than the rewrite."""

    def __init__(self, path: Path, kind: type[Row]):
        self.path = path
        self.kind = kind
        self.fields = [f.name for f in dataclasses.fields(kind)]
        self._parse = {f.name: _PARSE[str(f.type)] for f in dataclasses.fields(kind)}

    def rows(self) -> list[Row]:
        if not self.path.exists():
            return []
        with open(self.path, newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != self.fields:
                raise ValueError(f"{self.path}: columns {reader.fieldnames} are not the "
                                 f"expected {self.fields}")
            return [self.kind(**{k: self._parse[k](v) for k, v in row.items()})
                    for row in reader]

    def write(self, rows: list[Row]) -> None:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.fields)
        writer.writeheader()
        writer.writerows(dataclasses.asdict(row) for row in rows)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.path, out.getvalue().encode())

    def add(self, row: Row) -> None:
        self.write(self.rows() + [row])


# ---- the ladder and the gates -------------------------------------------------------------------

class Ladder:
    """RUN/ladder.csv: the promoted networks in order, version 0 first."""

    def __init__(self, run_path: Path):
        self.run_path = Path(run_path)
        self.path = self.run_path / "ladder.csv"
        self._table = _Table(self.path, LadderRow)
        self._tb: Any = None
        self._purge: int | None = None  # TensorBoard hides events from this step on

    def rows(self) -> list[LadderRow]:
        return self._table.rows()

    def add(self, row: LadderRow) -> None:
        """Append `row` (atomically: the file is rewritten whole)."""
        self._table.add(row)

    def truncate(self, version: int) -> None:
        """Keep the rows of versions <= `version` (a resumed run promotes the rest again); the
        TensorBoard events past it are hidden from the next `log_tensorboard` on."""
        self._table.write([row for row in self.rows() if row.version <= version])
        self._purge = version + 1

    @property
    def best(self) -> LadderRow | None:
        """The newest promoted network's row (None before version 0 is added)."""
        rows = self.rows()
        return rows[-1] if rows else None

    def log_tensorboard(self, row: LadderRow) -> None:
        """ladder/elo, ladder/elo_gain and ladder/score at step = version under RUN/tb, when
        tensorboard is installed (the CSV has everything either way)."""
        if self._tb is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # optional, as in selfplay.rundir.Metrics
                return
            self._tb = SummaryWriter(str(self.run_path / "tb"), purge_step=self._purge)
        for key in ("elo", "elo_gain", "score"):
            self._tb.add_scalar(f"ladder/{key}", getattr(row, key), row.version)
        self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None

    def plot(self, path: Path) -> Path:
        """Write an 800x450 PNG (atomically) of Elo against version, each point with its gate's
        95% interval as error bars (the uncertainty of that step alone, about the cumulative
        Elo), beside Elo against positions trained. Returns `path`."""
        # the Agg canvas on a bare Figure: no display needed, and pyplot's global backend (a
        # GUI's, in the same process) is left alone
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        rows = self.rows()
        versions = [r.version for r in rows]
        elos = [r.elo for r in rows]
        below = [r.elo_gain - r.elo_low for r in rows]
        above = [r.elo_high - r.elo_gain for r in rows]
        figure = Figure(figsize=(8, 4.5), dpi=100)
        FigureCanvasAgg(figure)
        by_version, by_positions = figure.subplots(1, 2, sharey=True)
        by_version.errorbar(versions, elos, yerr=[below, above], marker="o", markersize=3,
                            capsize=2)
        by_version.set_xlabel("version")
        by_version.set_ylabel("Elo (over version 0)")
        by_positions.plot([r.positions for r in rows], elos, marker="o", markersize=3)
        by_positions.set_xlabel("positions trained")
        for axes in (by_version, by_positions):
            axes.grid(alpha=0.3)
        capped = any(max(abs(r.elo_low), abs(r.elo_high)) >= ELO_CAP for r in rows)
        note = f" (gains clamped to \u00b1{ELO_CAP:.0f})" if capped else ""
        figure.suptitle(f"{self.run_path.name}: ladder, {len(rows)} networks{note}")
        figure.tight_layout()
        path = Path(path)
        with atomic_file(path) as f:
            figure.savefig(f, format="png")
        return path


class Gates:
    """RUN/gates.csv: every gating match, promoted or not, in order."""

    def __init__(self, run_path: Path):
        self.path = Path(run_path) / "gates.csv"
        self._table = _Table(self.path, GateRecord)

    def rows(self) -> list[GateRecord]:
        return self._table.rows()

    def add(self, record: GateRecord) -> None:
        """Append `record` (atomically: the file is rewritten whole)."""
        self._table.add(record)

    def truncate(self, steps: int) -> None:
        """Keep the gates of candidates trained for at most `steps` learner steps."""
        self._table.write([r for r in self.rows() if r.learner_steps <= steps])
