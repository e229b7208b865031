"""`rlgo atari eval`'s JSON record and `rlgo atari report`: the aggregate against rliable
called directly, the report of runs written to disk, the learning curves."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from envs.atari.baselines import human_normalized_score
from rlgo.cli import main
from selfplay.atari import DQNConfig, ReplayConfig, train
from selfplay.atari.report import (
    ReportError,
    aggregate,
    build_report,
    format_report,
    load_records,
    plot_curves,
)
from tests.conftest import require

# [seeds, games] human-normalised scores: skewed, with an outlier, unequal spreads
FIXED = np.array([[0.10, 1.50, 0.02, 3.00, 0.70],
                  [0.30, 1.10, 0.05, 2.10, 0.40],
                  [0.20, 0.90, 0.00, 9.00, 0.55]])


@pytest.fixture(scope="module")
def rliable():
    require("rliable (pip install 'rlgo[report]')", importlib.util.find_spec("rliable")
            is not None)
    from rliable import library, metrics

    return library, metrics


def test_aggregate_equals_rliable_called_directly_with_the_same_seed(rliable):
    library, metrics = rliable

    def mean_median_iqm(scores: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_mean(scores), metrics.aggregate_median(scores),
                         metrics.aggregate_iqm(scores)])

    # rliable resamples with numpy's global generator (its random_state seeds another one)
    np.random.seed(7)
    points, intervals = library.get_interval_estimates({"x": FIXED}, mean_median_iqm, reps=300)
    after = np.random.random()
    np.random.seed(123)
    ours = aggregate(FIXED, reps=300, seed=7)
    assert np.random.random() == np.random.RandomState(123).random()  # put back
    for i, name in enumerate(("mean", "median", "iqm")):
        point, low, high = ours[name]
        assert point == pytest.approx(points["x"][i])
        assert (low, high) == pytest.approx((intervals["x"][0, i], intervals["x"][1, i]))
        assert low <= point <= high
    flat = np.sort(FIXED.ravel())
    assert ours["mean"][0] == pytest.approx(FIXED.mean())
    assert ours["median"][0] == pytest.approx(np.median(FIXED.mean(axis=0)))
    # 15 scores: the IQM drops the 3 lowest and 3 highest (scipy's trim_mean, whole scores)
    assert ours["iqm"][0] == pytest.approx(flat[3:12].mean())
    assert aggregate(FIXED, reps=300, seed=8)["iqm"][1:] != ours["iqm"][1:]
    assert aggregate(FIXED, reps=300, seed=7) == ours
    assert after != np.random.random()


def _record(folder: Path, game: str, seed: int, returns: list[float], steps: int = 1000,
            protocol: str = "nature", curve: list[tuple[int, float]] = ()) -> Path:
    """A run directory with an eval record (what write_eval_json writes) and a metrics.csv."""
    run = folder / f"{game}-s{seed}"
    run.mkdir(parents=True)
    mean = float(np.mean(returns))
    (run / f"eval-{steps:012d}.json").write_text(json.dumps({
        "format": 1, "env_id": game, "game": game, "seed": seed, "eval_seed": 0,
        "protocol": protocol, "agent_steps": steps, "eps": 0.05, "episodes": len(returns),
        "returns": returns, "mean": mean, "std": float(np.std(returns)),
        "human_normalized": human_normalized_score(game, mean)}))
    rows = ["step,return_mean,eval_return_mean"]
    rows += [f"{step},{value},{value + 1 if step == curve[-1][0] else ''}"
             for step, value in curve]
    (run / "metrics.csv").write_text("\n".join(rows) + "\n")
    return run


def test_report_of_two_games_by_two_seeds_from_run_directories(rliable, tmp_path):
    runs = [_record(tmp_path, "pong", 1, [20.0, 21.0], curve=[(500, -20.0), (1000, 10.0)]),
            _record(tmp_path, "pong", 2, [18.0, 19.0], curve=[(500, -21.0), (1000, 5.0)]),
            _record(tmp_path, "breakout", 1, [30.5], curve=[(500, 1.0), (1000, 20.0)]),
            _record(tmp_path, "breakout", 2, [60.0], curve=[(500, 2.0), (1000, 40.0)])]
    _record(tmp_path / "old", "pong", 1, [-21.0], steps=500)  # fewer steps: not kept
    records = load_records([*runs, tmp_path / "old" / "pong-s1" / "eval-000000000500.json"])
    report = build_report(records, reps=200, seed=0)
    pong, breakout = report["games"]["pong"], report["games"]["breakout"]
    assert pong["seeds"] == [1, 2] and pong["mean_return"] == pytest.approx(19.5)
    assert pong["human_normalized"] == pytest.approx((19.5 + 20.7) / 35.3)
    assert breakout["human_normalized"] == pytest.approx(np.mean([1.0, 58.3 / 28.8]))
    agg = report["aggregate"]
    assert (agg["games"], agg["runs_per_game"]) == (["breakout", "pong"], 2)
    matrix = np.array([[1.0, (20.5 + 20.7) / 35.3], [58.3 / 28.8, (18.5 + 20.7) / 35.3]])
    expected = aggregate(matrix, reps=200, seed=0)
    for name in ("mean", "median", "iqm"):
        assert [agg[name]["point"], *agg[name]["ci"]] == pytest.approx(list(expected[name]))
    text = "\n".join(format_report(report))
    assert "protocol: nature" in text and "Wang et al. 2016" in text
    assert "iqm" in text and "over 2 games x 2 seeds" in text
    png = plot_curves(records, tmp_path / "curves.png", log=lambda line: None)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_refuses_mixed_protocols_and_says_what_it_left_out(rliable, tmp_path):
    nature = _record(tmp_path, "pong", 1, [0.0])
    machado = _record(tmp_path / "m", "pong", 2, [1.0], protocol="machado")
    with pytest.raises(ReportError, match="several protocols"):
        build_report(load_records([nature, machado]), reps=50)
    unequal = [nature, _record(tmp_path, "pong", 2, [2.0]), _record(tmp_path, "boxing", 1, [5.0]),
               _record(tmp_path, "adventure", 1, [0.0])]
    report = build_report(load_records(unequal), reps=50)
    assert report["aggregate"]["runs_per_game"] == 1
    assert any("unequal numbers of seeds" in note for note in report["notes"])
    assert any("adventure" in note for note in report["notes"])
    with pytest.raises(ReportError, match="holds no eval"):
        load_records([tmp_path])


def test_without_rliable_the_report_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "rliable", None)  # what a missing package looks like
    with pytest.raises(ReportError, match=r"pip install 'rlgo\[report\]'"):
        aggregate(FIXED, reps=10)


PONG = DQNConfig(total_steps=40, learning_starts=40, batch_size=4, train_every=8,
                 target_update=80, optimizer="adam", lr=1e-4, eps_decay_steps=400, eval_every=0,
                 checkpoint_every=40, log_every=20, num_envs=2, seed=5, device="cpu",
                 torch_threads=1, replay=ReplayConfig(capacity=120))


def test_eval_writes_the_json_record_that_the_report_reads(rliable, tmp_path, capsys):
    run = tmp_path / "run"
    train(dataclasses.replace(PONG), "Pong", run, log=lambda line: None)
    assert main(["atari", "eval", "--checkpoint", str(run), "--episodes", "1", "--eps", "1",
                 "--device", "cpu"]) == 0
    record = json.loads((run / "eval-000000000040.json").read_text())
    assert {k: record[k] for k in ("game", "seed", "protocol", "agent_steps", "episodes",
                                   "eps")} == {"game": "pong", "seed": 5, "protocol": "nature",
                                               "agent_steps": 40, "episodes": 1, "eps": 1.0}
    assert len(record["returns"]) == 1 and record["mean"] == record["returns"][0]
    assert record["human_normalized"] == pytest.approx((record["mean"] + 20.7) / 35.3)
    assert (record["random_score"], record["human_score"]) == (-20.7, 14.6)
    out = tmp_path / "report.json"
    assert main(["atari", "report", str(run), "--json", str(out), "--png",
                 str(tmp_path / "c.png"), "--reps", "100"]) == 0
    report = json.loads(out.read_text())
    assert report["games"]["pong"]["mean_return"] == record["mean"]
    assert (tmp_path / "c.png").is_file()
    out = capsys.readouterr().out
    assert "protocol: nature; agent steps 40, training seed 5" in out and "pong" in out
    assert main(["atari", "report", str(tmp_path / "nothing")]) == 2
