"""The two Rainbow parts beyond DQN's improvements: C51's projection and loss, noisy layers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from agents.dqn import (
    MLP,
    DQNLearner,
    EpsilonGreedyActor,
    HeadOptions,
    LearnerConfig,
    NoisyLinear,
    build_q_network,
    categorical_loss,
    categorical_projection,
    categorical_targets,
)

SUPPORT = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0])  # 5 atoms, dz = 1


def test_projection_splits_mass_between_the_two_nearest_atoms():
    """r 0.5, gamma 0.5: Tz = 0.5 + 0.5 z = [-0.5, 0, 0.5, 1, 1.5]. Worked by hand:
    p0 at -0.5 -> half to -1, half to 0; p1 at 0 -> 0; p2 at 0.5 -> half to 0, half to 1;
    p3 at 1 -> 1; p4 at 1.5 -> half to 1, half to 2."""
    p = torch.tensor([[0.1, 0.2, 0.3, 0.15, 0.25]])
    m = categorical_projection(torch.tensor([0.5]), torch.tensor([0.5]), p, SUPPORT)
    expected = torch.tensor([[0.0, 0.05, 0.05 + 0.2 + 0.15, 0.15 + 0.15 + 0.125, 0.125]])
    assert torch.allclose(m, expected, atol=1e-6)


def test_projection_clips_to_the_support_and_a_terminal_puts_all_mass_on_the_reward():
    p = torch.tensor([[0.1, 0.2, 0.3, 0.15, 0.25], [0.1, 0.2, 0.3, 0.15, 0.25]])
    # row 0: r 2, d 1 -> Tz = [0, 1, 2, 3, 4] clipped to [0, 1, 2, 2, 2];
    # row 1: terminal (d 0), r -0.25 -> everything at -0.25: 1/4 to -1, 3/4 to 0
    m = categorical_projection(torch.tensor([2.0, -0.25]), torch.tensor([1.0, 0.0]), p, SUPPORT)
    assert torch.allclose(m[0], torch.tensor([0.0, 0.0, 0.1, 0.2, 0.7]), atol=1e-6)
    assert torch.allclose(m[1], torch.tensor([0.0, 0.25, 0.75, 0.0, 0.0]), atol=1e-6)


def test_projection_keeps_mass_and_matches_the_floor_ceil_split_on_random_inputs():
    torch.manual_seed(0)
    support = torch.linspace(-10, 10, 51)
    p = torch.softmax(torch.randn(64, 51), dim=1)
    r, d = torch.randn(64) * 3, torch.rand(64)
    m = categorical_projection(r, d, p, support)
    assert torch.allclose(m.sum(dim=1), torch.ones(64), atol=1e-5)
    b = ((r[:, None] + d[:, None] * support).clamp(-10, 10) + 10) / 0.4  # the usual loop
    lower, upper = b.floor().long(), b.ceil().long()
    expected = torch.zeros(64, 51)
    for i in range(64):
        for j in range(51):
            if lower[i, j] == upper[i, j]:
                expected[i, lower[i, j]] += p[i, j]
            else:
                expected[i, lower[i, j]] += p[i, j] * (upper[i, j] - b[i, j])
                expected[i, upper[i, j]] += p[i, j] * (b[i, j] - lower[i, j])
    assert torch.allclose(m, expected, atol=1e-5)


def test_categorical_targets_take_the_online_argmax_with_double():
    # action 0 puts everything on z=2, action 1 on z=-2: the target's own argmax is 0
    next_probs = torch.zeros(1, 2, 5)
    next_probs[0, 0, 4], next_probs[0, 1, 0] = 1.0, 1.0
    zero = torch.zeros(1)
    own = categorical_targets(zero, torch.ones(1), next_probs, SUPPORT)
    double = categorical_targets(zero, torch.ones(1), next_probs, SUPPORT,
                                 next_q_online=torch.tensor([[0.0, 1.0]]))
    assert own[0].tolist() == [0, 0, 0, 0, 1] and double[0].tolist() == [1, 0, 0, 0, 0]


def test_categorical_loss_is_the_weighted_cross_entropy_of_the_taken_action():
    log_probs = torch.log_softmax(torch.randn(2, 3, 5), dim=2)
    target = torch.softmax(torch.randn(2, 5), dim=1)
    actions = torch.tensor([2, 0])
    loss, ce = categorical_loss(log_probs, actions, target, torch.tensor([1.0, 0.5]))
    manual = -(target * log_probs[[0, 1], [2, 0]]).sum(dim=1)
    assert torch.allclose(ce, manual) and torch.isclose(loss, (manual[0] + 0.5 * manual[1]) / 2)


def test_distributional_dueling_head_returns_the_mean_as_q():
    torch.manual_seed(0)
    net = build_q_network((1, 4), 3, dueling=True, distributional=True, atoms=11, v_min=-5,
                          v_max=5)
    obs = torch.randn(6, 1, 4)
    log_probs = net.log_probs(obs)
    assert log_probs.shape == (6, 3, 11)
    assert torch.allclose(log_probs.exp().sum(dim=2), torch.ones(6, 3), atol=1e-6)
    assert torch.allclose(net(obs), (log_probs.exp() * torch.linspace(-5, 5, 11)).sum(2),
                          atol=1e-5)
    assert "support" not in net.state_dict()  # fixed by the config, not a weight


def test_bad_support_is_refused():
    with pytest.raises(ValueError, match="v_min 1.0 must be below v_max 1.0"):
        HeadOptions(distributional=True, v_min=1.0, v_max=1.0)
    with pytest.raises(ValueError, match="at least 2 atoms"):
        HeadOptions(distributional=True, atoms=1)


def _batch(rng: np.random.Generator, size: int = 32, discount: float = 0.9) -> dict:
    return {"obs": rng.normal(size=(size, 1, 4)).astype(np.float32),
            "action": rng.integers(0, 2, size), "reward": rng.normal(size=size),
            "discount": np.full(size, discount), "next_obs": rng.normal(size=(size, 1, 4)),
            "weights": rng.uniform(0.5, 1.0, size)}


@pytest.mark.parametrize("noisy", [False, True])
def test_the_distributional_loss_decreases_on_a_fixed_batch(noisy):
    torch.manual_seed(0)
    net = build_q_network((1, 4), 2, dueling=True, hidden=(32, 32), distributional=True,
                          atoms=21, v_min=-3, v_max=3, noisy=noisy)
    learner = DQNLearner(net, LearnerConfig(lr=1e-2, double=True, target_update=10_000))
    # no bootstrap: each target is the reward split over two atoms, so the cross-entropy can
    # fall to that split's entropy (at most ln 2, against about 2.2 at the start)
    batch = _batch(np.random.default_rng(0), discount=0.0)
    losses = [learner.update(batch).loss for _ in range(100)]
    assert losses[-1] < 0.5 * losses[0]
    result = learner.update(batch)
    assert result.td_errors.shape == (32,) and (result.td_errors > 0).all()  # cross-entropy


def test_noisy_linear_noise_eval_mode_and_training_mode():
    torch.manual_seed(0)
    layer = NoisyLinear(6, 4, sigma0=0.5)
    assert torch.allclose(layer.weight_sigma, torch.full((4, 6), 0.5 / 6 ** 0.5))
    x = torch.randn(3, 6)
    before = (layer.eps_in.clone(), layer.eps_out.clone())
    noisy_out = layer(x)
    assert torch.equal(layer(x), noisy_out)  # a forward pass draws nothing
    layer.reset_noise()
    assert not torch.equal(layer.eps_in, before[0]) and not torch.equal(layer.eps_out,
                                                                        before[1])
    assert not torch.allclose(layer(x), noisy_out)
    layer.eval()
    mean_out = F.linear(x, layer.weight_mu, layer.bias_mu)
    assert torch.equal(layer(x), mean_out)
    layer.reset_noise()
    assert torch.equal(layer(x), mean_out)
    assert not torch.allclose(noisy_out, mean_out)
    assert set(layer.state_dict()) == {"weight_mu", "weight_sigma", "bias_mu", "bias_sigma"}


def test_noise_is_resampled_by_each_update_and_each_acting_step_in_training_only():
    torch.manual_seed(0)
    net = MLP(4, 2, hidden=(16, 16), options=HeadOptions(noisy=True))
    learner = DQNLearner(net, LearnerConfig(target_update=10_000))
    layer, target_layer = net.head.q[0], learner.target.head.q[0]
    eps, target_eps = layer.eps_in.clone(), target_layer.eps_in.clone()
    learner.update(_batch(np.random.default_rng(1)))
    assert not torch.equal(layer.eps_in, eps) and not torch.equal(target_layer.eps_in,
                                                                  target_eps)
    actor = EpsilonGreedyActor(net, 2, np.random.default_rng(0))
    obs = np.random.default_rng(2).normal(size=(5, 1, 4)).astype(np.float32)
    eps = layer.eps_in.clone()
    actor.act(obs, 0.0)
    assert not torch.equal(layer.eps_in, eps)
    net.eval()
    eps = layer.eps_in.clone()
    first = actor.q_values(obs)
    assert torch.equal(layer.eps_in, eps) and np.array_equal(actor.q_values(obs), first)
