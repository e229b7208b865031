"""DQN pieces on numbers worked out by hand: targets (plain and double), n-step returns with
termination vs truncation, Huber/MSE with importance weights, networks, actor, learner."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.dqn import (
    MLP,
    DQNLearner,
    EpsilonGreedyActor,
    LearnerConfig,
    LinearSchedule,
    NatureCNN,
    apex_epsilons,
    build_q_network,
    n_step_returns,
    td_loss,
    td_targets,
)

T = torch.tensor


def test_dqn_target_uses_the_target_nets_max():
    y = td_targets(T([1.0, 0.0]), T([0.9, 0.0]), T([[1.0, 3.0], [5.0, 2.0]]))
    assert y.tolist() == pytest.approx([1 + 0.9 * 3, 0.0])


def test_double_dqn_target_evaluates_the_online_argmax_with_the_target_net():
    y = td_targets(T([1.0, 2.0]), T([0.9, 0.5]), T([[1.0, 3.0], [5.0, 2.0]]),
                   next_q_online=T([[4.0, 1.0], [0.0, 1.0]]))
    assert y.tolist() == pytest.approx([1 + 0.9 * 1.0, 2 + 0.5 * 2.0])


def test_n_step_return_without_an_end():
    returns, discounts, steps = n_step_returns(T([[1.0, 2.0, 4.0]]), T([[False] * 3]),
                                               T([[False] * 3]), gamma=0.5)
    assert returns.item() == pytest.approx(1 + 0.5 * 2 + 0.25 * 4)
    assert discounts.item() == pytest.approx(0.125) and steps.item() == 3


def test_n_step_return_stops_at_termination_without_bootstrap():
    returns, discounts, steps = n_step_returns(
        T([[1.0, 2.0, 4.0]]), T([[False, True, False]]), T([[False, True, False]]), gamma=0.5)
    assert returns.item() == pytest.approx(2.0)
    assert discounts.item() == 0.0 and steps.item() == 2


def test_n_step_return_stops_at_truncation_but_still_bootstraps():
    returns, discounts, steps = n_step_returns(
        T([[1.0, 2.0, 4.0], [3.0, 1.0, 1.0]]), T([[False] * 3, [False] * 3]),
        T([[True, False, False], [False, False, True]]), gamma=0.5)
    assert returns.tolist() == pytest.approx([1.0, 3 + 0.5 + 0.25])
    assert discounts.tolist() == pytest.approx([0.5, 0.125]) and steps.tolist() == [1, 3]


def test_huber_mse_weights_and_td_errors():
    q = T([[0.0, 0.0], [1.0, 0.0]], requires_grad=True)
    actions = T([0, 0])
    loss, td = td_loss(q, actions, T([0.5, 4.0]))
    assert td.tolist() == pytest.approx([0.5, 3.0])
    assert loss.item() == pytest.approx((0.5 * 0.25 + (3.0 - 0.5)) / 2)  # quadratic, linear
    loss, _ = td_loss(q, actions, T([0.5, 4.0]), kind="mse")
    assert loss.item() == pytest.approx((0.5 * 0.25 + 0.5 * 9) / 2)
    loss, _ = td_loss(q, actions, T([0.5, 4.0]), weights=T([2.0, 0.0]), kind="mse")
    assert loss.item() == pytest.approx(2 * 0.125 / 2)
    loss.backward()
    assert q.grad[0, 0].item() == pytest.approx(-2 * 0.5 / 2) and q.grad[1].abs().sum() == 0


def test_nature_cnn_shapes_and_size():
    net = NatureCNN(num_actions=6)
    out = net(torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8))
    assert out.shape == (2, 6)
    assert sum(p.numel() for p in net.parameters()) == 1_687_206  # Mnih et al.'s network


def test_nature_cnn_sees_frames_scaled_to_unit_range():
    """The first conv folds the 1/255 into its weights: the same numbers as scaling the bytes
    and running a plain NCHW network with the same parameters."""
    torch.manual_seed(0)
    net = NatureCNN(num_actions=6)
    frames = torch.randint(0, 256, (3, 4, 84, 84), dtype=torch.uint8)
    x = frames.float() / 255
    for i in (0, 2, 4):
        conv = net.torso[i]
        x = torch.relu(torch.nn.functional.conv2d(x, conv.weight.contiguous(), conv.bias,
                                                  conv.stride))
    expected = net.head(x.flatten(1))
    assert torch.allclose(net(frames), expected, atol=1e-5)


def test_dueling_head_q_averages_to_the_value():
    torch.manual_seed(0)
    net = MLP(4, 3, hidden=(16, 16), dueling=True)
    obs = torch.randn(5, 1, 4)
    features = net.torso(obs)
    value = net.head.value(features).squeeze(1)
    assert torch.allclose(net(obs).mean(dim=1), value, atol=1e-6)


def test_build_q_network_picks_by_observation_shape():
    assert isinstance(build_q_network((4, 84, 84), 6), NatureCNN)
    assert isinstance(build_q_network((1, 4), 2), MLP)
    with pytest.raises(ValueError, match="square frames"):
        build_q_network((1, 4), 2, kind="nature_cnn")


def test_schedules():
    schedule = LinearSchedule(1.0, 0.1, 100)
    assert [schedule(s) for s in (0, 50, 100, 1000)] == pytest.approx([1.0, 0.55, 0.1, 0.1])
    eps = apex_epsilons(8)
    assert eps[0] == pytest.approx(0.4) and eps[-1] == pytest.approx(0.4 ** 8)
    assert np.all(np.diff(eps) < 0) and apex_epsilons(1).tolist() == [0.4]
    assert apex_epsilons(3)[1] == pytest.approx(0.4 ** 4.5)


def test_epsilon_greedy_actor():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2, 3))
    with torch.no_grad():
        net[1].weight.copy_(T([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
        net[1].bias.zero_()
    obs = np.array([[[5.0, 0.0]], [[0.0, 5.0]], [[-1.0, -1.0]]], np.float32)
    actor = EpsilonGreedyActor(net, 3, np.random.default_rng(0))
    assert actor.act(obs, 0.0).tolist() == [0, 1, 2]
    draws = np.stack([actor.act(obs, np.array([0.0, 1.0, 0.0])) for _ in range(300)])
    assert set(draws[:, 0]) == {0} and set(draws[:, 2]) == {2}
    assert set(draws[:, 1]) == {0, 1, 2}
    again = EpsilonGreedyActor(net, 3, np.random.default_rng(7))
    same = EpsilonGreedyActor(net, 3, np.random.default_rng(7))
    assert again.act(obs, 0.5).tolist() == same.act(obs, 0.5).tolist()


def _batch(rng: np.random.Generator, size: int = 16) -> dict:
    return {"obs": rng.normal(size=(size, 1, 4)).astype(np.float32),
            "next_obs": rng.normal(size=(size, 1, 4)).astype(np.float32),
            "action": rng.integers(0, 2, size), "reward": rng.normal(size=size),
            "discount": np.full(size, 0.99), "weights": np.ones(size)}


def _learner(config: LearnerConfig, seed: int = 0) -> DQNLearner:
    torch.manual_seed(seed)
    return DQNLearner(MLP(4, 2, hidden=(16, 16)), config)


def test_learner_syncs_the_target_every_n_updates():
    learner = _learner(LearnerConfig(target_update=3, lr=1e-2))
    batch = _batch(np.random.default_rng(0))
    for update in range(1, 7):
        result = learner.update(batch)
        same = all(torch.equal(a, b) for a, b in zip(learner.network.parameters(),
                                                     learner.target.parameters(), strict=True))
        assert same == (update % 3 == 0)
    assert result.td_errors.shape == (16,) and np.isfinite(result.loss)


def test_rmsprop_is_the_nature_variant():
    learner = _learner(LearnerConfig(optimizer="rmsprop", lr=2.5e-4))
    group = learner.optimizer.param_groups[0]
    assert isinstance(learner.optimizer, torch.optim.RMSprop)
    assert (group["alpha"], group["eps"], group["centered"]) == (0.95, 0.01, True)


def test_a_learner_resumed_with_a_new_lr_and_eps_trains_with_them():
    """torch's load_state_dict brings back the saved lr and eps; the resuming learner's own
    config decides (what `--resume --set lr=...` asks for), the moments stay."""
    a = _learner(LearnerConfig(lr=1e-4, adam_eps=1.5e-4))
    a.update(_batch(np.random.default_rng(0)))
    b = _learner(LearnerConfig(lr=5e-5, adam_eps=1e-8))
    b.load_state_dict(a.state_dict())
    group = b.optimizer.param_groups[0]
    assert (group["lr"], group["eps"]) == (5e-5, 1e-8)
    moments = a.optimizer.state_dict()["state"][0]["exp_avg_sq"]
    assert torch.equal(b.optimizer.state_dict()["state"][0]["exp_avg_sq"], moments)


def test_learner_state_dict_resumes_exactly():
    config = LearnerConfig(target_update=2, double=True, grad_clip=1.0)
    a = _learner(config)
    batches = [_batch(np.random.default_rng(i)) for i in range(6)]
    for batch in batches[:3]:
        a.update(batch)
    b = _learner(config, seed=99)  # different init: everything must come from the state
    b.load_state_dict(a.state_dict())
    for batch in batches[3:]:
        assert a.update(batch).loss == b.update(batch).loss
    for x, y in zip(a.state_dict()["network"].values(), b.state_dict()["network"].values(),
                    strict=True):
        assert torch.equal(x, y)
    assert a.updates == b.updates == 6
