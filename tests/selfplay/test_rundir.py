"""Run directories: atomic checkpoints, resume rules, damaged files, metrics."""

from __future__ import annotations

import csv

import pytest
import torch

from envs.atomic import atomic_file
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


def test_resume_without_a_config(tmp_path):
    """A first attempt stopped before writing config.yaml (checkpoints/ is made first) starts
    afresh; checkpoints without a config cannot be checked, so they are not resumed."""
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    run = RunDir(tmp_path / "run", {"lr": 0.1}, resume=True)
    assert "starting the run afresh" in run.change_notes()[0]
    assert (tmp_path / "run" / "config.yaml").read_text() == "lr: 0.1\n"
    run.save_checkpoint({"step": 1}, 1)
    (tmp_path / "run" / "config.yaml").unlink()
    with pytest.raises(RunDirError, match="holds checkpoints but no config.yaml"):
        RunDir(tmp_path / "run", {"lr": 0.1}, resume=True)


def test_a_resumed_run_deletes_what_a_killed_writer_left_half_written(tmp_path):
    run = RunDir(tmp_path / "run", {"lr": 0.1})
    run.save_checkpoint({"step": 1}, 1)
    run.games.mkdir()
    (run.games / "game-000001.sgf").write_text("(;GM[1])")
    killed = [atomic_file(run.checkpoints / "ckpt-000000000002.pt"),
              atomic_file(run.games / "game-000002.sgf")]
    for writer in killed:  # entered and never left (nor collected): the writer was killed
        writer.__enter__().write(b"half")
    assert len(list(run.path.rglob(".*.tmp"))) == 2
    resumed = RunDir(tmp_path / "run", {"lr": 0.1}, resume=True)
    assert not list(run.path.rglob(".*.tmp"))
    assert [p.name for p in resumed.checkpoint_paths()] == ["ckpt-000000000001.pt"]
    assert (run.games / "game-000001.sgf").read_text() == "(;GM[1])"


def test_resume_may_change_only_the_changeable_keys_and_records_them(tmp_path):
    RunDir(tmp_path / "run", {"lr": 0.1, "n_step": 3, "steps": 10})
    changeable = frozenset({"lr", "steps"})
    with pytest.raises(RunDirError, match=r"differs .* in n_step; .*\(these may change on "
                                          r"resume: lr, steps\)"):
        RunDir(tmp_path / "run", {"lr": 0.2, "n_step": 1, "steps": 10}, resume=True,
               changeable=changeable)
    run = RunDir(tmp_path / "run", {"lr": 0.2, "n_step": 3, "steps": 20}, resume=True,
                 changeable=changeable)
    assert run.changes == [("lr", 0.1, 0.2), ("steps", 10, 20)]
    again = RunDir(tmp_path / "run", {"lr": 0.2, "n_step": 3, "steps": 20}, resume=True)
    assert again.changes == []  # config.yaml holds the new values


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


def _metrics_log(run: RunDir, resume_step: int | None, *rows: tuple[int, dict]) -> None:
    metrics = run.metrics(resume_step=resume_step)
    for step, values in rows:
        metrics.log(step, **values)
    metrics.close()


def test_a_resumed_run_drops_the_metrics_rows_logged_past_its_checkpoint(tmp_path):
    """Killed after the checkpoint of step 20 with rows up to 40 logged; resumed from 20, the
    rows after 20 (a discarded branch) go, the rows up to 20 stay, same-step ones included."""
    run = RunDir(tmp_path / "run", {})
    _metrics_log(run, None, (10, {"loss": 0.5}), (20, {"loss": 0.4}),
                 (20, {"eval_return": 7.0}), (30, {"loss": 0.3}), (40, {"late": 1.0}))
    resumed = RunDir(tmp_path / "run", {}, resume=True)
    _metrics_log(resumed, 20, (30, {"loss": 0.25}))
    with open(tmp_path / "run" / "metrics.csv", newline="") as f:
        header, *_ = csv.reader(f)
        f.seek(0)
        rows = list(csv.DictReader(f))
    assert header == ["step", "loss", "eval_return", "late"]
    assert [(r["step"], r["loss"], r["eval_return"]) for r in rows] == [
        ("10", "0.5", ""), ("20", "0.4", ""), ("20", "", "7.0"), ("30", "0.25", "")]
    _metrics_log(RunDir(tmp_path / "run", {}, resume=True), None, (40, {"loss": 0.2}))
    with open(tmp_path / "run" / "metrics.csv", newline="") as f:  # no resume_step: appends
        assert [r["step"] for r in csv.DictReader(f)] == ["10", "20", "20", "30", "40"]


def test_a_resumed_run_purges_tensorboard_events_past_its_checkpoint(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator  # a dependency
    run = RunDir(tmp_path / "run", {})
    _metrics_log(run, None, *((step, {"loss": step / 10}) for step in (10, 20, 30, 40)))
    _metrics_log(RunDir(tmp_path / "run", {}, resume=True), 20,
                 (30, {"loss": 0.25}), (40, {"loss": 0.2}))
    events = event_accumulator.EventAccumulator(str(tmp_path / "run" / "tb"))
    events.Reload()
    assert [(e.step, round(e.value, 3)) for e in events.Scalars("loss")] == [
        (10, 1.0), (20, 2.0), (30, 0.25), (40, 0.2)]
