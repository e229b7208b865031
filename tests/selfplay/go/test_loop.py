"""Closed Go self-play (selfplay/go/loop.py) on the runtime: the actor plays with the weights it
is sent, the learner fits and resumes, the gate tells a stronger net from a weaker one, whole
runs in process and on real Ray (a killed actor, a killed learner), SIGKILL then resume, and
the CLI command."""

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
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.alphago.evaluators.protocol import Evaluation
from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.nets.networks import NetSpec, build_network, network_payload
from envs.go import BLACK, WHITE, Position
from envs.go.sgf_files import load_sgf_file
from rlgo.cli import main
from selfplay.go.actor import GoActorSettings, GoSelfPlayActor, make_replay
from selfplay.go.gate import gate_match
from selfplay.go.ladder import PROMOTE, REJECT, GateRule, Gates, Ladder
from selfplay.go.learner import GoLearner, augment
from selfplay.go.loop import RESUMABLE, SelfPlayConfig, run_selfplay
from selfplay.rundir import RunDir
from selfplay.runtime import RuntimeSettings, run_identity

ROOT = Path(__file__).resolve().parents[3]
TINY_NET = dict(layers=1, filters=8, hidden=16)
SMALL = dict(size=5, komi=0.5, visits=8, max_moves=30, games_in_parallel=2, leaves=4,
             bootstrap="rollouts", **TINY_NET, batch_size=16, min_replay=32, lr=0.03,
             games_per_call=2, gate_every=8, gate_games=2, checkpoint_every=2,
             progress_every=0.2, replay_capacity=5000)


def _spec(size: int = 5) -> NetSpec:
    return NetSpec(kind="play", size=size, planes="simple", **TINY_NET)


def _preferring(point: int, size: int = 5) -> dict:
    """A play net payload whose policy puts all its mass on `point` while it is legal (logit
    +50) and whose value is 0 everywhere, so MCTS's visits follow the priors."""
    net = build_network(_spec(size))
    with torch.no_grad():
        net.policy_fc.bias[point] = 50.0
        net.value_fc[2].weight.zero_()
        net.value_fc[2].bias.zero_()
    return network_payload(net)


# ---- the actor ----------------------------------------------------------------------------


def _check_records(game: dict, size: int) -> None:
    """A game's records: shapes, and planes/outcome consistent with its moves; they fit the
    replay."""
    ex, t, n = game["examples"], game["positions"], size * size
    assert ex["planes"].shape == (t, 17, size, size) and ex["planes"].dtype == np.uint8
    assert ex["policy"].shape == (t, n + 1) and np.allclose(ex["policy"].sum(1), 1.0)
    assert ex["ownership"].shape == (t, n) and set(np.unique(ex["ownership"])) <= {-1, 0, 1}
    assert len(game["moves"]) == t == len(game["winrates"])
    colours = np.array([c for c, _ in game["moves"]])
    movers_black = ex["planes"][:, -1, 0, 0] == 1  # the colour plane: ones for Black to move
    assert np.array_equal(movers_black, colours == BLACK)
    if game["result"] != "0":
        winner = BLACK if game["result"].startswith("B") else WHITE
        assert np.array_equal(ex["z"], np.where(colours == winner, 1.0, -1.0))
    # one final margin, +s for Black's positions and -s for White's
    signed = np.where(colours == BLACK, 1.0, -1.0) * ex["score"]
    assert np.all(signed == signed[0])
    make_replay(size, 1000, 0, 0).add(ex)


def test_a_bootstrap_actor_plays_games_that_fit_the_replay():
    settings = GoActorSettings(size=5, komi=0.5, visits=8, max_moves=20, games_in_parallel=2,
                               leaves=4, bootstrap="rollouts", seed=3)
    actor = GoSelfPlayActor(settings, actor_id=1)
    games = actor.run(3)
    assert [g["game"] for g in games] == [1, 2, 3] and actor.versions_seen == [-1]
    for game in games:
        assert game["weights_version"] == -1 and game["actor_id"] == 1
        _check_records(game, 5)


def test_the_actor_plays_with_the_weights_it_was_sent_last():
    """Temperature 0 and no noise: the first move is the play net's favourite, so the games
    show which weights were used (stale or bootstrap weights would open elsewhere)."""
    settings = GoActorSettings(size=5, komi=0.5, visits=8, max_moves=6, games_in_parallel=2,
                               leaves=4, dirichlet_alpha=0.0, temperature=0.0,
                               temperature_moves=0, bootstrap="rollouts", seed=5)
    actor = GoSelfPlayActor(settings, actor_id=0)
    first, second = 7, 17
    actor.set_weights(7, _preferring(first))
    games = actor.run(2)
    assert [g["moves"][0] for g in games] == [(BLACK, first)] * 2
    assert {g["weights_version"] for g in games} == {7}
    for game in games:
        _check_records(game, 5)
    actor.set_weights(8, _preferring(second))
    games = actor.run(2)
    assert [g["moves"][0] for g in games] == [(BLACK, second)] * 2
    assert {g["weights_version"] for g in games} == {8} and actor.versions_seen == [7, 8]


