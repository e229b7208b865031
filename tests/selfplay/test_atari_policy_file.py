"""Policy files: a checkpoint exported to float16 weights plays as the checkpoint does, eval
and watch take one, and the shipped Pong network wins a whole game of Pong."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlgo.cli import main
from selfplay.atari import DQNConfig, ReplayConfig, play_episodes, train
from selfplay.atari.policy_file import (
    FORMAT,
    WEIGHTS_DIR,
    export_policy,
    load_policy,
    shipped_policy,
)
from selfplay.rundir import RunDirError

TINY_PONG = DQNConfig(total_steps=40, learning_starts=40, batch_size=4, train_every=8,
                      target_update=80, optimizer="adam", lr=1e-4, eps_decay_steps=400,
                      dueling=True, eval_every=0, checkpoint_every=40, log_every=40,
                      num_envs=2, device="cpu", torch_threads=1,
                      replay=ReplayConfig(capacity=120))


@pytest.fixture(scope="module")
def pong_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("policy") / "run"
    train(TINY_PONG, "Pong", run, log=lambda line: None)
    return run


def test_an_exported_policy_plays_as_its_checkpoint(pong_run, tmp_path):
    out = export_policy(pong_run, tmp_path / "pong.pt")
    state = torch.load(out, weights_only=True)
    assert state["format"] == FORMAT and state["step"] == 40 and "learner" not in state
    assert {t.dtype for t in state["network"].values() if t.is_floating_point()} == \
        {torch.float16}
    checkpoint = sorted((pong_run / "checkpoints").iterdir())[-1]
    assert out.stat().st_size < 0.45 * checkpoint.stat().st_size
    full, config, _ = load_policy(pong_run)
    small, small_config, _ = load_policy(out)
    assert small_config == config and next(small.parameters()).dtype == torch.float32
    frames = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (8, 4, 84, 84),
                                                                dtype=np.uint8))
    with torch.no_grad():
        q_full, q_small = full(frames), small(frames)
    spread = float(q_full.max() - q_full.min())
    assert torch.allclose(q_full, q_small, atol=1e-2 * spread)
    with pytest.raises(RunDirError, match="already a policy file"):
        export_policy(out, tmp_path / "again.pt")


def test_cli_export_then_eval_keeps_no_record_beside_a_policy_file(pong_run, tmp_path,
                                                                   capsys):
    out = tmp_path / "exported" / "pong.pt"
    assert main(["atari", "export", "--checkpoint", str(pong_run), "--out", str(out)]) == 0
    assert f"policy file: {out}" in capsys.readouterr().out
    assert main(["atari", "eval", "--checkpoint", str(out), "--episodes", "1", "--eps", "1",
                 "--threads", "1", "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "record: none (a policy file belongs to no run" in said
    assert sorted(p.name for p in out.parent.iterdir()) == ["pong.pt"]
    assert main(["atari", "export", "--checkpoint", str(tmp_path / "none"),
                 "--out", str(tmp_path / "x.pt")]) == 2
    assert "rlgo: error:" in capsys.readouterr().err


def test_the_shipped_pong_network_wins_a_whole_game():
    path = shipped_policy("ALE/Pong-v5")
    assert path == WEIGHTS_DIR / "pong.pt" and path.stat().st_size < 8 * 2**20
    network, config, state = load_policy(path)
    assert state["env_id"] == "Pong" and config.protocol == "nature"
    [score] = play_episodes(network, "Pong", config, 1, eps=0.05, seed=1)
    assert score >= 10  # 21 points to at most 11: an untrained net loses 0-21
    with pytest.raises(RunDirError, match=r"no trained network ships for Breakout \(shipped: "
                                          r"pong\)"):
        shipped_policy("Breakout")
