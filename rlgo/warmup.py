"""Compile the engine's numba kernels ahead of the first game: `python -m rlgo.warmup`.

The board, playout and search kernels are compiled on first use and cached on disk
(`cache=True`, in a folder named by a hash of their sources: envs/go/kernel_cache.py). A
cold cache makes the engine's first move take 20-100 s of compiling; a warm one loads them in
about a second. `make setup` runs this module, so the first move after the quick start comes
at once, and the GUI asks `cold()` to tell the user why a first move is slow when the cache
was not warmed.
"""

from __future__ import annotations

import importlib
import sys
import time

# The kernels the first engine move runs, as (module, function); each has a fresh index in the
# cache once a move has been played with the current sources.
FIRST_MOVE_KERNELS = (
    ("envs.go.kernels", "group_info"),
    ("envs.go.playout", "run_playouts"),
    ("agents.alphago.search.simulation", "simulate"),
    ("agents.alphago.search.simulation", "playable_moves"),
    ("agents.alphago.playouts.mogo", "heuristic_priors"),
)


def cold() -> bool:
    """Whether a first-move kernel has no compiled version cached on disk for its current
    source (so the next search compiles it). False where numba's cache cannot be inspected:
    then nothing is promised."""
    try:
        for module, name in FIRST_MOVE_KERNELS:
            kernel = getattr(importlib.import_module(module), name)
            if not kernel._cache._cache_file._load_index():  # {} if missing or stale
                return True
    except (AttributeError, ImportError):  # numba's cache layout is not a public API
        return False
    return False


def warm_up(log=print) -> float:
    """Play a few searched moves with the default engines (the networks' on 9x9, the
    network-free one on 13x13) and mark dead stones, compiling and caching every kernel they
    use; the seconds it took."""
    from agents.alphago.search.player import SearchLimits
    from envs.go import DEFAULT_KOMI, Position, Rules

    from .players import DEFAULT_KIND, build_player

    start = time.perf_counter()
    for kind, size in ((DEFAULT_KIND, 9), ("mcts", 13)):
        quiet = {"log": None} if kind == "alphago" else {}  # no engine line in `make setup`
        player = build_player(kind, size, threads=1, **quiet)
        position = Position.new(Rules(size=size, komi=DEFAULT_KOMI))
        for _ in range(2):
            position = position.play(player.genmove(position, SearchLimits(visits=32)).move)
        player.dead_stones(position)
    seconds = time.perf_counter() - start
    log(f"rlgo: engine kernels compiled and cached ({seconds:.0f} s)")
    return seconds


def ready_player(factory, size: int):
    """factory(size), after a 16-visit search of the empty board (then forgotten): the kernels
    load from the cache and the networks run once, so the first timed genmove spends its time
    searching (without this it ran 0.7-0.9 s over a 1 s limit)."""
    from agents.alphago.search.player import SearchLimits
    from envs.go import DEFAULT_KOMI, Position, Rules

    player = factory(size)
    player.genmove(Position.new(Rules(size=size, komi=DEFAULT_KOMI)), SearchLimits(visits=16))
    player.clear()
    return player


if __name__ == "__main__":  # `make setup`: quick when the cache is already warm
    if cold():
        print("rlgo: compiling the engine's kernels (first run only, about a minute)...",
              file=sys.stderr, flush=True)
        warm_up(lambda line: print(line, file=sys.stderr))
