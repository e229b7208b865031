"""Damaged weight and checkpoint files are refused in one line, exit status 2 (issue 22,
finding 3). torch.load does not check the zip CRCs, so 2,000 random bytes written into the
middle of policy_9x9.pt loaded with exit status 0 (and wrong weights); a 0-byte file gave an
IndexError traceback. Every loader a user points at a file with checks the archive first:
Go networks (.pt), the rollout policy (.npz), DQN checkpoints (`atari eval`) and the
checkpoints a resumed run loads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.alphago.nets.networks import WEIGHTS_DIR
from agents.alphago.playouts.linear import RolloutPolicy, RolloutWeightsError
from envs.checks import archive_problem
from rlgo.cli import main
from selfplay.rundir import RunDir, RunDirError

DAMAGE = {"middle": "damaged", "empty": "empty (0 bytes)", "truncated": "truncated"}


def damaged_copy(source: Path, target: Path, damage: str) -> Path:
    """`source` copied to `target` with 2,000 random bytes in its middle, as 0 bytes, or cut
    in half."""
    data = source.read_bytes()
    if damage == "middle":
        mid = len(data) // 2
        data = data[:mid] + np.random.default_rng(22).bytes(2000) + data[mid + 2000:]
    elif damage == "empty":
        data = b""
    else:
        data = data[: len(data) // 2]
    target.write_bytes(data)
    return target


def one_line_error(capsys, argv: list[str], *expected: str) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("rlgo: error: ") and captured.err.count("\n") == 1
    for text in expected:
        assert text in captured.err, captured.err


def test_shipped_weights_pass_the_check():
    shipped = sorted(WEIGHTS_DIR.glob("*.pt")) + sorted(WEIGHTS_DIR.glob("*.npz"))
    assert len(shipped) >= 3
    for path in shipped:
        assert archive_problem(path) is None, path


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_policy_network(tmp_path, capsys, damage):
    bad = damaged_copy(WEIGHTS_DIR / "policy_9x9.pt", tmp_path / "policy.pt", damage)
    one_line_error(capsys, ["go", "train-rl", "--init", str(bad), "--run-dir",
                            str(tmp_path / "run"), "--local", "--quiet"],
                   str(bad), "not a readable weight file", DAMAGE[damage])
    assert not (tmp_path / "run" / "config.yaml").exists()  # refused before the run began


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_rollout_policy(tmp_path, damage):
    bad = damaged_copy(WEIGHTS_DIR / "rollout_9x9.npz", tmp_path / "rollout.npz", damage)
    with pytest.raises(RolloutWeightsError, match=re.escape(DAMAGE[damage])) as err:
        RolloutPolicy.load(bad)  # what `go gtp/play --rollout-weights` and bench mcts call
    assert str(err.value).startswith(f"{bad}: not a readable rollout weight file")
    assert "\n" not in str(err.value)


@pytest.fixture
def run_with_checkpoint(tmp_path) -> RunDir:
    """A run directory whose one checkpoint is big enough that its middle is tensor data."""
    run = RunDir(tmp_path / "run", {"seed": 0})
    run.save_checkpoint({"net": torch.arange(50_000, dtype=torch.float32), "steps": 7}, 100)
    return run


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_dqn_checkpoint(tmp_path, capsys, run_with_checkpoint, damage):
    good = run_with_checkpoint.checkpoint_paths()[-1]
    bad = damaged_copy(good, tmp_path / "ckpt.pt", damage)
    one_line_error(capsys, ["atari", "eval", "--checkpoint", str(bad)], str(bad), DAMAGE[damage])


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_resume_checkpoint(run_with_checkpoint, damage):
    assert run_with_checkpoint.load_checkpoint()["steps"] == 7
    newest = run_with_checkpoint.checkpoint_paths()[-1]
    damaged_copy(newest, newest, damage)
    resumed = RunDir(run_with_checkpoint.path, {"seed": 0}, resume=True)
    with pytest.raises(RunDirError, match=re.escape(DAMAGE[damage])) as err:
        resumed.load_checkpoint()
    assert str(newest) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_archive_problem_names_what_is_not_a_file(tmp_path, kind):
    path = tmp_path / "x.pt"
    if kind == "folder":
        path.mkdir()
    assert archive_problem(path) == {"missing": "no such file",
                                     "folder": "not a regular file"}[kind]
