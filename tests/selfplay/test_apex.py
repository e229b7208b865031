"""Ape-X: per-actor epsilons, chunks that rebuild each actor's stream exactly in a shared
replay, and a few hundred steps on a real local Ray with 2 actors (plus the CLI in process)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from agents.dqn import apex_epsilons
from envs.atari.classic import EnvStep
from rlgo.cli import main
from selfplay.atari import DQNConfig, ReplayConfig, evaluate
from selfplay.atari import apex_actor as apex_actor_module
from selfplay.atari.apex import ApexSettings, train_distributed
from selfplay.atari.apex_actor import ActorSpec, ApexActor, make_replay
from selfplay.replay import UniformSampler
from selfplay.replay.frames import FrameReplay
from selfplay.rundir import load_checkpoint_file
from selfplay.runtime import RuntimeSettings

CARTPOLE = DQNConfig(
    env="CartPole-v1", total_steps=400, learning_starts=100, batch_size=16, optimizer="adam",
    lr=1e-3, n_step=3, target_update=50, train_every=2, double=True, network="mlp",
    mlp_hidden=(32, 32), eval_every=0, checkpoint_every=200, log_every=200, num_envs=2,
    seed=5, device="cpu", torch_threads=1, replay=ReplayConfig(capacity=600))


def test_apex_epsilons_follow_the_formula():
    for n in (2, 3, 8):
        expected = [0.4 ** (1 + 7 * i / (n - 1)) for i in range(n)]
        assert apex_epsilons(n) == pytest.approx(expected)
    assert apex_epsilons(1).tolist() == [0.4]


class FakeFrames:
    """A vector env of 2x2 'frames' holding a running counter, stacks of 4 (zeros before an
    episode's first frame), episodes of 2..6 steps ending terminated or truncated, and
    NEXT_STEP autoreset, so chunk boundaries meet episode boundaries often."""

    def __init__(self, num_envs: int, seed: int = 0) -> None:
        self.num_envs, self.num_actions, self.obs_shape = num_envs, 2, (4, 2, 2)
        self.rng = np.random.default_rng(seed)
        self.count = 0

    def _new_game(self, e: int) -> None:
        self.stacks[e] = 0
        self.left[e] = self.rng.integers(2, 7)
        self._push(e)

    def _push(self, e: int) -> None:
        self.count += 1
        self.stacks[e] = np.roll(self.stacks[e], -1, axis=0)
        self.stacks[e, -1] = self.count % 251

    def reset(self, seed: int | None = None) -> np.ndarray:
        self.stacks = np.zeros((self.num_envs, *self.obs_shape), np.uint8)
        self.left = np.zeros(self.num_envs, int)
        self.done = np.zeros(self.num_envs, bool)
        for e in range(self.num_envs):
            self._new_game(e)
        return self.stacks.copy()

    def step(self, actions: np.ndarray) -> EnvStep:
        n = self.num_envs
        reward = np.zeros(n, np.float32)
        terminated, truncated, reset = (np.zeros(n, bool) for _ in range(3))
        for e in range(n):
            if self.done[e]:
                reset[e], self.done[e] = True, False
                self._new_game(e)
                continue
            self._push(e)
            reward[e] = 1.0 + actions[e]
            self.left[e] -= 1
            if self.left[e] == 0:
                self.done[e] = True
                terminated[e] = self.rng.random() < 0.5
                truncated[e] = not terminated[e]
        return EnvStep(self.stacks.copy(), reward, reward.copy(), terminated, truncated, reset)

    def close(self) -> None:
        pass


def test_chunks_rebuild_each_actors_stream_in_a_shared_replay(monkeypatch):
    """Chunks of two actors, interleaved in one ring, give exactly the transitions a
    single-stream replay of each actor's unchunked rows gives; context and look-ahead rows
    are never sampleable, and only real transitions get a priority."""
    monkeypatch.setattr(apex_actor_module, "make_vec_env",
                        lambda env_id, num_envs, **_: FakeFrames(num_envs, seed=len(env_id)))
    config = dataclasses.replace(CARTPOLE, network="mlp", n_step=3, num_envs=2)
    actors, rows = [], []
    for actor_id in range(2):
        actor = ApexActor(ActorSpec("fake" * (actor_id + 1), config, 2, chunk=5), actor_id)
        seen: list[dict] = []
        step = actor._step
        monkeypatch.setattr(actor, "_step", lambda out, s=step, a=actor, k=seen: (
            s(out), k.append(a.rows[-1])))
        actors.append(actor)
        rows.append(seen)
    shared = make_replay(config, (4, 2, 2), np.uint8, 2 * 400, 0)
    chunks = []  # (actor, first global row of the chunk, indices [R, E], context, records)
    for _ in range(6):
        for a, actor in enumerate(actors):
            context, start = actor.context, len(rows[a]) - len(actor.rows)
            start = start if actor.rows else len(rows[a])
            chunk = actor.run(1)[0]
            indices = shared.add(chunk["records"], chunk["td_errors"]).reshape(-1, 2)
            chunks.append((a, start, indices, context, chunk))
    references = []
    for a in range(2):
        ref = FrameReplay(2 * 400, (2, 2), np.uint8, sampler=UniformSampler(
            np.random.default_rng(0)), stack=4, streams=2, n_step=3, gamma=config.gamma)
        for row in rows[a]:
            ref.add_row(row["frame"], row["action"], row["reward"], row["terminated"],
                        row["truncated"], row["first"], row["last"])
        references.append(ref)
    checked = 0
    for a, start, indices, context, chunk in chunks:
        body = slice(context, context + 5)
        got, valid = shared.gather(indices[body].reshape(-1))
        global_rows = np.arange(start + context, start + context + 5)
        want, want_valid = references[a].gather((global_rows[:, None] * 2 + np.arange(2))
                                                .reshape(-1))
        assert np.array_equal(valid, want_valid)
        for key in ("obs", "next_obs", "action", "reward", "discount", "steps"):
            assert np.array_equal(got[key][valid], want[key][valid]), key
        outside = np.ones(len(indices), bool)
        outside[body] = False
        assert not shared.valid(indices[outside].reshape(-1)).any()
        assert not chunk["td_errors"][outside].any()
        assert np.count_nonzero(chunk["td_errors"][body].reshape(-1)[valid]) == valid.sum()
        checked += valid.sum()
    assert checked > 80


def test_distributed_training_on_ray_with_two_actors(ray_session, tmp_path):
    lines: list[str] = []
    settings = ApexSettings(chunk=10, publish_every=4, train_batch=4, runtime=RuntimeSettings(
        actors=2, actor_cpus=0.5, learner_cpus=1.0))
    result = train_distributed(CARTPOLE, None, tmp_path / "run", settings, save_replay=True,
                               log=lines.append)
    assert result.steps >= 400 and set(result.actor_steps) == {0, 1}
    assert all(steps >= 40 for steps in result.actor_steps.values())
    assert result.epsilons == pytest.approx({0: 0.4, 1: 0.4 ** 8})
    assert result.updates >= (400 - 100) // 2 and max(result.versions) > 0
    assert len(result.versions) >= 3  # actors picked up new weights as they went
    assert any("eps 0.4..0.00066 (2 actors)" in line for line in lines)
    state = load_checkpoint_file(result.checkpoint)
    assert state["mode"] == "apex" and state["updates"] == result.updates
    replay = np.load(next((tmp_path / "run" / "replay").glob("step-*/shard-0/replay.npz")))
    priorities = replay["sampler/priorities"][replay["sampler/used"]]
    assert len(np.unique(priorities)) > 100  # first priorities, then the learner's
    scores = evaluate(tmp_path / "run", episodes=2, eps=0.0, log=lines.append).scores
    assert len(scores) == 2


def test_a_killed_actor_is_replaced_with_its_epsilon(ray_session, tmp_path):
    from selfplay.runtime.ray_backend import RayBackend

    class KillActorZeroOnce(RayBackend):
        def poll(self, timeout, remaining):
            out = super().poll(timeout, remaining)
            if out and not self.restarts and 0 in self.actor_handles():
                ray_session.kill(self.actor_handles()[0], no_restart=True)
            return out

    backend = KillActorZeroOnce(actor_cpus=0.5, learner_cpus=1.0)
    config = dataclasses.replace(CARTPOLE, total_steps=200, checkpoint_every=200)
    result = train_distributed(config, None, tmp_path / "run", ApexSettings(
        chunk=10, runtime=RuntimeSettings(actors=2)),
                               log=lambda line: None, backend=backend)
    assert result.actor_restarts == 1 and result.steps >= 200
    assert result.actor_steps.get(2, 0) > 0 and result.epsilons[2] == pytest.approx(0.4)


def test_a_killed_learner_is_recovered_from_the_last_checkpoint(ray_session, tmp_path):
    """The learner's weights and optimizer are not in any actor: its death rebuilds the
    backend and the run resumes from its last checkpoint by itself, to total_steps."""
    killed, lines = [], []

    def kill_learner(step: int, backend) -> None:
        if step >= 300 and not killed:
            ray_session.kill(backend._learner.handles()[0])
            killed.append(step)

    config = dataclasses.replace(CARTPOLE, total_steps=500, checkpoint_every=200)
    settings = ApexSettings(chunk=10, runtime=RuntimeSettings(actors=1, actor_cpus=0.5,
                                                              learner_cpus=1.0))
    result = train_distributed(config, None, tmp_path / "run", settings, log=lines.append,
                               on_chunk=kill_learner)
    assert killed and result.recoveries == 1 and result.steps >= 500
    assert any("died" in line and "resuming from the last checkpoint (recovery 1" in line
               for line in lines)
    assert any(line.startswith("resumed at step 2") for line in lines)  # the checkpoint at 200+
    assert load_checkpoint_file(result.checkpoint)["step"] == result.steps


def test_cli_distributed_in_process(tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["atari", "train", "--env", "CartPole-v1", "--distributed", "--actors", "2",
                 "--address", "local", "--run-dir", str(run), "--set", "total_steps=300",
                 "--set", "learning_starts=100", "--set", "log_every=100",
                 "--set", "eval_every=0", "--set", "replay.capacity=400"])
    out = capsys.readouterr().out
    assert code == 0 and "Ape-X: 2 actors" in out and "ckpt-" in out
    assert main(["atari", "train", "--env", "CartPole-v1", "--actors", "2"]) == 2
    assert "--distributed" in capsys.readouterr().err
    assert main(["atari", "train", "--run-dir", str(run), "--resume"]) == 2  # not without it
    assert "resume it with --distributed" in capsys.readouterr().err
    assert main(["atari", "train", "--run-dir", str(run), "--resume", "--distributed",
                 "--local"]) == 0
    assert "resumed at step 3" in capsys.readouterr().out


def test_ctrl_c_in_a_terminal_stops_ape_x_on_ray_with_a_checkpoint(tmp_path):
    """A terminal's Ctrl-C is a SIGINT to its whole foreground process group: the driver and
    the embedded Ray it started. Ray's processes block SIGINT, so the learner is still there
    when the driver, at the end of its step, writes the checkpoint of that step."""
    run = tmp_path / "run"
    command = [sys.executable, "-m", "rlgo.cli", "atari", "train", "--env", "CartPole-v1",
               "--distributed", "--actors", "2", "--run-dir", str(run), "--set", "device=cpu",
               "--set", "total_steps=10000000", "--set", "learning_starts=100",
               "--set", "log_every=300", "--set", "eval_every=0", "--set", "replay.capacity=2000"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own group, as a terminal's job
    try:
        out = ""
        for line in proc.stdout:  # wait until the learner has done updates on Ray
            out += line
            if "| updates" in line:
                break
        os.killpg(proc.pid, signal.SIGINT)
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out += rest
    assert proc.returncode == 128 + signal.SIGINT, err[-2000:]
    assert "SIGINT: stopping after this step with a checkpoint" in err
    assert f"continue with: rlgo atari train --run-dir {run} --resume --distributed" in out
    step = int(out.split("stopped: ")[1].split(" steps")[0].replace(",", ""))
    state = load_checkpoint_file(run / "checkpoints" / f"ckpt-{step:012d}.pt")
    assert state["mode"] == "apex" and state["step"] == step and state["updates"] > 0


def test_bench_atari_smoke(ray_session, tmp_path):
    """Every figure of `rlgo bench atari`, from tiny rounds (speed itself is not asserted)."""
    import json

    out = tmp_path / "atari.json"
    code = main(["bench", "atari", "--json", str(out), "--set", "seconds=0.05",
                 "--set", "rounds=1", "--set", "vector_envs=2", "--set", "fill_steps=32",
                 "--set", "timed_steps=16", "--set", "distributed_steps=100"])
    figures = json.loads(out.read_text())
    assert code == 0
    for key in ("env_steps_per_s_single", "env_steps_per_s_vector", "learner_updates_per_s",
                "learner_updates_per_s_rmsprop",
                "agent_steps_per_s", "agent_steps_per_s_1env", "reference_agent_steps_per_s",
                "speedup_vs_reference", "sb3_agent_steps_per_s", "speedup_vs_sb3",
                "agent_steps_per_s_distributed"):
        assert figures[key] > 0, key


def test_the_bench_runs_sb3_on_the_same_terms():
    """SB3's DQN as the bench builds it: the Nature CNN, batch 32, a step every 4, a target
    copy every 1,000 steps, Adam at 1e-4, the replay size asked for, on the CPU."""
    from torch import nn

    from rlgo.bench import atari_sb3

    assert atari_sb3.available()  # installed by the dev extra: CI runs this comparison
    model = atari_sb3.build("Pong", learning_starts=100, total_steps=200, capacity=5_000)
    try:
        assert (model.batch_size, model.train_freq.frequency, model.gradient_steps) == (32, 4, 1)
        assert model.target_update_interval == 1000 and model.buffer_size == 5_000
        assert model.learning_rate == 1e-4 and model.device.type == "cpu"
        assert type(model.policy.optimizer).__name__ == "Adam"
        assert model.observation_space.shape == (4, 84, 84)  # 4 stacked frames
        convs = [m for m in model.q_net.features_extractor.cnn if isinstance(m, nn.Conv2d)]
        assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [
            (32, (8, 8), (4, 4)), (64, (4, 4), (2, 2)), (64, (3, 3), (1, 1))]
        assert model.q_net.features_extractor.linear[0].out_features == 512
    finally:
        model.get_env().close()