# ---- the learner --------------------------------------------------------------------------


def _batch(rng: np.random.Generator, n: int, size: int = 5) -> dict[str, np.ndarray]:
    return {"planes": rng.integers(0, 2, (n, 17, size, size)).astype(np.uint8),
            "policy": rng.dirichlet(np.full(size * size + 1, 0.3), n).astype(np.float32),
            "z": rng.choice([-1.0, 1.0], n).astype(np.float32),
            "ownership": rng.integers(-1, 2, (n, size * size)).astype(np.int8),
            "score": rng.normal(0, 5, n).astype(np.float32)}


def test_the_learner_fits_repeated_data_and_resumes_exactly():
    batch = _batch(np.random.default_rng(0), 32)
    learner = GoLearner(_spec(), lr=0.01, seed=0, threads=1)
    losses = [learner.step(batch)["loss"] for _ in range(50)]
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])  # the entropy of the
    # visit targets is a floor the policy loss cannot go below
    version, payload = learner.get_weights()
    assert version == 50 and payload["spec"]["kind"] == "play"
    buffer = io.BytesIO()
    torch.save(learner.state_dict(), buffer)
    buffer.seek(0)
    resumed = GoLearner(_spec(), lr=0.01, seed=99, threads=1)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert [resumed.step(batch) for _ in range(3)] == [learner.step(batch) for _ in range(3)]


def test_augmentation_keeps_planes_policy_and_ownership_aligned():
    """Each sample has a black stone at p (plane 0) and a white one at q (plane 1), the policy's
    mass on p (0.7) and q (0.3) and ownership +1 at p, -1 at q: whatever symmetry a sample
    gets, the marks must still sit on its stones."""
    size, n, b = 5, 25, 64
    rng = np.random.default_rng(1)
    planes = np.zeros((b, 17, size, size), np.uint8)
    policy = np.zeros((b, n + 1), np.float32)
    ownership = np.zeros((b, n), np.int8)
    p, q = 1, 2 * size + 4  # off every axis and diagonal of symmetry, so all 8 images differ
    for i in range(b):
        planes[i, 0].flat[p] = planes[i, 1].flat[q] = 1
    policy[:, p], policy[:, q] = 0.7, 0.3
    ownership[:, p], ownership[:, q] = 1, -1
    out = augment({"planes": planes, "policy": policy, "ownership": ownership,
                   "z": np.zeros(b, np.float32)}, rng)
    moved = set()
    for i in range(b):
        at_p = int(np.flatnonzero(out["planes"][i, 0])[0])
        at_q = int(np.flatnonzero(out["planes"][i, 1])[0])
        assert out["planes"][i].sum() == 2
        assert out["policy"][i, at_p] == pytest.approx(0.7)
        assert out["policy"][i, at_q] == pytest.approx(0.3)
        assert out["ownership"][i, at_p] == 1 and out["ownership"][i, at_q] == -1
        assert np.abs(out["ownership"][i]).sum() == 2 and out["policy"][i, n] == 0
        moved.add((at_p, at_q))
    assert len(moved) == 8  # all eight symmetries were drawn and each is a distinct image


# ---- the gate -----------------------------------------------------------------------------


class Inverted:
    """A deliberately weakened evaluator: the wrapped one's priors with its values negated, so
    its search steers toward the positions it thinks it loses."""

    def __init__(self, inner: RolloutEvaluator) -> None:
        self.inner = inner

    def evaluate(self, positions: Sequence[Position]) -> Evaluation:
        out = self.inner.evaluate(positions)
        return Evaluation(out.priors, -out.values, out.tails)


def test_the_gate_promotes_a_stronger_candidate_and_rejects_a_weaker_one():
    settings = GoActorSettings(size=7, komi=0.5, visits=16, max_moves=60, games_in_parallel=4,
                               leaves=4, temperature_moves=4, seed=2)
    rule = GateRule(games=10, threshold=0.55, sprt=True)
    strong = RolloutEvaluator(seed=0, heavy=True, threads=1)
    weak = Inverted(RolloutEvaluator(seed=1, heavy=True, threads=1))
    up = gate_match(strong, weak, settings, rule, seed=0)
    assert up.decision == PROMOTE and up.score >= 0.8 and up.games <= 10
    down = gate_match(weak, strong, settings, rule, seed=1)
    assert down.decision == REJECT and down.score <= 0.2 and down.games <= 10
    tags = [g.tag for g in up.records]
    assert BLACK in tags and WHITE in tags  # the candidate played both colours


