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
from agents.alphago.search.presets import preset

from .config import ConfigError, load_config

Builder = Callable[..., Player]  # (size: int, seed: int, **options) -> Player
Log = Callable[[str], None]
DEFAULT_KIND = "alphago"  # the networks where weights exist for the board size, else "mcts"
SEARCH_PRESETS = {"alphago": "apv", "mcts": "mcts", "zero": "play"}  # kind -> search preset


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _random(size: int, seed: int, **options: Any) -> Player:
    return RandomPlayer(seed=seed, **options)


def _mcts(size: int, seed: int, config: MCTSConfig | None = None, threads: int | None = None,
          heavy: bool = True, log: Log | None = _stderr) -> Player:
    """The network-free engine: MCTS over compiled rollouts on `threads` cores (default all),
    with the "mcts" search preset unless `config` is given."""
    config = config or preset("mcts")
    if config.policy_threshold > 0:
        raise ConfigError(f"policy_threshold {config.policy_threshold} needs a policy network; "
                          "the mcts player has none (set it to 0, or use --player alphago)")
    evaluator = RolloutEvaluator(seed=seed, heavy=heavy, threads=threads)
    return MCTSPlayer(evaluator, config, seed=seed, log=log)


def _alphago(size: int, seed: int, config: MCTSConfig | None = None, threads: int | None = None,
             weights: str | None = None, value_weights: str | None = None,
             rollout_weights: str | None = None, linear_rollouts: bool = False,
             mix: float = 0.5, device: str = "cpu", log: Log | None = _stderr) -> Player:
    """AlphaGo's engine: APV-MCTS (evaluators.apv) over the policy net, the value net and
    rollouts, with the "apv" search preset unless `config` is given. Networks default to the
    shipped ones for `size` (networks.default_weights); the value net may be a play net's
    value head (networks.load_value_network). The policy net, and the value net when there is
    one, are asked only for the nodes visited `config.policy_threshold` times (heuristic
    priors and RAVE before; the value mixed by lambda into the rollouts' values below them);
    at threshold 0 (or lambda 0) every leaf gets both nets, as in the paper.
    Rollouts are the MoGo-style heavy playouts unless a trained rollout policy is asked for
    (`rollout_weights`, or `linear_rollouts` for the shipped one): in search the heavy
    playouts play better, although the trained policy predicts teacher moves far better.
    Without a policy net for `size` the network-free engine plays instead, with the "mcts"
    preset. One line through `log` says which engine runs and any setting it changed. A weight
    file that does not fit is a ConfigError (one line)."""
    from agents.alphago.evaluators import apv

    say = log or (lambda _line: None)
    config = config or preset("apv")
    nets = _load_networks(size, weights, value_weights, rollout_weights, linear_rollouts)
    if isinstance(nets, str):  # why no policy net plays
        unused = "" if config == preset("apv") else ", the search settings given unused"
        say(f"rlgo: engine: network-free MCTS ({nets}; the mcts search preset{unused})")
        return _mcts(size, seed, threads=threads, log=log)
    (policy, policy_path), (value, value_path), (rollout, rollout_path) = nets
    if threads:  # --threads means the cores this engine computes on, networks included
        import torch

        torch.set_num_threads(threads)
    if value is None:
        mix = 1.0
    # the policy net (and the value net) are asked only for nodes the search keeps visiting
    # (apv.DeferredPolicyEvaluator, compiled); at policy_threshold 0 every leaf gets both nets
    # (the Python search, the paper's way); lambda 0 has no rollouts to defer to
    deferred = config.policy_threshold > 0 and mix > 0
    changed = ""
    if not deferred and config.policy_threshold > 0:
        changed = (f"; policy_threshold {config.policy_threshold} -> 0, lambda 0 leaves no "
                   "rollouts: every leaf gets both nets")
        config = dataclasses.replace(config, policy_threshold=0)
    rollouts = None
    if mix > 0:
        rollouts = RolloutEvaluator(seed=seed, priors=deferred, threads=threads,
                                    linear_policy=rollout)
    evaluator = apv.NetworkEvaluator(policy, value, rollouts, mix=mix, device=device)
    if deferred:
        evaluator = apv.DeferredPolicyEvaluator(evaluator)
    when = f"after {config.policy_threshold} visits" if deferred else "at every leaf"
    # a deferred value net's estimates count as prior visits, or are mixed in by lambda
    as_visits = deferred and value is not None and config.value_visits > 0
    valued = (f" {when}, as {config.value_visits:g} visits" if as_visits
              else f" {when}" if value is not None else "")
    say(f"rlgo: engine: alphago (policy {policy_path} {when}; value "
        f"{value_path or 'none, rollouts only'}{valued}; "
        f"rollouts {'none' if mix == 0 else rollout_path or 'heavy playouts'}"
        f"{'' if as_visits else f'; lambda {mix:g}'}{changed})")
    return MCTSPlayer(evaluator, config, seed=seed, name="rlgo-alphago", log=log)


