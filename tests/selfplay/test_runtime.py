"""The actor/learner runtime with toy parts: in process, on a real local Ray, with a killed
actor, an unreachable cluster and a request for more resources than exist."""

from __future__ import annotations

import functools
import json
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from selfplay.replay import ReplayBuffer, ReplayStorage, UniformSampler
from selfplay.runtime import (
    LocalBackend,
    ResourceRequestError,
    RuntimeBackendError,
    choose_shard,
)
from selfplay.runtime import connect as connect_module
from selfplay.runtime.connect import check_resources


class CountingActor:
    """One result per unit: who made it, with which weight version, and a record x [2]."""

    def __init__(self, actor_id: int, delay: float = 0.0) -> None:
        self.actor_id, self.delay = actor_id, delay
        self.version, self.count = -1, 0

    def set_weights(self, version, weights) -> None:
        assert set(weights) == {"w"}
        self.version = version

    def run(self, n: int) -> list[dict]:
        out = []
        for _ in range(n):
            time.sleep(self.delay)
            self.count += 1
            out.append({"actor_id": self.actor_id, "version": self.version,
                        "x": np.full(2, 100.0 * self.actor_id + self.count, np.float32)})
        return out


class MeanLearner:
    """Moves w [2] toward each batch's mean of x: real state, a visible update."""

    def __init__(self) -> None:
        self.w = np.zeros(2, np.float32)
        self.steps = 0

    def step(self, batch) -> dict[str, float]:
        err = np.asarray(batch["x"]).mean(0) - self.w
        self.w = self.w + 0.5 * err
        self.steps += 1
        return {"loss": float((err ** 2).mean())}

    def get_weights(self):
        return self.steps, {"w": self.w.copy()}

    def state_dict(self) -> dict:
        return {"w": self.w.tolist(), "steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        self.w = np.asarray(state["w"], np.float32)
        self.steps = state["steps"]


def toy_replay(shard: int) -> ReplayBuffer:
    return ReplayBuffer(ReplayStorage({"x": ((2,), np.float32)}, 1000),
                        UniformSampler(np.random.default_rng(shard)))


@pytest.fixture(scope="module")
def by_value(ray_session):
    """Ship this module's toy classes to Ray workers by value (tests/ is not installed)."""
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield ray_session
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def collect(backend, want: int, into: list | None = None) -> list:
    """Poll until `want` results came back, adding each x to replay."""
    results = [] if into is None else into
    deadline = time.monotonic() + 60
    target = len(results) + want
    while len(results) < target:
        assert time.monotonic() < deadline, "results stopped coming"
        for actor_id, result in backend.poll(1.0, target - len(results)):
            assert result["actor_id"] == actor_id
            backend.add({"x": result["x"][None]})
            results.append(result)
    return results


def test_local_backend_end_to_end(tmp_path):
    backend = LocalBackend(games_per_call=2)
    backend.start(CountingActor, MeanLearner, toy_replay, actors=2, shards=2)
    results = collect(backend, 10)
    assert len(results) == 10 and {r["actor_id"] for r in results} == {0, 1}
    assert {r["version"] for r in results} == {0}
    assert backend.replay_size() == 10 and backend._sizes == [5, 5]  # round-robin adds
    metrics = backend.train(5, batch_size=4)
    assert len(metrics) == 5 and metrics[-1]["loss"] < metrics[0]["loss"]
    assert backend.publish() == 5
    assert {r["version"] for r in collect(backend, 4)} == {5}
    assert backend.poll(0.0, remaining=0) == []

    backend.save_replay(tmp_path)
    state = backend.learner_state()
    again = LocalBackend()
    again.start(CountingActor, MeanLearner, toy_replay, actors=1, shards=2)
    again.load_replay(tmp_path)
    again.load_learner_state(state)
    assert again.replay_size() == 14
    assert again.publish() == 5
    assert np.array_equal(again._learner.w, backend._learner.w)
    assert backend.train(3, 4) == again.train(3, 4)  # same shard RNG, same sampler RNGs


def test_zero_actors_means_the_default_on_the_local_backend_too():
    backend = LocalBackend()  # configs say actors: 0 for "the default", which is 1 here
    backend.start(CountingActor, MeanLearner, toy_replay, actors=0)
    assert {r["actor_id"] for r in collect(backend, 3)} == {0}
    with pytest.raises(RuntimeBackendError, match="replay shard"):
        LocalBackend().start(CountingActor, MeanLearner, toy_replay, actors=1, shards=0)


def test_shards_are_chosen_in_proportion_to_their_size():
    rng = np.random.default_rng(0)
    picks = np.bincount([choose_shard([100, 300, 0], rng) for _ in range(4000)], minlength=3)
    assert picks[2] == 0 and abs(picks[1] / 4000 - 0.75) < 0.03
    with pytest.raises(RuntimeBackendError, match="empty replay"):
        choose_shard([0, 0], rng)


def test_ray_backend_end_to_end(by_value, tmp_path):
    from selfplay.runtime.ray_backend import RayBackend

    backend = RayBackend(actor_cpus=0.5, learner_cpus=0.5, games_per_call=2, max_in_flight=2)
    try:
        backend.start(CountingActor, MeanLearner, toy_replay, actors=2, shards=2)
        results = collect(backend, 12)
        assert {r["actor_id"] for r in results} == {0, 1}
        assert all(n <= 2 for n in backend.in_flight().values())
        assert backend.replay_size() == 12
        metrics = backend.train(6, batch_size=4)
        assert len(metrics) == 6 and all(np.isfinite(m["loss"]) for m in metrics)
        assert backend.publish() == 6
        # the new version reaches every actor within its outstanding calls
        for _ in range(10):
            if all(any(r["version"] == 6 and r["actor_id"] == a for r in results)
                   for a in (0, 1)):
                break
            collect(backend, 2, results)
        else:
            pytest.fail("an actor never played with the published weights")
        backend.save_replay(tmp_path)
        backend.load_replay(tmp_path)
        assert backend.replay_size() == len(results)
        assert sorted(p.parent.name for p in tmp_path.rglob("replay.npz")) == ["shard-0",
                                                                            "shard-1"]
    finally:
        backend.close()


def test_a_killed_ray_actor_is_replaced_and_the_run_completes(by_value):
    from selfplay.runtime.ray_backend import RayBackend

    backend = RayBackend(actor_cpus=0.5, learner_cpus=0.5)
    try:
        backend.start(functools.partial(CountingActor, delay=0.05), MeanLearner, toy_replay,
                      actors=2)
        results = collect(backend, 5)
        backend.train(3, 2)
        assert backend.publish() == 3
        by_value.kill(backend.actor_handles()[0])
        collect(backend, 15, results)
        assert len(results) == 20  # lost calls were re-issued, nothing extra came back
        assert backend.restarts == 1 and sorted(backend.actor_handles()) == [1, 2]
        replacement = [r for r in results if r["actor_id"] == 2]
        assert replacement and {r["version"] for r in replacement} == {3}  # current weights
    finally:
        backend.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_cluster_is_one_clear_error(monkeypatch):
    from selfplay.runtime.ray_backend import RayBackend

    port = _free_port()
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        with pytest.raises(RuntimeBackendError,
                           match=f"cannot reach the Ray cluster at {address}"):
            RayBackend(address=address)
    with pytest.raises(RuntimeBackendError, match="bad Ray address 'headnode'"):
        RayBackend(address="headnode")
    monkeypatch.setattr(connect_module, "_auto_address", lambda: None)
    with pytest.raises(RuntimeBackendError, match="no Ray cluster is running"):
        RayBackend(address="auto")


def test_more_resources_than_the_cluster_has_are_refused_up_front(by_value):
    from selfplay.runtime.ray_backend import RayBackend

    backend = RayBackend(actor_cpus=1, learner_cpus=1)
    try:
        with pytest.raises(ResourceRequestError,
                           match=r"5 CPU \(4 actors x 1 \+ learner 1\) but the cluster has 2"):
            backend.start(CountingActor, MeanLearner, toy_replay, actors=4)
        assert backend.actor_handles() == {}
    finally:
        backend.close()
    backend = RayBackend(actor_cpus=0.5, learner_cpus=0.5, learner_gpus=1)
    try:
        with pytest.raises(ResourceRequestError, match="1 GPU .* but the cluster has 0"):
            backend.start(CountingActor, MeanLearner, toy_replay, actors=1)
    finally:
        backend.close()


def _go_batch(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Go records that every board symmetry leaves as they are (constant planes, the policy
    spread evenly over the points), so the learners' random augmentation cannot tell a rank
    from the single learner."""
    return {"planes": np.repeat(rng.integers(0, 2, (n, 17, 1, 1)), 5, 2).repeat(5, 3)
            .astype(np.uint8),
            "policy": np.concatenate([np.full((n, 25), 0.5 / 25), np.full((n, 1), 0.5)],
                                     1).astype(np.float32),
            "z": rng.choice([-1.0, 1.0], n).astype(np.float32),
            "ownership": np.repeat(rng.integers(-1, 2, (n, 1)), 25, 1).astype(np.int8),
            "score": rng.normal(0, 5, n).astype(np.float32)}


def test_two_data_parallel_learners_average_the_gradients_of_their_halves(ray_session):
    """Each rank's step is the optimizer step on the mean of the two ranks' gradients: the same
    as one learner that takes the gradients of both halves (its BatchNorm sees one half at a
    time, as each rank's does) and applies their mean."""
    from agents.alphago.nets.networks import NetSpec
    from selfplay.go.learner import GoLearner
    from selfplay.runtime.data_parallel import LearnerGroup

    spec = NetSpec(kind="play", size=5, planes="simple", layers=1, filters=8, hidden=16)
    rng = np.random.default_rng(1)
    single = GoLearner(spec, lr=0.01, seed=0, threads=1)
    group = LearnerGroup(functools.partial(GoLearner, spec, lr=0.01, seed=0, threads=1),
                         learners=2, num_cpus=0.5)
    try:
        for _ in range(3):
            batch = _go_batch(rng, 16)
            halves = [{k: v[:8] for k, v in batch.items()}, {k: v[8:] for k, v in batch.items()}]
            losses, grads = [], []
            for half in halves:
                losses.append(single.backward(half)["loss"])
                grads.append([p.grad.clone() for p in single.parameters()])
            for p, g0, g1 in zip(single.parameters(), *grads, strict=True):
                p.grad = (g0 + g1) / 2
            single.apply()
            got = LearnerGroup.mean_metrics(ray_session.get(group.step(halves)))
            assert got["loss"] == pytest.approx(np.mean(losses), rel=1e-5)
        (version, weights), (_, expected) = group.get_weights(), single.get_weights()
        _, rank1 = ray_session.get(group.ranks[1].get_weights.remote())
        assert version == 3
        # parameters only: BatchNorm's running statistics follow the data each net saw (both
        # halves here, its own half on each rank), as in any data-parallel run without SyncBN
        for name, _ in single.net.named_parameters():
            value = expected["state"][name]
            np.testing.assert_allclose(weights["state"][name], value, atol=1e-5)
            np.testing.assert_array_equal(rank1["state"][name], weights["state"][name])
    finally:
        for handle in group.handles():
            ray_session.kill(handle)


def test_data_parallel_ranks_draw_their_own_symmetries_also_after_a_resume():
    from agents.alphago.nets.networks import NetSpec
    from selfplay.go.learner import GoLearner
    from selfplay.runtime.data_parallel import _RankHost

    spec = NetSpec(kind="play", size=5, planes="simple", layers=1, filters=8, hidden=16)
    factory = functools.partial(GoLearner, spec, seed=0, threads=1)
    ranks = [_RankHost(factory, rank, 1) for rank in range(3)]  # world 1: no process group
    assert ranks[0].learner.rng.integers(8, size=4).tolist() == \
        factory().rng.integers(8, size=4).tolist()  # rank 0 keeps the learner's own stream
    state = ranks[0].state_dict()
    for _ in range(2):
        draws = [tuple(r.learner.rng.integers(8, size=32)) for r in ranks]
        assert len(set(draws)) == 3
        for r in ranks:
            r.load_state_dict(state)


def test_each_actor_must_fit_on_one_node():
    nodes = [{"CPU": 2.0}, {"CPU": 2.0}]
    check_resources({"CPU": 4.0}, {"CPU": 2.0}, 1, {"CPU": 1.0}, nodes)
    with pytest.raises(ResourceRequestError, match="no single node"):
        check_resources({"CPU": 4.0}, {"CPU": 3.0}, 1, {"CPU": 1.0}, nodes)


TWO_NODES = textwrap.dedent("""
    import functools, json, ray
    from selfplay.go.bench import NullLearner, two_node_cluster
    from selfplay.go.actor import GoActorSettings, GoSelfPlayActor, make_replay
    from selfplay.runtime import ResourceRequestError
    from selfplay.runtime.ray_backend import RayBackend

    out = {}
    settings = GoActorSettings(size=5, komi=0.5, visits=4, max_moves=20,
                               games_in_parallel=2, bootstrap="rollouts")
    parts = (functools.partial(GoSelfPlayActor, settings), NullLearner,
             functools.partial(make_replay, 5, 100, 0))
    with two_node_cluster() as address:
        backend = RayBackend(address=address, actor_cpus=1, learner_cpus=0)
        try:
            too_big = RayBackend(address=address, actor_cpus=2, learner_cpus=0)
            try:
                too_big.start(*parts, actors=1)
            except ResourceRequestError as err:
                out["refused"] = str(err)
            backend.start(*parts, actors=2)
            games = []
            while len(games) < 2:
                games += backend.poll(1.0, 2 - len(games))
            out["nodes"] = len(backend.nodes)
            out["actor_nodes"] = len({ray.get(h.where.remote())[0]
                                      for h in backend.actor_handles().values()})
            out["node_ip"] = ray.util.get_node_ip_address()
            out["games"] = len(games)
        finally:
            backend.close()
    print("RESULT " + json.dumps(out))
""")


def test_actors_spread_over_a_simulated_two_node_cluster():
    """ray.cluster_utils.Cluster with one CPU per node: two 1-CPU actors land on different
    nodes, and an actor bigger than any node is refused. Run in a subprocess: this process
    is already connected to the session's Ray."""
    proc = subprocess.run([sys.executable, "-c", TWO_NODES], capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[2])
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1].removeprefix("RESULT "))
    assert out["nodes"] == 2 and out["actor_nodes"] == 2 and out["games"] == 2
    assert out["node_ip"] == "127.0.0.1"  # the simulated cluster stays on loopback
    assert "no single node" in out["refused"]