# ---- whole runs ---------------------------------------------------------------------------


def _sgf_count(run: Path) -> int:
    return len(list((run / "games").glob("game-*.sgf")))


def _check_ladder(run: Path, counters: dict) -> None:
    """ladder.csv and gates.csv agree with the counters: versions 0..best in order, each gate
    once and at least gate_every steps after the one before, none past the learner's steps."""
    ladder, gates = Ladder(run).rows(), Gates(run).rows()
    assert [r.version for r in ladder] == list(range(counters["best_version"] + 1))
    steps = [g.learner_steps for g in gates]
    assert steps == sorted(steps) and all(b - a >= SMALL["gate_every"]
                                          for a, b in zip(steps, steps[1:], strict=False))
    assert (not steps or steps[-1] <= counters["steps"]) and counters["gated"] in [0, *steps]
    promoted = [g.learner_steps for g in gates if g.decision == PROMOTE]
    assert [r.learner_steps for r in ladder[1:]] == promoted
    for row in ladder[1:]:
        assert (run / row.network).is_file()


def test_a_local_run_end_to_end_then_resumed_for_more_games(tmp_path):
    run = tmp_path / "run"
    config = SelfPlayConfig(**SMALL, games=4, runtime=RuntimeSettings(backend="local", actors=2))
    lines: list[str] = []
    summary = run_selfplay(config, run, progress=lines.append)
    assert summary["games"] == 4 and _sgf_count(run) == 4
    assert summary["replay"] == summary["positions"] > 0 and summary["learner_steps"] == 8
    assert "games 4/4" in lines[-1] and any(line.startswith("gate: ") for line in lines)
    for path in sorted((run / "games").glob("*.sgf")):
        record = load_sgf_file(path)
        assert record.size == 5 and record.result and record.moves
        assert "win rate" in path.read_text()
    assert summary["ladder"][0]["version"] == 0 and len(summary["gates"]) == 1
    assert (run / "ladder.csv").is_file() and (run / "gates.csv").is_file()
    assert (run / "ladder.png").stat().st_size > 0
    _check_ladder(run, summary["counters"])
    more = run_selfplay(dataclasses.replace(config, games=8), run, resume=True, progress=None)
    assert more["games"] == 8 and _sgf_count(run) == 8 and more["learner_steps"] == 16
    resumed = [path.read_text() for path in sorted((run / "games").glob("*.sgf"))[4:]]
    assert all("actor 2 " in text or "actor 3 " in text for text in resumed)  # fresh actors
    assert more["replay"] == more["positions"] and len(more["gates"]) == 2
    _check_ladder(run, more["counters"])


KILLED_RUN = textwrap.dedent("""
    import sys
    from selfplay.go.loop import SelfPlayConfig, run_selfplay
    from selfplay.runtime import RuntimeSettings
    config = SelfPlayConfig(**eval(sys.argv[2]))
    run_selfplay(config, sys.argv[1], progress=None)
""")


def test_a_run_killed_with_sigkill_resumes_to_completion(tmp_path):
    run = tmp_path / "run"
    settings = dict(SMALL, games=12, runtime=RuntimeSettings(backend="local", actors=2))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(run), repr(settings)],
                            cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    try:
        while len(list((run / "checkpoints").glob("ckpt-*.pt"))) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.05)
        time.sleep(0.3)  # somewhere in the middle of the next game, gate or checkpoint
    finally:
        proc.kill()  # SIGKILL: no cleanup of any kind
        proc.wait()
    assert proc.returncode == -9, "the run finished before it could be killed"
    summary = run_selfplay(SelfPlayConfig(**settings), run, resume=True, progress=None)
    assert summary["games"] == 12 and _sgf_count(run) == 12
    assert summary["replay"] == summary["positions"]  # replay snapshot matches the counters
    assert summary["learner_steps"] == 24
    _check_ladder(run, summary["counters"])
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


