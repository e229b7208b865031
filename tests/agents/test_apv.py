"""APV-MCTS: the network evaluator's priors and value mix, search with it, and the alphago
player's loading, fallback and errors."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.alphago.evaluators.apv import DeferredPolicyEvaluator, NetworkEvaluator
from agents.alphago.evaluators.protocol import Evaluation, PriorSource, ValueSource
from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.nets.features import features_batch
from agents.alphago.nets.networks import (
    WEIGHTS_DIR,
    NetSpec,
    PlayNet,
    PolicyNet,
    ValueNet,
    WeightsError,
    as_input,
    load_value_network,
    save_network,
)
from agents.alphago.search.compiled import CompiledMCTS
from agents.alphago.search.mcts import MCTSConfig, value_of
from agents.alphago.search.mcts_player import MCTSPlayer
from agents.alphago.search.player import SearchLimits
from agents.alphago.search.presets import PRESETS, preset
from envs.go import PASS, Position, Rules, from_gtp
from rlgo.cli import main
from rlgo.config import ConfigError
from rlgo.players import build_player, search_config

SIZE = 5


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """The alphago player sets torch's (process-wide) thread count: put it back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _policy(bias: np.ndarray | None = None, size: int = SIZE) -> PolicyNet:
    """A small policy net whose logits are exactly `bias` (pass logit 0), or random."""
    torch.manual_seed(0)
    net = PolicyNet(NetSpec("policy", size, layers=1, filters=4)).eval()
    if bias is not None:
        with torch.no_grad():
            net.head.weight.zero_()
            net.point_bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
            net.pass_logit.weight.zero_()
            net.pass_logit.bias.zero_()
    return net


def _value(v: float) -> ValueNet:
    """A small value net that says `v` for every position."""
    torch.manual_seed(0)
    net = ValueNet(NetSpec("value", SIZE, layers=1, filters=4, hidden=8)).eval()
    with torch.no_grad():
        net.head[-1].weight.zero_()
        net.head[-1].bias.fill_(math.atanh(v))
    return net


class FixedRollouts:
    """Rollouts whose outcome is known: z for every leaf."""

    def __init__(self, z: float):
        self.z = z
        self.calls = 0

    def evaluate(self, positions):
        self.calls += 1
        n = positions[0].board.size
        return Evaluation(np.ones((len(positions), n + 1), np.float32),
                          np.full(len(positions), self.z, np.float32), None)


def _positions() -> list[Position]:
    pos = Position.new(Rules(size=SIZE, komi=0.5))
    out = [pos]
    for vertex in ("C3", "B3", "C2"):
        pos = pos.play(from_gtp(vertex, SIZE))
        out.append(pos)
    return out


@pytest.mark.parametrize("mix", [0.0, 0.5, 1.0])
def test_values_mix_the_value_net_and_rollouts(mix: float) -> None:
    rollouts = FixedRollouts(-1.0)
    evaluator = NetworkEvaluator(_policy(), _value(0.6), rollouts, mix=mix, torch_threads=None)
    values = evaluator.evaluate(_positions()).values
    np.testing.assert_allclose(values, (1 - mix) * 0.6 + mix * -1.0, atol=1e-5)
    assert rollouts.calls == (0 if mix == 0 else 1)


def test_without_a_value_net_the_rollouts_decide() -> None:
    evaluator = NetworkEvaluator(_policy(), None, FixedRollouts(0.25), mix=0.5,
                                 torch_threads=None)
    np.testing.assert_allclose(evaluator.evaluate(_positions()).values, 0.25)
    with pytest.raises(ValueError, match="rollouts are needed"):
        NetworkEvaluator(_policy(), None, None)
    NetworkEvaluator(_policy(), _value(0.1), None, mix=0.0, torch_threads=None)  # no rollouts


def test_priors_are_a_distribution_over_legal_moves() -> None:
    bias = np.linspace(-1.0, 1.0, SIZE * SIZE)
    evaluator = NetworkEvaluator(_policy(bias), _value(0.0), None, mix=0.0, torch_threads=None)
    positions = _positions()
    priors = evaluator.evaluate(positions).priors
    assert priors.shape == (len(positions), SIZE * SIZE + 1)
    for pos, row in zip(positions, priors, strict=True):
        legal = pos.legal_moves()
        assert row.sum() == pytest.approx(1.0, abs=1e-5)
        assert np.all(row[~legal] == 0) and np.all(row[legal] > 0)
        logits = np.append(bias, 0.0)[legal]  # softmax of the logits over the legal moves
        np.testing.assert_allclose(row[legal], np.exp(logits) / np.exp(logits).sum(), rtol=1e-5)


