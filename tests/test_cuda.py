"""The learners and networks on a CUDA device give the CPU's numbers.

Marked `gpu` and deselected by `make test` (CI has no GPU); run them where there is one with
`pytest -m gpu tests/test_cuda.py`. TF32 is switched off so that CPU and GPU round alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agents.alphago.evaluators.apv import NetworkEvaluator
from agents.alphago.nets.networks import (
    NetSpec,
    as_input,
    build_network,
    load_network,
    save_network,
)
from agents.dqn import DQNLearner, LearnerConfig, NatureCNN
from envs.go import Position, Rules, from_gtp

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.fixture(autouse=True)
def _no_tf32():
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


def _frames(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 4, 84, 84), dtype=np.uint8)


def test_a_dqn_update_on_cuda_matches_the_cpu_update():
    rng = np.random.default_rng(0)
    batches = [{"obs": _frames(rng, 32), "next_obs": _frames(rng, 32),
                "action": rng.integers(0, 6, 32), "reward": rng.normal(size=32),
                "discount": np.full(32, 0.99), "weights": rng.uniform(0.5, 1.0, 32)}
               for _ in range(3)]
    config = LearnerConfig(optimizer="adam", lr=1e-4, double=True, target_update=2)
    learners = []
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        learners.append(DQNLearner(NatureCNN(6, dueling=True), config, device=device))
    for batch in batches:
        cpu, cuda = (learner.update(batch) for learner in learners)
        assert cuda.loss == pytest.approx(cpu.loss, rel=1e-3, abs=1e-5)
        np.testing.assert_allclose(cuda.td_errors, cpu.td_errors, rtol=1e-3, atol=1e-4)
    for a, b in zip(learners[0].network.parameters(), learners[1].network.parameters(),
                    strict=True):
        np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().numpy(),
                                   rtol=1e-3, atol=1e-5)


def _position() -> Position:
    pos = Position.new(Rules(size=9, komi=7.0))
    for move in ("E5", "C3", "G7", "D4"):
        pos = pos.play(from_gtp(move, 9))
    return pos


@pytest.mark.parametrize("kind", ["policy", "value"])
def test_go_networks_give_the_same_outputs_on_cuda(kind: str, tmp_path: Path):
    torch.manual_seed(1)
    net = build_network(NetSpec(kind=kind, size=9, layers=3, filters=16)).eval()
    planes = np.random.default_rng(2).integers(
        0, 2, size=(5, net.spec.in_planes, 9, 9), dtype=np.uint8)
    with torch.inference_mode():
        cpu = net(as_input(planes)).numpy()
        net.to("cuda")
        cuda = net(as_input(planes, "cuda")).cpu().numpy()
    np.testing.assert_allclose(cuda, cpu, rtol=1e-4, atol=1e-5)
    save_network(tmp_path / "net.pt", net)  # saved from the GPU, loaded on the CPU
    with torch.inference_mode():
        again = load_network(tmp_path / "net.pt", kind, 9)(as_input(planes)).numpy()
    np.testing.assert_allclose(again, cpu, rtol=1e-5, atol=1e-6)


def test_the_network_evaluator_on_cuda_gives_the_cpu_priors_and_values():
    torch.manual_seed(3)
    policy = build_network(NetSpec(kind="policy", size=9, layers=3, filters=16))
    value = build_network(NetSpec(kind="value", size=9, layers=3, filters=16))
    positions = [Position.new(Rules(size=9, komi=7.0)), _position()]
    results = []
    for device in ("cpu", "cuda"):
        evaluator = NetworkEvaluator(policy, value, rollouts=None, mix=0.0, device=device)
        results.append(evaluator.evaluate(positions))
        evaluator.close()
    np.testing.assert_allclose(results[1].priors, results[0].priors, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(results[1].values, results[0].values, rtol=1e-4, atol=1e-5)
