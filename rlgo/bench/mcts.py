"""`rlgo bench mcts`: simulations per second of the network-free engine, and with networks.

Each figure is a search from a position a few moves into a game (so the tree is not trivially
symmetric) for `seconds`, repeated `rounds` times (median). The network-free engine is
measured both ways in the same rounds, interleaved: the compiled search the players use
(CompiledMCTS, on all cores and on one thread) and the Python MCTS it replaced (compiled:
false), with the ratios between them. The sweep shows what leaf batching (leaves evaluated per
parallel rollout call) and virtual loss do to the Python search's rate.
`sims_per_s_9x9_nets` is the alphago player as shipped (evaluators.apv: the policy net
for nodes visited 8 times, heavy rollouts); `sims_per_s_9x9_nets_every_leaf` is APV-MCTS with
the policy and value nets at every leaf and rollouts at lambda 0.5 (the shipped nets, or
freshly initialised ones of the default shape when none are shipped: the cost is the same),
as the player runs with a value net.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.search.compiled import CompiledMCTS
from agents.alphago.search.mcts import MCTS, MCTSConfig
from agents.alphago.search.player import SearchLimits
from agents.alphago.search.presets import preset
from envs.go import Position, Rules, from_gtp

from .report import emit


@dataclass(frozen=True)
class MctsBenchConfig:
    seconds: float = 2.0
    rounds: int = 3
    batch_sizes: tuple[int, ...] = (1, 4, 8, 16, 32)
    virtual_losses: tuple[float, ...] = (1.0, 3.0)
    seed: int = 0


def _opening(size: int) -> Position:
    pos = Position.new(Rules(size=size, komi=7.0))
    for vertex in (("E5", "C4", "F3") if size == 9 else ("D4", "Q16", "Q4")):
        pos = pos.play(from_gtp(vertex, size))
    return pos


def sims_per_second(position: Position, config: MCTSConfig, seconds: float, rounds: int,
                    seed: int, heavy: bool = True) -> float:
    """The Python MCTS's rate (the sweep's searches)."""
    return statistics.median(
        _rate(MCTS(RolloutEvaluator(seed=seed + r, heavy=heavy), config,
                   np.random.default_rng(seed + r)), position, seconds)
        for r in range(rounds))


def compiled_vs_python(size: int, seconds: float, rounds: int, seed: int) -> dict[str, float]:
    """Medians of the Python search, the compiled one on all cores and on one thread, measured
    in turn within each round (so the machine's load changes hit all three alike). Each search
    is built once and runs every round from a cleared tree, as an engine searches move after
    move: a fresh tree's first pass over its memory costs page faults that play pays once."""
    config = preset("mcts")
    searches = {}
    for name, threads in (("python", None), ("compiled", None), ("compiled_1_thread", 1)):
        evaluator = RolloutEvaluator(seed=seed, threads=threads)
        rng = np.random.default_rng(seed)
        searches[name] = (MCTS(evaluator, config, rng) if name == "python"
                          else CompiledMCTS(evaluator, config, rng))
    rates: dict[str, list[float]] = {name: [] for name in searches}
    for _ in range(rounds):
        for name, search in searches.items():
            rates[name].append(_rate(search, _opening(size), seconds))
    return {name: statistics.median(values) for name, values in rates.items()}


def _rate(search: MCTS, position: Position, seconds: float) -> float:
    """Simulations/s of `search` from `position` on a cleared tree, after a short warm-up (numba
    compilation, thread pools)."""
    search.search(position, SearchLimits(visits=2 * search.config.batch_size))
    search.clear()
    start = time.perf_counter()
    search.search(position, SearchLimits(seconds=seconds))
    return search.simulations / (time.perf_counter() - start)


def nets_sims_per_second(seconds: float, rounds: int, seed: int) -> tuple[float, float, str]:
    """Simulations/s on 9x9 on the CPU of (the alphago player as shipped, the networks at
    every leaf as with a value net), and which networks were used."""
    import torch

    from agents.alphago.evaluators.apv import NetworkEvaluator
    from agents.alphago.nets.networks import (
        NetSpec,
        PolicyNet,
        ValueNet,
        default_weights,
        load_network,
    )
    from rlgo.players import build_player

    nets, names = [], []
    for kind, cls in (("policy", PolicyNet), ("value", ValueNet)):
        path = default_weights(kind, 9)
        if path is not None:
            nets.append(load_network(path, kind, 9))
        else:
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                nets.append(cls(NetSpec(kind=kind, size=9)).eval())
        spec = NetSpec()
        names.append(f"{kind} {path.name if path else f'untrained {spec.layers}x{spec.filters}'}")
    names.append("heavy rollouts")
    shipped, every_leaf = [], []
    for r in range(rounds):
        player = build_player("alphago", 9, seed=seed + r, log=None)
        shipped.append(_rate(player.mcts, _opening(9), seconds))
        evaluator = NetworkEvaluator(nets[0], nets[1], RolloutEvaluator(seed=seed + r,
                                                                        priors=False), mix=0.5)
        config = dataclasses.replace(preset("apv"), policy_threshold=0)
        every_leaf.append(_rate(MCTS(evaluator, config, np.random.default_rng(seed + r)),
                                _opening(9), seconds))
        evaluator.close()
    return statistics.median(shipped), statistics.median(every_leaf), "; ".join(names)


def run(config: MctsBenchConfig, json_path: str | None = None) -> dict:
    rows = []
    default = preset("mcts")
    for size in (9, 19):
        rates = compiled_vs_python(size, config.seconds, config.rounds, config.seed)
        speedup = rates["compiled"] / rates["python"]
        scaling = rates["compiled"] / rates["compiled_1_thread"]
        rows += [(f"sims_per_s_{size}x{size}", rates["compiled"],
                  "simulations/s, default search: compiled, all cores"),
                 (f"sims_per_s_{size}x{size}_python", rates["python"],
                  f"simulations/s, the Python MCTS (batch {default.batch_size}), all cores"),
                 (f"sims_per_s_{size}x{size}_1_thread", rates["compiled_1_thread"],
                  "simulations/s, compiled, one thread"),
                 (f"compiled_speedup_{size}x{size}", speedup,
                  "compiled / Python simulations/s, same rounds"),
                 (f"thread_scaling_{size}x{size}", scaling,
                  "compiled simulations/s, all cores / one thread")]
        print(f"  {size}x{size}: compiled {rates['compiled']:,.0f} sims/s "
              f"({rates['compiled_1_thread']:,.0f} on one thread, {scaling:.2f}x), Python "
              f"{rates['python']:,.0f}: {speedup:.2f}x", file=sys.stderr)
    light = sims_per_second(_opening(9), default, config.seconds, config.rounds, config.seed,
                            heavy=False)
    rows.append(("sims_per_s_9x9_random_playouts", light, "simulations/s, uniform playouts"))
    nets, every_leaf, which = nets_sims_per_second(config.seconds, config.rounds, config.seed)
    rows.append(("sims_per_s_9x9_nets", nets, "simulations/s, the alphago player on CPU "
                 "(policy net after 8 visits, heavy rollouts)"))
    rows.append(("sims_per_s_9x9_nets_every_leaf", every_leaf, "simulations/s, policy and value "
                 "nets at every leaf, lambda 0.5, batch 16"))
    print(f"  9x9 with networks: {nets:,.0f} sims/s as shipped, {every_leaf:,.0f} with both "
          f"nets at every leaf ({which})", file=sys.stderr)
    sweep = {}
    for batch in config.batch_sizes:
        for vl in config.virtual_losses:
            cfg = dataclasses.replace(default, batch_size=batch, virtual_loss=vl)
            rate = sims_per_second(_opening(9), cfg, config.seconds, 1, config.seed)
            sweep[f"batch_{batch}_vl_{vl:g}"] = rate
            rows.append((f"sims_per_s_9x9_batch{batch}_vl{vl:g}", rate, "simulations/s"))
            print(f"  batch {batch}, virtual loss {vl:g}: {rate:,.0f} sims/s", file=sys.stderr)
    return emit("rlgo bench mcts", rows, json_path, {"config": vars(config)})