def test_deferred_priors_leave_leaves_to_the_rollouts_and_priors_to_the_net() -> None:
    bias = np.linspace(-1.0, 1.0, SIZE * SIZE)
    rollouts = RolloutEvaluator(seed=3, threads=1)  # heuristic priors
    deferred = DeferredPolicyEvaluator(NetworkEvaluator(_policy(bias), None, rollouts,
                                                        torch_threads=None))
    positions = _positions()
    leaves = deferred.evaluate(positions)
    np.testing.assert_array_equal(leaves.priors, rollouts.evaluate(positions).priors)
    assert leaves.tails is not None and set(leaves.values.tolist()) <= {-1.0, 0.0, 1.0}
    full = NetworkEvaluator(_policy(bias), _value(0.0), None, mix=0.0, torch_threads=None)
    np.testing.assert_allclose(deferred.priors(positions), full.evaluate(positions).priors,
                               rtol=1e-5)
    with pytest.raises(ValueError, match="heuristic priors"):
        DeferredPolicyEvaluator(NetworkEvaluator(
            _policy(), None, RolloutEvaluator(priors=False, threads=1), torch_threads=None))
    assert deferred.value_weight == 0.0 and isinstance(deferred, ValueSource)
    with pytest.raises(ValueError, match="no value net"):
        deferred.values(positions)


@pytest.mark.parametrize("mix", [0.25, 0.5])
def test_deferred_values_are_the_value_nets_with_weight_one_minus_lambda(mix: float) -> None:
    rollouts = RolloutEvaluator(seed=3, threads=1)
    deferred = DeferredPolicyEvaluator(NetworkEvaluator(_policy(), _value(0.6), rollouts,
                                                        mix=mix, torch_threads=None))
    positions = _positions()
    assert deferred.value_weight == pytest.approx(1 - mix)
    np.testing.assert_allclose(deferred.values(positions), 0.6, atol=1e-5)
    # the leaves are still the rollouts' alone: the search mixes the values in
    assert set(deferred.evaluate(positions).values.tolist()) <= {-1.0, 0.0, 1.0}


def test_mcts_with_networks_plays_legal_moves() -> None:
    evaluator = NetworkEvaluator(_policy(), _value(0.0),
                                 RolloutEvaluator(seed=3, priors=False, threads=1),
                                 torch_threads=None)
    player = MCTSPlayer(evaluator, dataclasses.replace(preset("apv"), batch_size=4), seed=1)
    pos = Position.new(Rules(size=SIZE, komi=0.5))
    for _ in range(6):
        decision = player.genmove(pos, SearchLimits(visits=24))
        assert decision.move == PASS or pos.is_legal(decision.move)
        assert decision.winrate is not None and 0 <= decision.winrate <= 1
        pos = pos.play(decision.move)


def test_alphago_player_falls_back_without_weights() -> None:
    lines: list[str] = []
    player = build_player("alphago", 7, seed=0, log=lines.append)  # nothing ships for 7x7
    assert isinstance(player.mcts.evaluator, RolloutEvaluator)
    assert player.mcts.config == preset("mcts")
    assert len(lines) == 1 and "network-free" in lines[0] and "mcts search preset" in lines[0]


def test_alphago_player_loads_weight_files(tmp_path: Path) -> None:
    policy = save_network(tmp_path / "p.pt", _policy())
    value = save_network(tmp_path / "v.pt", _value(0.2))
    lines: list[str] = []
    player = build_player("alphago", SIZE, weights=str(policy), value_weights=str(value),
                          threads=1, log=lines.append)
    evaluator = player.mcts.evaluator  # both nets judge the nodes the search returns to
    assert isinstance(evaluator, DeferredPolicyEvaluator) and player.mcts.config == preset("apv")
    assert evaluator.value_weight == 0.5 and isinstance(player.mcts, CompiledMCTS)
    assert "engine: alphago" in lines[0] and lines[0].count("after 8 visits") == 2
    # at threshold 0, or lambda 0 (no rollouts to defer to), every leaf gets both nets
    every = build_player("alphago", SIZE, weights=str(policy), value_weights=str(value),
                         config=dataclasses.replace(preset("apv"), policy_threshold=0),
                         threads=1, log=lines.append)
    assert isinstance(every.mcts.evaluator, NetworkEvaluator) and "at every leaf" in lines[-1]
    pure = build_player("alphago", SIZE, weights=str(policy), value_weights=str(value), mix=0.0,
                        threads=1, log=lines.append)
    assert isinstance(pure.mcts.evaluator, NetworkEvaluator)
    assert pure.mcts.config == dataclasses.replace(preset("apv"), policy_threshold=0)
    assert "policy_threshold 8 -> 0" in lines[-1]  # the changed setting is said, on one line
    # weights for another size: the network-free engine plays that size
    other = build_player("alphago", 7, weights=str(policy), log=lines.append)
    assert isinstance(other.mcts.evaluator, RolloutEvaluator) and "5x5" in lines[-1]


