"""Go self-play on the runtime: game records and examples, the learner, whole runs in process
and on real Ray (with an actor killed mid-run), SIGKILL then resume, and the CLI command."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from envs.go import BLACK, RESIGN, WHITE, Position, Rules
from envs.go.sgf import load_sgf_file
from rlgo.cli import main
from selfplay.go.actor import GoActorSettings, GoSelfPlayActor, make_replay
from selfplay.go.learner import GoLearner
from selfplay.go.loop import RESUMABLE, SelfPlayConfig, run_selfplay
from selfplay.rundir import RunDir, RunDirError
from selfplay.runtime import RuntimeSettings, run_identity

ROOT = Path(__file__).resolve().parents[3]
SMALL = dict(size=5, komi=0.5, visits=8, batch_size=16, min_replay=32, lr=0.03,
             publish_every=4, checkpoint_every=2, progress_every=0.2, replay_capacity=5000)


def test_a_self_play_game_gives_consistent_training_examples():
    actor = GoSelfPlayActor(GoActorSettings(size=5, komi=0.5, visits=8, seed=3), actor_id=1)
    actor.set_weights(7, {"w": np.zeros(1)})
    [game] = actor.run(1)
    ex, t = game["examples"], game["positions"]
    assert game["weights_version"] == 7 and game["actor_id"] == 1
    assert ex["board"].shape == (t, 25) and ex["board"].dtype == np.int8
    assert ex["to_play"].shape == (t,) and ex["to_play"].dtype == np.int8
    assert ex["policy"].shape == (t, 26) and ex["policy"].dtype == np.float32
    assert ex["z"].shape == (t,) and ex["z"].dtype == np.float32
    assert np.allclose(ex["policy"].sum(1), 1.0) and (ex["policy"] >= 0).all()
    position = Position.new(Rules(size=5, komi=0.5))
    played = [(c, m) for c, m in game["moves"] if m != RESIGN]
    assert len(played) == t
    for i, (colour, move) in enumerate(played):
        assert np.array_equal(ex["board"][i], position.board)
        assert ex["to_play"][i] == position.to_play == colour
        assert not ex["policy"][i, :25][position.board != 0].any()  # visits on empty points
        position = position.play(move, colour)
    if game["result"] != "0":
        winner = BLACK if game["result"].startswith("B") else WHITE
        assert np.array_equal(ex["z"], np.where(ex["to_play"] == winner, 1.0, -1.0))
    if not game["result"].endswith("+R"):
        assert position.result() == game["result"]
    make_replay(5, 100, 0, 0).add(ex)  # fits the replay spec


def test_the_learner_fits_repeated_data_and_resumes_exactly():
    rng = np.random.default_rng(0)
    batch = {"board": rng.integers(0, 3, (32, 25)).astype(np.int8),
             "to_play": rng.integers(1, 3, 32).astype(np.int8),
             "policy": rng.dirichlet(np.full(26, 0.3), 32).astype(np.float32),
             "z": rng.choice([-1.0, 1.0], 32).astype(np.float32)}
    learner = GoLearner(5, lr=0.01, seed=0)
    losses = [learner.step(batch)["loss"] for _ in range(30)]
    assert losses[-1] < 0.8 * losses[0] and losses == sorted(losses, reverse=True)
    version, weights = learner.get_weights()
    assert version == 30 and weights["policy.weight"].shape == (26, 75)
    buffer = io.BytesIO()
    torch.save(learner.state_dict(), buffer)
    buffer.seek(0)
    resumed = GoLearner(5, lr=0.01, seed=99)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert resumed.step(batch) == learner.step(batch)


def _sgf_count(run: Path) -> int:
    return len(list((run / "games").glob("game-*.sgf")))


def _losses(run: Path) -> list[float]:
    with open(run / "metrics.csv", newline="") as f:
        return [float(row["loss"]) for row in csv.DictReader(f) if row.get("loss")]


def test_a_local_run_end_to_end_then_resumed_for_more_games(tmp_path):
    run = tmp_path / "run"
    config = SelfPlayConfig(**SMALL, games=4, runtime=RuntimeSettings(backend="local", actors=2))
    lines: list[str] = []
    summary = run_selfplay(config, run, progress=lines.append)
    assert summary["games"] == 4 and _sgf_count(run) == 4
    assert summary["replay"] == summary["positions"] > 0
    assert summary["learner_steps"] == 16 and summary["counters"]["max_version_seen"] > 0
    assert "games 4/4" in lines[-1] and "weights v16" in lines[-1]
    for path in sorted((run / "games").glob("*.sgf")):
        record = load_sgf_file(path)
        assert record.size == 5 and record.result and record.moves
    assert _losses(run)
    with pytest.raises(RunDirError, match="already holds a run"):
        run_selfplay(config, run, progress=None)
    with pytest.raises(RunDirError, match="differs .* in size"):
        run_selfplay(dataclasses.replace(config, size=7), run, resume=True, progress=None)
    more = run_selfplay(dataclasses.replace(config, games=6), run, resume=True, progress=None)
    assert more["games"] == 6 and _sgf_count(run) == 6
    assert more["counters"]["next_actor_id"] == 4  # fresh actors, fresh games
    assert more["replay"] == more["positions"]


def test_a_ray_run_with_two_learners_survives_a_killed_actor(ray_session, tmp_path):
    run = tmp_path / "run"
    # 12 games: more than the 2 + 2 + 4 that can be finished or in flight when actor 0 dies
    # (its last calls may already be done), so work is sure to be sent to it afterwards and
    # its death is seen however the two actors' timing goes.
    config = SelfPlayConfig(**SMALL, games=12, replay_shards=2, runtime=RuntimeSettings(
        actors=2, actor_cpus=0.5, learners=2, learner_cpus=0.5))
    killed = []

    def kill_one(games: int, backend) -> None:
        if games == 2 and not killed:
            actor_id = min(backend.actor_handles())
            ray_session.kill(backend.actor_handles()[actor_id])
            killed.append(actor_id)

    summary = run_selfplay(config, run, progress=None, on_game=kill_one)
    assert killed and summary["restarts"] == 1
    assert summary["games"] == 12 and _sgf_count(run) == 12
    assert summary["replay"] == summary["positions"] > 0
    assert summary["learner_steps"] == 48 and summary["weights_version"] == 48
    assert max(summary["versions_seen"]) > 0  # actors played with published weights
    losses = _losses(run)
    assert len(losses) >= 2 and losses[-1] < losses[0]
    snapshots = sorted((run / "replay").glob("games-*/shard-*/replay.npz"))
    assert {p.parent.name for p in snapshots} == {"shard-0", "shard-1"}


def test_a_killed_learner_is_recovered_from_the_last_checkpoint(ray_session, tmp_path):
    """The learner holds state a fresh actor lacks: its death rebuilds the backend and the run
    resumes from its last checkpoint by itself, still ending with the games it asked for."""
    run = tmp_path / "run"
    config = SelfPlayConfig(**SMALL, games=6, runtime=RuntimeSettings(
        actors=1, actor_cpus=0.5, learner_cpus=0.5))
    killed, lines = [], []

    def kill_learner(games: int, backend) -> None:
        if games == 4 and not killed:
            ray_session.kill(backend._learner.handles()[0])
            killed.append(games)

    summary = run_selfplay(config, run, progress=lines.append, on_game=kill_learner)
    assert killed and summary["recoveries"] == 1
    assert any("the learner" in line and "resuming from the last checkpoint" in line
               for line in lines)
    assert summary["games"] == 6 and _sgf_count(run) == 6
    assert summary["replay"] == summary["positions"]  # the replay snapshot came back too
    for path in sorted((run / "games").glob("*.sgf")):
        assert load_sgf_file(path).result


KILLED_RUN = textwrap.dedent("""
    import sys
    from selfplay.go.loop import SelfPlayConfig, run_selfplay
    from selfplay.runtime import RuntimeSettings
    config = SelfPlayConfig(**eval(sys.argv[2]))
    run_selfplay(config, sys.argv[1], progress=None)
