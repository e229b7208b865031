"""Run directories: atomic checkpoints, resume rules, damaged files, metrics."""

from __future__ import annotations

import csv

import pytest
import torch

from selfplay.rundir import RunDir, RunDirError


def test_checkpoints_round_trip_and_only_the_newest_are_kept(tmp_path):
    run = RunDir(tmp_path / "run", {"lr": 0.1}, keep=2)
    for step in (10, 20, 30):
        run.save_checkpoint({"step": step, "w": torch.full((3,), float(step))}, step)
    assert [p.name for p in run.checkpoint_paths()] == ["ckpt-000000000020.pt",
                                                       "ckpt-000000000030.pt"]
    state = run.load_checkpoint()
    assert state["step"] == 30 and torch.equal(state["w"], torch.full((3,), 30.0))
    assert not list((tmp_path / "run" / "checkpoints").glob(".*"))  # no temporary files left


def test_resume_rules(tmp_path):
    run = RunDir(tmp_path / "run", {"lr": 0.1})
    run.save_checkpoint({"step": 1}, 1)
    with pytest.raises(RunDirError, match="already holds a run"):
        RunDir(tmp_path / "run", {"lr": 0.1})
    with pytest.raises(RunDirError, match="differs .* in lr"):
        RunDir(tmp_path / "run", {"lr": 0.2}, resume=True)
    with pytest.raises(RunDirError, match="holds no run"):
        RunDir(tmp_path / "other", {"lr": 0.1}, resume=True)
    assert RunDir(tmp_path / "run", {"lr": 0.1}, resume=True).load_checkpoint()["step"] == 1


def test_a_damaged_checkpoint_is_named_and_left_alone(tmp_path):
    run = RunDir(tmp_path / "run", {})
    path = run.save_checkpoint({"step": 5}, 5)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RunDirError, match="damaged"):
        run.load_checkpoint()
    assert path.read_bytes() == data[: len(data) // 2]


def test_metrics_csv_grows_new_columns_and_appends_on_resume(tmp_path):
    run = RunDir(tmp_path / "run", {})
    metrics = run.metrics()
    metrics.log(1, loss=0.5)
    metrics.log(2, loss=0.4, games_per_s=3.0)
    metrics.close()
    again = RunDir(tmp_path / "run", {}, resume=True).metrics()
    again.log(3, loss=0.3)
    again.close()
    with open(tmp_path / "run" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    assert rows[1]["games_per_s"] == "3.0" and rows[0]["games_per_s"] == ""
