"""Aggregating evaluations over games and seeds the way a reviewer expects (Agarwal et al. 2021).

Each `rlgo atari eval` leaves a JSON record (selfplay.atari.evaluate.write_eval_json): one
training run (a game and a seed), its protocol and every game's score. The report groups the
records by game and seed and gives, per game, the mean return and human-normalised score, and
across games the mean, median and interquartile mean (IQM) of human-normalised scores with
95% stratified bootstrap intervals. Those come from rliable itself (Agarwal et al. 2021, "Deep
Reinforcement Learning at the Edge of the Statistical Precipice"), not a re-implementation: the
resampling (seeds within each game) is the library's, so the numbers are the ones a reader
gets by calling it. rliable pulls scipy, pandas, statsmodels and arch (some 280 MB), which the
training path does not need: it is the optional extra `report`, imported only here.

The score matrix rliable takes is [runs, games]: row r holds the r-th seed of every game, so
every game needs the same number of seeds; with unequal counts the first (by seed) of each game
are used and the report says so. Records of different protocols (nature, machado) are never
pooled: their scores measure different things.

Learning curves come from each run's metrics.csv (training return and, where the run evaluated
as it trained, the evaluation return), one panel a game, one line a seed, drawn with
matplotlib's object API on a Figure (no pyplot state, no display needed).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from envs.atari.baselines import BASELINE_SOURCE
from envs.errors import UserError

METRICS = ("mean", "median", "iqm")
INSTALL_HINT = "pip install 'rlgo[report]'  (or: pip install rliable 'pandas<3')"


class ReportError(UserError):
    """Records the report cannot read or pool."""


@dataclasses.dataclass
class EvalRecord:
    """One evaluation of one training run: `returns` are the whole games' raw scores."""

    game: str
    seed: int | None
    protocol: str
    agent_steps: int | None
    returns: list[float]
    mean: float
    human_normalized: float | None
    path: Path
    run_dir: Path | None  # where metrics.csv is, for the learning curve

    @classmethod
    def read(cls, path: Path, run_dir: Path | None = None) -> EvalRecord:
        try:
            data = json.loads(path.read_text())
            return cls(game=str(data["game"]), seed=data.get("seed"),
                       protocol=str(data.get("protocol") or "nature"),
                       agent_steps=data.get("agent_steps"),
                       returns=[float(x) for x in data["returns"]], mean=float(data["mean"]),
                       human_normalized=data.get("human_normalized"), path=path,
                       run_dir=run_dir or _run_of(path))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ReportError(f"{path}: not an eval record of `rlgo atari eval` "
                              f"({type(err).__name__}: {str(err)[:100]})") from None


def _run_of(path: Path) -> Path | None:
    return path.parent if (path.parent / "metrics.csv").is_file() else None


def load_records(paths: Iterable[str | Path]) -> list[EvalRecord]:
    """Records from JSON files and run directories. A run directory gives its newest
    evaluation (the eval-*.json of most agent steps): one run is one seed, counted once."""
    records = []
    for item in map(Path, paths):
        if item.is_dir():
            found = [EvalRecord.read(p, item) for p in sorted(item.glob("eval-*.json"))]
            if not found:
                raise ReportError(f"{item} holds no eval-*.json: run `rlgo atari eval "
                                  f"--checkpoint {item}` first")
            records.append(max(found, key=lambda r: r.agent_steps or 0))
        elif item.is_file():
            records.append(EvalRecord.read(item))
        else:
            raise ReportError(f"no such file or run directory: {item}")
    return records


def group_records(records: list[EvalRecord]) -> dict[str, dict[object, EvalRecord]]:
    """game -> seed -> record; of two records of one game and seed the one of more agent steps
    stays. A record without a seed is its own seed (its file name)."""
    games: dict[str, dict[object, EvalRecord]] = {}
    for record in records:
        key = record.seed if record.seed is not None else str(record.path)
        kept = games.setdefault(record.game, {}).get(key)
        if kept is None or (record.agent_steps or 0) > (kept.agent_steps or 0):
            games[record.game][key] = record
    return dict(sorted(games.items()))