""")


def test_a_run_killed_with_sigkill_resumes_to_completion(tmp_path):
    run = tmp_path / "run"
    settings = dict(SMALL, games=20, runtime=RuntimeSettings(backend="local", actors=2))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(run), repr(settings)],
                            cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while not list((run / "checkpoints").glob("ckpt-*.pt")):
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.05)
        time.sleep(0.3)  # somewhere in the middle of the next game or checkpoint
    finally:
        proc.kill()  # SIGKILL: no cleanup of any kind
        proc.wait()
    assert proc.returncode == -9, "the run finished before it could be killed"
    summary = run_selfplay(SelfPlayConfig(**settings), run, resume=True, progress=None)
    assert summary["games"] == 20 and _sgf_count(run) == 20
    assert summary["replay"] == summary["positions"]  # replay snapshot matches the counters
    for path in sorted((run / "games").glob("*.sgf")):
        assert load_sgf_file(path).result
    assert not list((run / "games").glob(".*"))  # no half-written records


def test_a_run_resumed_before_its_first_checkpoint_drops_the_killed_attempts_rows(tmp_path):
    """Issue 22, finding 6: a first attempt killed after logging games 1, 2 and 5 but before
    its first checkpoint is resumed from game 0: its metrics rows and records go, so the
    steps in metrics.csv never run backwards."""
    run = tmp_path / "run"
    config = SelfPlayConfig(**dict(SMALL, checkpoint_every=10), games=2,
                            runtime=RuntimeSettings(backend="local", actors=1))
    with RunDir(run, run_identity(config, RESUMABLE)) as killed:  # what the attempt left
        metrics = killed.metrics()
        for games in (1, 2, 5):
            metrics.log(games, games=float(games), killed=1.0)
        metrics.close()
        killed.games.mkdir()
        (killed.games / "game-000005.sgf").write_text("(;GM[1]SZ[5])")
    run_selfplay(config, run, resume=True, progress=None)
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    steps = [int(row["step"]) for row in rows]
    assert rows and steps == sorted(steps) and max(steps) <= 2
    assert not any(row["killed"] for row in rows)
    assert _sgf_count(run) == 2


def _command(args: list[str]) -> int:
    """`rlgo go selfplay --config configs/go/selfplay_9x9.yaml ARGS` (rlgo.cli.main: user
    errors are one line and exit status 2)."""
    return main(["go", "selfplay", "--config", str(ROOT / "configs/go/selfplay_9x9.yaml"),
                 *args])


def test_the_selfplay_command_runs_and_reports_user_errors_in_one_line(tmp_path, capsys):
    small = ["--set", "size=5", "--set", "komi=0.5", "--set", "visits=8", "--set",
             "min_replay=32", "--set", "batch_size=16", "--quiet"]
    run = str(tmp_path / "run")
    assert _command(["--set", "runtime.backend=local", *small, "--games", "2", "--actors", "1",
                     "--run-dir", run]) == 0
    assert "self-play done: 2 games" in capsys.readouterr().out
    assert _command(["--local", *small, "--games", "1", "--run-dir", run]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert _command([*small, "--address", "127.0.0.1:1", "--run-dir",
                     str(tmp_path / "other")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Ray cluster at 127.0.0.1:1" in err
    assert _command(["--set", "visit=3", "--run-dir", run]) == 2
    assert "unknown key 'visit'" in capsys.readouterr().err


def test_ctrl_c_stops_with_a_checkpoint_and_prints_the_command_that_resumes(
        tmp_path, capsys, monkeypatch):
    """Like `rlgo atari train`: the first Ctrl-C ends the run after the games that are in,
    with a checkpoint; the command line it prints (what was typed, plus --resume) finishes
    the run."""
    from selfplay.go import loop

    def interrupted(*args, **kwargs):
        kwargs["on_game"] = lambda games, backend: os.kill(os.getpid(), signal.SIGINT)
        return run_selfplay(*args, **kwargs)

    monkeypatch.setattr(loop, "run_selfplay", interrupted)
    run = tmp_path / "run"
    small = [f"--set={key}={value}" for key, value in SMALL.items() if key != "progress_every"]
    assert _command([*small, "--local", "--actors", "1", "--games", "3", "--quiet",
                     "--run-dir", str(run)]) == 128 + signal.SIGINT
    out = capsys.readouterr().out
    assert "self-play stopped: 1 games" in out and list((run / "checkpoints").glob("*.pt"))
    again = shlex.split(out.rpartition("continue with: ")[2])
    assert again[0] == "rlgo" and again[-1] == "--resume"
    monkeypatch.setattr(loop, "run_selfplay", run_selfplay)
    assert main(again[1:]) == 0
    assert "self-play done: 3 games" in capsys.readouterr().out and _sgf_count(run) == 3