def _zero(size: int, seed: int, config: MCTSConfig | None = None, threads: int | None = None,
          weights: str | None = None, value_weights: str | None = None,
          rollout_weights: str | None = None, linear_rollouts: bool = False,
          mix: float = 0.5, device: str = "cpu", log: Log | None = _stderr) -> Player:
    """The self-play loop's engine: MCTS over one play net (selfplay/go/loop.py trains it),
    its policy head for the priors and its value head for the leaves, mixed with rollouts by
    lambda (`mix`; 0: the net alone, AlphaGo Zero's way), with the "play" search preset
    unless `config` is given. `weights` is a play net file (a run's RUN/networks/vNNNN.pt);
    default: the shipped one for `size`. Without one the network-free engine plays."""
    from agents.alphago.evaluators.playnet import PlayNetEvaluator
    from agents.alphago.nets import networks
    from agents.alphago.playouts import linear

    say = log or (lambda _line: None)
    if value_weights not in (None, "none"):
        raise ConfigError("the zero player's play net has its own value head; "
                          "--value-weights is for the alphago player")
    path = weights or networks.default_weights("play", size)
    if path is None:
        say(f"rlgo: engine: network-free MCTS (no play network for {size}x{size}; "
            "the mcts search preset)")
        return _mcts(size, seed, threads=threads, log=log)
    try:
        net = networks.load_network(path, "play", size)
        rollout_path = rollout_weights or (linear.default_rollout_weights(size)
                                           if linear_rollouts else None)
        rollout = linear.RolloutPolicy.load(rollout_path) if rollout_path else None
    except (networks.WeightsError, linear.RolloutWeightsError) as err:
        raise ConfigError(str(err)) from None
    rollouts = None
    if mix > 0:
        rollouts = RolloutEvaluator(seed=seed, threads=threads, linear_policy=rollout)
    evaluator = PlayNetEvaluator(net, rollouts, mix=mix, device=device,
                                 torch_threads=threads or 1)
    version = net.meta.get("version")
    say(f"rlgo: engine: zero (play net {path}"
        f"{f', version {version}' if version is not None else ''}; rollouts "
        f"{'none' if mix == 0 else rollout_path or 'heavy playouts'}; lambda {mix:g})")
    return MCTSPlayer(evaluator, config or preset("play"), seed=seed, name="rlgo-zero",
                      log=log)


def _load_networks(size: int, weights: str | None, value_weights: str | None,
                   rollout_weights: str | None, linear_rollouts: bool) -> tuple | str:
    """((policy, path), (value, path), (rollout policy, path)), each None where there is none,
    or the reason there is no policy net for `size`. ConfigError for a file that does not
    fit."""
    from agents.alphago.nets import networks
    from agents.alphago.playouts import linear

    policy_path = weights or networks.default_weights("policy", size)
    try:
        policy = networks.load_network(policy_path, "policy") if policy_path else None
        if policy is None:
            return f"no policy network for {size}x{size}"
        if policy.spec.size != size:
            return (f"{policy_path} is for {policy.spec.size}x{policy.spec.size}, the board is "
                    f"{size}x{size}")
        if value_weights == "none":  # asked for: rollouts alone give the values
            value_path = None
        else:
            value_path = value_weights or networks.default_weights("value", size)
        value = networks.load_value_network(value_path, size) if value_path else None
        rollout_path = rollout_weights or (linear.default_rollout_weights(size)
                                           if linear_rollouts else None)
        rollout = linear.RolloutPolicy.load(rollout_path) if rollout_path else None
    except (networks.WeightsError, linear.RolloutWeightsError) as err:
        raise ConfigError(str(err)) from None
    return (policy, policy_path), (value, value_path), (rollout, rollout_path)


BUILDERS: dict[str, Builder] = {
    "alphago": _alphago,
    "mcts": _mcts,
    "random": _random,
    "zero": _zero,
}


def search_config(kind: str, path: str | Path | None = None,
                  overrides: Sequence[str] = ()) -> MCTSConfig:
    """The search settings for a player kind: its preset (search.presets: "apv" for alphago,
    "mcts" for mcts), changed by the keys of the YAML file at `path` and then by the
    `key=value` overrides."""
    return load_config(MCTSConfig, path, overrides, base=preset(SEARCH_PRESETS[kind]))


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
