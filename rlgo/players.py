"""The composition root for Go players: a player kind's name -> a ready Player.

The GTP engine, the GUI and the arena all build their players here, so a new kind of player
(MCTS with rollouts, the network players) is one entry in BUILDERS: a function taking the board
size, a seed and that kind's keyword options and returning an object with the Player protocol
(agents.alphago.search.player).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.search.mcts import MCTSConfig
from agents.alphago.search.mcts_player import MCTSPlayer
from agents.alphago.search.player import Player, RandomPlayer

from .config import ConfigError, load_config

Builder = Callable[..., Player]  # (size: int, seed: int, **options) -> Player
Log = Callable[[str], None]
DEFAULT_KIND = "alphago"  # the networks where weights exist for the board size, else "mcts"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _random(size: int, seed: int, **options: Any) -> Player:
    return RandomPlayer(seed=seed, **options)


def _mcts(size: int, seed: int, config: MCTSConfig | None = None, threads: int | None = None,
          heavy: bool = True) -> Player:
    """The network-free engine: MCTS over compiled rollouts on `threads` cores (default all)."""
    evaluator = RolloutEvaluator(seed=seed, heavy=heavy, threads=threads)
    return MCTSPlayer(evaluator, config, seed=seed)


def _alphago(size: int, seed: int, config: MCTSConfig | None = None, threads: int | None = None,
             weights: str | None = None, value_weights: str | None = None,
             rollout_weights: str | None = None, linear_rollouts: bool = False,
             mix: float = 0.5, device: str = "cpu", log: Log | None = _stderr) -> Player:
    """AlphaGo's engine: APV-MCTS (evaluators.apv) over the policy net, the value net and
    rollouts. Networks default to the shipped ones for `size` (networks.default_weights);
    without a value net the values come from rollouts and the policy net is asked only for
    the nodes visited `config.policy_threshold` times (heuristic priors and RAVE before).
    Rollouts are the MoGo-style heavy playouts unless a trained rollout policy is asked for
    (`rollout_weights`, or `linear_rollouts` for the shipped one): at equal visits,
    network-free MCTS with heavy playouts beat the same search with the trained policy's
    playouts 19-3 on 9x9 (with and without RAVE), although the trained policy predicts
    teacher moves far better. Without a policy net for `size` the network-free engine plays
    instead (with its own search settings). One line through `log` says which engine runs.
    A weight file that does not fit is a ConfigError (one line)."""
    from agents.alphago.evaluators import apv
    from agents.alphago.nets import networks
    from agents.alphago.playouts import linear as rp

    say = log or (lambda _line: None)
    policy_path = weights or networks.default_weights("policy", size)
    try:
        policy = networks.load_network(policy_path, "policy") if policy_path else None
        if policy is not None and policy.spec.size != size:
            say(f"rlgo: engine: network-free MCTS ({policy_path} is for "
                f"{policy.spec.size}x{policy.spec.size}, the board is {size}x{size})")
            policy = None
        elif policy is None:
            say(f"rlgo: engine: network-free MCTS (no policy network for {size}x{size})")
        if policy is None:
            return _mcts(size, seed, threads=threads)
        if value_weights == "none":  # asked for: rollouts alone give the values
            value_path = None
        else:
            value_path = value_weights or networks.default_weights("value", size)
        value = networks.load_network(value_path, "value", size) if value_path else None
        rollout_path = rollout_weights or (rp.default_rollout_weights(size)
                                           if linear_rollouts else None)
        rollout = rp.RolloutPolicy.load(rollout_path) if rollout_path else None
    except (networks.WeightsError, rp.RolloutWeightsError) as err:
        raise ConfigError(str(err)) from None
    if value is None:
        mix = 1.0
    config = config or apv.APV_SEARCH
    # without a value net the policy net is asked only for nodes the search keeps visiting
    # (apv.DeferredPolicyEvaluator); with one, every leaf gets both nets, as in the paper
    deferred = config.policy_threshold > 0 and value is None
    if value is not None:
        config = dataclasses.replace(config, policy_threshold=0)
    rollouts = None
    if mix > 0:
        rollouts = RolloutEvaluator(seed=seed, priors=deferred, threads=threads,
                                    rollout_policy=rollout)
    evaluator = apv.NetworkEvaluator(policy, value, rollouts, mix=mix, device=device)
    if deferred:
        evaluator = apv.DeferredPolicyEvaluator(evaluator)
    when = f"after {config.policy_threshold} visits" if deferred else "at every leaf"
    say(f"rlgo: engine: alphago (policy {policy_path} {when}; value "
        f"{value_path or 'none, rollouts only'}; rollouts "
        f"{'none' if mix == 0 else rollout_path or 'heavy playouts'}; lambda {mix:g})")
    return MCTSPlayer(evaluator, config, seed=seed, name="rlgo-alphago")


BUILDERS: dict[str, Builder] = {
    "alphago": _alphago,
    "mcts": _mcts,
    "random": _random,
}


def search_config(kind: str, path: str | Path | None = None,
                  overrides: Sequence[str] = ()) -> MCTSConfig:
    """The search settings for a player kind: the YAML file when given, else the kind's own
    defaults (APV_SEARCH for "alphago", MCTSConfig() otherwise); then the overrides."""
    if kind == "alphago" and path is None:
        from agents.alphago.evaluators.apv import APV_SEARCH

        base = [f"{k}={v}" for k, v in dataclasses.asdict(APV_SEARCH).items()]
        return load_config(MCTSConfig, None, [*base, *overrides])
    return load_config(MCTSConfig, path, overrides)


def player_kinds() -> tuple[str, ...]:
    """The names build_player accepts (for --help and error messages)."""
    return tuple(BUILDERS)


def build_player(kind: str, size: int, seed: int = 0, **options: Any) -> Player:
    """A new `kind` player for `size`x`size` boards. ConfigError for an unknown kind or
    options the kind does not take."""
    builder = BUILDERS.get(kind)
    if builder is None:
        raise ConfigError(f"unknown player {kind!r} (choose from: {', '.join(BUILDERS)})")
    try:
        return builder(size, seed, **options)
    except TypeError as err:
        raise ConfigError(f"bad options for player {kind!r}: {err}") from None