def _ordered(seeds: dict[object, EvalRecord]) -> list[EvalRecord]:
    """The records in seed order (2 before 10; file-named seeds last)."""
    keys = sorted(seeds, key=lambda k: (0, k, "") if isinstance(k, int) else (1, 0, str(k)))
    return [seeds[k] for k in keys]


def score_matrix(by_game: dict[str, dict[object, EvalRecord]]
                 ) -> tuple[list[str], np.ndarray, list[str]]:
    """(games, human-normalised scores [runs, games], notes) over the games that have a human
    baseline; runs = the fewest seeds any of them has."""
    notes = []
    games = [g for g, seeds in by_game.items()
             if all(r.human_normalized is not None for r in seeds.values())]
    left_out = sorted(set(by_game) - set(games))
    if left_out:
        notes.append(f"no human baseline, left out of the aggregate: {', '.join(left_out)}")
    if not games:
        return [], np.zeros((0, 0)), notes
    runs = min(len(by_game[g]) for g in games)
    if any(len(by_game[g]) != runs for g in games):
        notes.append(f"games have unequal numbers of seeds: the first {runs} of each are used")
    columns = [[r.human_normalized for r in _ordered(by_game[g])[:runs]] for g in games]
    return games, np.array(columns, dtype=float).T, notes


def _rliable():
    try:
        from rliable import library, metrics
    except ImportError as err:
        raise ReportError(f"the report needs rliable ({err}); install it with: "
                          f"{INSTALL_HINT}") from None
    return library, metrics


def aggregate(matrix: np.ndarray, reps: int = 10_000, seed: int = 0, confidence: float = 0.95
              ) -> dict[str, tuple[float, float, float]]:
    """metric -> (point estimate, low, high) for mean, median and IQM of `matrix` [runs,
    games], the interval from rliable's stratified bootstrap (`reps` resamples, percentile
    method) seeded with `seed`. rliable draws its resamples from numpy's global generator
    (StratifiedBootstrap.update_indices calls np.random.choice; the random_state it takes
    would seed only arch's unused one, and draws a deprecation warning), so that generator is
    seeded here and put back after."""
    library, metrics = _rliable()

    def estimates(scores: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_mean(scores), metrics.aggregate_median(scores),
                         metrics.aggregate_iqm(scores)])

    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        points, intervals = library.get_interval_estimates(
            {"agent": matrix}, estimates, reps=reps, confidence_interval_size=confidence)
    finally:
        np.random.set_state(saved)
    return {name: (float(points["agent"][i]), float(intervals["agent"][0, i]),
                   float(intervals["agent"][1, i])) for i, name in enumerate(METRICS)}


def build_report(records: list[EvalRecord], reps: int = 10_000, seed: int = 0) -> dict:
    """The report as a JSON-ready dict: protocol, per game and (with a human baseline) the
    aggregate. Raises ReportError for no records or records of several protocols."""
    if not records:
        raise ReportError("no eval records to report on")
    protocols = sorted({r.protocol for r in records})
    if len(protocols) > 1:
        raise ReportError(f"records of several protocols ({', '.join(protocols)}) cannot be "
                          "pooled: report each on its own")
    by_game = group_records(records)
    games = {}
    for game, seeds in by_game.items():
        runs = _ordered(seeds)
        normalized = [r.human_normalized for r in runs]
        games[game] = {
            "seeds": [r.seed for r in runs], "agent_steps": [r.agent_steps for r in runs],
            "mean_return": float(np.mean([r.mean for r in runs])),
            "mean_return_by_seed": [r.mean for r in runs],
            "episodes": sum(len(r.returns) for r in runs),
            "human_normalized": (None if None in normalized else float(np.mean(normalized)))}
    names, matrix, notes = score_matrix(by_game)
    report = {"format": 1, "protocol": protocols[0], "baseline_source": BASELINE_SOURCE,
              "games": games, "notes": notes, "aggregate": None}
    if names:
        report["aggregate"] = {
            "games": names, "runs_per_game": int(matrix.shape[0]), "reps": reps,
            "seed": seed, "confidence": 0.95, "method": "rliable stratified bootstrap",
            **{name: {"point": p, "ci": [lo, hi]}
               for name, (p, lo, hi) in aggregate(matrix, reps, seed).items()}}
    return report