def test_a_ray_run_with_two_learners_survives_a_killed_actor(ray_session, tmp_path):
    run = tmp_path / "run"
    # 12 games of one per call: more than the 2 + 2 x 2 that can be finished or in flight when
    # actor 0 dies, so work is sure to be sent to it afterwards and its death is seen however
    # the two actors' timing goes.
    config = SelfPlayConfig(**dict(SMALL, games_per_call=1), games=12, replay_shards=2,
                            runtime=RuntimeSettings(actors=2, actor_cpus=0.5, learners=2,
                                                    learner_cpus=0.5))
    killed = []

    def kill_one(games: int, backend) -> None:
        if games == 2 and not killed:
            actor_id = min(backend.actor_handles())
            ray_session.kill(backend.actor_handles()[actor_id])
            killed.append(actor_id)

    summary = run_selfplay(config, run, progress=None, on_game=kill_one)
    assert killed and summary["restarts"] == 1
    assert summary["games"] == 12 and _sgf_count(run) == 12
    assert summary["replay"] == summary["positions"] > 0 and summary["learner_steps"] == 24
    assert len(summary["gates"]) >= 2  # the two-rank learner's candidate reached the gate
    assert set(summary["versions_seen"]) <= {r["version"] for r in summary["ladder"]}
    _check_ladder(run, summary["counters"])
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
    _check_ladder(run, summary["counters"])
    for path in sorted((run / "games").glob("*.sgf")):
        assert load_sgf_file(path).result


# ---- the command --------------------------------------------------------------------------


def _command(args: list[str]) -> int:
    """`rlgo go selfplay --config configs/go/selfplay_9x9.yaml ARGS` (rlgo.cli.main: user
    errors are one line and exit status 2)."""
    return main(["go", "selfplay", "--config", str(ROOT / "configs/go/selfplay_9x9.yaml"),
                 *args])


def _small_args() -> list[str]:
    return [f"--set={key}={value}" for key, value in SMALL.items() if key != "progress_every"]


def test_the_selfplay_command_runs_and_reports_user_errors_in_one_line(tmp_path, capsys):
    run = str(tmp_path / "run")
    assert _command(["--set", "runtime.backend=local", *_small_args(), "--games", "2",
                     "--actors", "1", "--quiet", "--run-dir", run]) == 0
    assert "self-play done: 2 games" in capsys.readouterr().out
    assert _command(["--local", *_small_args(), "--games", "1", "--quiet",
                     "--run-dir", run]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert _command([*_small_args(), "--quiet", "--address", "127.0.0.1:1", "--run-dir",
                     str(tmp_path / "other")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Ray cluster at 127.0.0.1:1" in err
    assert _command(["--set", "visit=3", "--run-dir", run]) == 2
    assert "unknown key 'visit'" in capsys.readouterr().err
    assert _command(["--set", "publish_every=4", "--run-dir", run]) == 2  # a removed key
    assert "unknown key 'publish_every'" in capsys.readouterr().err


def test_ctrl_c_stops_with_a_checkpoint_and_prints_the_command_that_resumes(
        tmp_path, capsys, monkeypatch):
    """Like `rlgo atari train`: the first Ctrl-C ends the run after the games that are in,
    with a checkpoint; the command line it prints (what was typed, plus --resume) finishes
    the run."""
    from selfplay.go import loop

    def ctrl_c_once(games: int, backend) -> None:
        if games == 1:  # a second SIGINT would mean "stop at once"
            os.kill(os.getpid(), signal.SIGINT)

    def interrupted(*args, **kwargs):
        kwargs["on_game"] = ctrl_c_once
        return run_selfplay(*args, **kwargs)

    monkeypatch.setattr(loop, "run_selfplay", interrupted)
    run = tmp_path / "run"
    assert _command([*_small_args(), "--set=games_per_call=1", "--local", "--actors", "1",
                     "--games", "3", "--quiet", "--run-dir", str(run)]) == 128 + signal.SIGINT
    out = capsys.readouterr().out
    assert "self-play stopped: 1 games" in out and list((run / "checkpoints").glob("*.pt"))
    again = shlex.split(out.rpartition("continue with: ")[2])
    assert again[0] == "rlgo" and again[-1] == "--resume"
    monkeypatch.setattr(loop, "run_selfplay", run_selfplay)
    assert main(again[1:]) == 0
    assert "self-play done: 3 games" in capsys.readouterr().out and _sgf_count(run) == 3


def test_the_device_flag_reaches_the_learner():
    from rlgo.cli import build_parser
    from rlgo.commands.selfplay import config_from_args
    from selfplay.go.loop import _learner_factory

    args = build_parser().parse_args(["go", "selfplay", "--device", "cpu", "--set", "size=5",
                                      "--set", "layers=1", "--set", "filters=4"])
    config = config_from_args(args)
    assert config.device == "cpu"
    assert _learner_factory(config, None)().device.type == "cpu"
    with pytest.raises(ValueError, match="device"):
        SelfPlayConfig(device="gpu")
