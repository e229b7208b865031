"""APV-MCTS evaluation: AlphaGo's networks and rollouts behind the MCTS Evaluator protocol.

Silver et al. (2016) score a leaf s_L with V(s_L) = (1 - lambda) v(s_L) + lambda z_L, v the
value network's estimate and z_L the outcome of one fast rollout from s_L, lambda = 0.5; the
policy network's move probabilities are the priors P of the new edges. NetworkEvaluator does
that for a batch of leaves in one network forward pass:

  - priors: softmax of the policy logits (optionally at a temperature) over the legal moves,
    pass included; illegal moves get 0;
  - values: the value net and one rollout per leaf, mixed by `mix` (lambda). mix = 0 needs no
    rollouts, mix = 1 no value net; without a value net (before one is trained) the values
    are the rollouts' alone. Rollouts are the trained linear policy's when one is given, else
    the MoGo-style heavy playouts. Rollouts and the value net run in background threads while
    the calling thread runs the policy net (compiled playouts and torch release the GIL), so
    on a multi-core CPU the three overlap.

AlphaGo asked the policy net only for nodes visited n_thr = 40 times; until then a node's priors
came from a cheap tree policy. DeferredPolicyEvaluator does that on top of NetworkEvaluator:
leaves get the network-free engine's evaluation (heavy rollout, heuristic priors, RAVE moves)
and MCTS (MCTSConfig.policy_threshold) asks its `priors`, and with a value net its `values`,
for the nodes it keeps visiting (counted as MCTSConfig.value_visits prior visits, or mixed by
lambda into the playouts below them). That is the shipped engine (the compiled search runs it);
NetworkEvaluator at every leaf runs at policy_threshold 0.

Both are PriorSources (evaluators.protocol) as well as Evaluators. Values are for the player to
move at each leaf, as MCTS expects (see tree.py). The search settings for the networks are the
"apv" preset (search.presets).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from agents.alphago.evaluators.playnet import masked_softmax
from agents.alphago.evaluators.protocol import Evaluation
from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.nets.features import features_batch
from agents.alphago.nets.networks import PolicyNet, ValueNet, as_input
from envs.go import Position


class NetworkEvaluator:
    """Evaluator with a policy net for priors and a value net and/or rollouts for values.

    policy_net: PolicyNet (required; priors come from it).
    value_net:  ValueNet or None (then the values are the rollouts').
    rollouts:   a RolloutEvaluator (its values are used; its priors ignored) or None.
    mix:        lambda in V = (1 - lambda) v + lambda z.
    temperature: the priors are softmax(logits / temperature).
    torch_threads: sets torch's intra-op threads (a process-wide setting; None leaves it).
                1 by default: the rollouts run beside torch on the other cores, and OpenMP's
                waiting threads collapse when cores are shared (measured on a busy 2-core
                machine, 6x64 policy net at batch 16: 9 ms with 1 thread, 490 ms with 2).
    """

    def __init__(self, policy_net: PolicyNet, value_net: ValueNet | None = None,
                 rollouts: RolloutEvaluator | None = None, mix: float = 0.5,
                 temperature: float = 1.0, device: torch.device | str = "cpu",
                 torch_threads: int | None = 1):
        if not 0.0 <= mix <= 1.0:
            raise ValueError(f"mix (lambda) must be in [0, 1], got {mix}")
        if value_net is None:
            mix = 1.0
        if mix > 0 and rollouts is None:
            raise ValueError("rollouts are needed: mix > 0 or no value network")
        if value_net is not None and value_net.spec.size != policy_net.spec.size:
            raise ValueError("the policy and value networks are for different board sizes")
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        # channels-last convolutions: 10-15% faster on CPU (oneDNN), same numbers
        fast = {"device": device, "memory_format": torch.channels_last}
        self.policy_net = policy_net.to(**fast).eval()
        self.value_net = value_net.to(**fast).eval() if value_net is not None and mix < 1 \
            else None
        self.rollouts = rollouts if mix > 0 else None
        self.mix = mix
        self.temperature = temperature
        self.device = torch.device(device)
        self.size = policy_net.spec.size
        self._background = ThreadPoolExecutor(2)
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)

    def evaluate(self, positions: Sequence[Position]) -> Evaluation:
        if positions[0].rules.size != self.size:
            raise ValueError(f"networks for {self.size}x{self.size}, "
                             f"board {positions[0].rules.size}x{positions[0].rules.size}")
        # rollouts and the value net run in background threads while this one runs the policy
        # net: compiled playouts and torch both release the GIL, so they use separate cores
        rolling = None
        if self.rollouts is not None:
            rolling = self._background.submit(self.rollouts.evaluate, positions)
        policy_x, value_x = self._inputs(positions)
        valuing = None
        if self.value_net is not None:
            valuing = self._background.submit(self._run, self.value_net, value_x)
        priors = self._priors(positions, policy_x)
        v = valuing.result() if valuing is not None else None
        if rolling is None:
            return Evaluation(priors, np.asarray(v, np.float32))
        rolled = rolling.result()  # its ownership and score: the value net has neither
        z = rolled.values
        values = z if v is None else (1.0 - self.mix) * v + self.mix * z
        return Evaluation(priors, np.asarray(values, np.float32), rolled.tails, rolled.ownership,
                          rolled.score)

    def priors(self, positions: Sequence[Position]) -> np.ndarray:
        """The policy net's priors alone (what MCTS's policy_threshold asks for)."""
        planes = features_batch(positions, self.policy_net.spec.planes, player_colour=False)
        return self._priors(positions, as_input(planes, self.device))

    def values(self, positions: Sequence[Position]) -> np.ndarray:
        """float32 [B]: the value net's estimates alone, for each position's player to move."""
        if self.value_net is None:
            raise ValueError("this evaluator has no value net")
        planes = features_batch(positions, self.value_net.spec.planes, player_colour=True)
        return np.asarray(self._run(self.value_net, as_input(planes, self.device)), np.float32)

    def _priors(self, positions: Sequence[Position], x: torch.Tensor) -> np.ndarray:
        logits = self._run(self.policy_net, x)
        legal = np.stack([p.legal_moves() for p in positions])
        return masked_softmax(logits / self.temperature, legal)

    def _inputs(self, positions: Sequence[Position]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The policy net's input planes and the value net's (None without a value net); one
        feature pass when both use the same plane set (the value net adds the colour plane)."""
        pspec = self.policy_net.spec
        vspec = self.value_net.spec if self.value_net is not None else None
        shared = vspec is not None and vspec.planes == pspec.planes
        x = as_input(features_batch(positions, pspec.planes, player_colour=shared), self.device)
        if vspec is None:
            return x, None
        if shared:
            return x[:, :-1], x
        return x, as_input(features_batch(positions, vspec.planes, player_colour=True),
                           self.device)

    @staticmethod
    def _run(net: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            return net(x.contiguous(memory_format=torch.channels_last)).float().cpu().numpy()

    def close(self) -> None:
        self._background.shutdown(wait=False)


class DeferredPolicyEvaluator:
    """AlphaGo's expansion threshold on a CPU: leaves are valued by the rollouts of `network`
    and get the rollout evaluator's cheap heuristic priors and RAVE moves, the network-free
    engine's whole leaf evaluation; the policy net's priors replace the heuristic ones for the
    nodes the search visits MCTSConfig.policy_threshold times (MCTS calls `priors`). With a
    value net, the same nodes get its estimate (`values`, a ValueSource), which the search
    mixes into the values of the leaves below them by lambda: AlphaGo's asynchronous value
    net, judging the nodes the search returns to instead of every leaf. The search then runs
    near the rollouts' rate instead of the networks' (a batch of 16 leaves: 16 heavy
    rollouts 2.0 ms, the policy net 6.2 ms on one thread), and the networks' judgement goes
    where the search spends its time. AlphaGo's tree policy before the threshold was a small pattern
    policy; here it is the heuristic priors with RAVE."""

    def __init__(self, network: NetworkEvaluator):
        if network.rollouts is None or not network.rollouts.use_priors:
            raise ValueError("deferred priors need rollouts with heuristic priors")
        self.network = network
        # with a value net: its estimates of the same nodes, mixed into the rollouts' values
        # below them by the search (tree.mixed_value)
        self.value_weight = 0.0 if network.value_net is None else 1.0 - network.mix

    @property
    def leaf_rollouts(self) -> RolloutEvaluator:
        """The rollouts that evaluate() runs (evaluators.protocol.RolloutLeaves): the compiled
        search runs them itself and asks priors() at the threshold."""
        return self.network.rollouts

    def priors(self, positions: Sequence[Position]) -> np.ndarray:
        """The policy net's priors (NetworkEvaluator.priors)."""
        return self.network.priors(positions)

    def values(self, positions: Sequence[Position]) -> np.ndarray:
        """The value net's estimates (NetworkEvaluator.values)."""
        return self.network.values(positions)

    def evaluate(self, positions: Sequence[Position]) -> Evaluation:
        return self.network.rollouts.evaluate(positions)

    def close(self) -> None:
        self.network.close()