def format_report(report: dict) -> list[str]:
    """The report as lines for a terminal."""
    lines = [f"protocol: {report['protocol']}; human baseline: {report['baseline_source']}",
             f"{'game':<18} {'seeds':>5} {'mean return':>12} {'human-norm.':>11}"]
    for game, row in report["games"].items():
        hns = row["human_normalized"]
        lines.append(f"{game:<18} {len(row['seeds']):>5} {row['mean_return']:>12.2f} "
                     f"{'-' if hns is None else f'{100 * hns:.1f}%':>11}")
    agg = report["aggregate"]
    if agg:
        lines.append(f"over {len(agg['games'])} games x {agg['runs_per_game']} seeds "
                     f"(95% stratified bootstrap, {agg['reps']} resamples):")
        for name in METRICS:
            point, (low, high) = agg[name]["point"], agg[name]["ci"]
            lines.append(f"  {name:<6} human-normalised {100 * point:7.1f}%  "
                         f"[{100 * low:.1f}%, {100 * high:.1f}%]")
    lines += [f"note: {note}" for note in report["notes"]]
    return lines


def read_curve(run_dir: Path) -> dict[str, list[tuple[float, float]]]:
    """column -> [(step, value)] for return_mean and eval_return_mean of RUN/metrics.csv
    (rows where the column is empty or nan are skipped)."""
    curves: dict[str, list[tuple[float, float]]] = {"return_mean": [], "eval_return_mean": []}
    with open(run_dir / "metrics.csv", newline="") as f:
        for row in csv.DictReader(f):
            for column, points in curves.items():
                try:
                    value = float(row.get(column) or "nan")
                    if not math.isnan(value):
                        points.append((float(row["step"]), value))
                except (KeyError, ValueError):
                    continue
    return curves


def plot_curves(records: list[EvalRecord], path: str | Path,
                log: Callable[[str], None] = print) -> Path | None:
    """Learning curves to a PNG: a panel a game, a line a seed (training return; dots for
    evaluations during training). None, after saying why, when no record has a metrics.csv."""
    from matplotlib.figure import Figure

    by_game = {game: [r for r in _ordered(seeds) if r.run_dir is not None]
               for game, seeds in group_records(records).items()}
    by_game = {game: runs for game, runs in by_game.items() if runs}
    if not by_game:
        log("no learning curves: no record comes from a run directory with a metrics.csv")
        return None
    fig = Figure(figsize=(4.5 * len(by_game), 3.4), layout="constrained")
    axes = fig.subplots(1, len(by_game), squeeze=False)[0]
    for ax, (game, runs) in zip(axes, by_game.items(), strict=True):
        for i, run in enumerate(runs):
            curves = read_curve(run.run_dir)
            colour = f"C{i % 10}"
            if curves["return_mean"]:
                ax.plot(*zip(*curves["return_mean"], strict=True), color=colour,
                        label=f"seed {run.seed}")
            if curves["eval_return_mean"]:
                ax.plot(*zip(*curves["eval_return_mean"], strict=True), "o", color=colour,
                        markersize=3)
        ax.set_title(game)
        ax.set_xlabel("agent steps")
        ax.set_ylabel("return")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    protocols = ", ".join(sorted({r.protocol for r in records}))
    fig.suptitle(f"protocol {protocols}: lines the training episodes' return, dots evaluations "
                 "during training", fontsize="small")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    log(f"learning curves: {path}")
    return path