def test_value_weights_none_leaves_the_values_to_rollouts(tmp_path: Path) -> None:
    policy = save_network(tmp_path / "p.pt", _policy())
    lines: list[str] = []
    player = build_player("alphago", SIZE, weights=str(policy), value_weights="none",
                          threads=1, log=lines.append)
    evaluator = player.mcts.evaluator  # the policy net only where the search returns
    assert isinstance(evaluator, DeferredPolicyEvaluator) and player.mcts.config == preset("apv")
    assert evaluator.network.value_net is None and evaluator.network.mix == 1.0
    assert "value none, rollouts only" in lines[0] and "after 8 visits" in lines[0]


def test_the_alphago_engine_counts_a_value_nets_estimates_as_prior_visits() -> None:
    lines: list[str] = []
    shipped = WEIGHTS_DIR / "search_value_9x9.pt"  # distilled from the engine's searches
    player = build_player("alphago", 9, value_weights=str(shipped), threads=1,
                          log=lines.append)
    evaluator = player.mcts.evaluator
    assert isinstance(evaluator, DeferredPolicyEvaluator)
    assert evaluator.network.value_net is not None
    assert "search_value_9x9.pt after 8 visits, as 16 visits" in lines[0]
    assert "lambda" not in lines[0]
    # not mixed into the playouts' values as well
    assert value_of(evaluator, player.mcts.config) == (evaluator.values, 0.0)
    mixed = dataclasses.replace(preset("apv"), value_visits=0.0)
    assert value_of(evaluator, mixed)[1] == pytest.approx(0.5)  # 1 - lambda


def test_a_weight_file_of_the_wrong_shape_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    path = save_network(tmp_path / "p.pt", _policy(size=9))
    payload = torch.load(path, weights_only=True)
    payload["spec"]["filters"] = 8  # the stored tensors have 4 filters
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(ConfigError, match="do not match"):
        build_player("alphago", 9, weights=str(tmp_path / "bad.pt"), log=None)
    assert main(["go", "gtp", "--quiet", "--weights", str(tmp_path / "bad.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.pt" in err[0] and "shape" in err[0]


def test_search_settings_start_from_the_players_preset(tmp_path: Path) -> None:
    assert set(PRESETS) == {"mcts", "apv", "play"}
    assert search_config("mcts") == preset("mcts") == MCTSConfig()
    assert search_config("zero") == preset("play") == dataclasses.replace(
        MCTSConfig(), c_puct=1.5, resign_threshold=0.1)
    assert search_config("alphago") == preset("apv") == dataclasses.replace(
        MCTSConfig(), resign_threshold=0.1, policy_threshold=8, value_visits=16.0)
    assert search_config("alphago", None, ["c_puct=2"]).c_puct == 2.0
    changes = tmp_path / "search.yaml"  # a user's file holds only the keys it changes
    changes.write_text("c_puct: 1.5\nbatch_size: 8\n")
    assert search_config("alphago", changes, ["batch_size=4"]) == dataclasses.replace(
        preset("apv"), c_puct=1.5, batch_size=4)  # preset, then the file, then --set
    with pytest.raises(ConfigError, match="policy_threshold"):
        search_config("alphago", None, ["policy_threshold=-1"])
    with pytest.raises(ConfigError, match="value_visits must be 0 or more"):
        search_config("alphago", None, ["value_visits=-1"])
    changes.write_text("c_pcut: 1.5\n")
    with pytest.raises(ConfigError, match="search.yaml: unknown key 'c_pcut'"):
        search_config("mcts", changes)
    with pytest.raises(KeyError, match="presets: mcts, apv"):
        preset("alphago")


def test_only_evaluators_with_a_policy_net_refine_priors() -> None:
    rollouts = RolloutEvaluator(threads=1)
    network = NetworkEvaluator(_policy(), None, rollouts, torch_threads=None)
    assert isinstance(network, PriorSource)
    assert isinstance(DeferredPolicyEvaluator(network), PriorSource)
    assert not isinstance(rollouts, PriorSource)
    with pytest.raises(ConfigError, match="needs a policy network"):
        build_player("mcts", SIZE, config=preset("apv"), threads=1)


def test_a_play_nets_value_head_serves_as_the_value_net(tmp_path: Path) -> None:
    torch.manual_seed(0)
    play = PlayNet(NetSpec("play", SIZE, planes="simple", layers=1, filters=4, hidden=8)).eval()
    path = save_network(tmp_path / "play.pt", play)
    head = load_value_network(path, SIZE)
    x = as_input(features_batch(_positions(), "simple", player_colour=True))
    with torch.no_grad():
        torch.testing.assert_close(head(x), play(x).value)
    player = build_player("alphago", SIZE, weights=str(save_network(tmp_path / "p.pt", _policy())),
                          value_weights=str(path), threads=1, log=None)
    with torch.no_grad():
        np.testing.assert_allclose(player.mcts.evaluator.values(_positions()),
                                   play(x).value.numpy(), atol=1e-6)
    with pytest.raises(WeightsError, match="holds a policy network"):
        load_value_network(tmp_path / "p.pt", SIZE)
