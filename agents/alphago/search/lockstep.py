"""Several searches in lockstep, sharing one evaluator call per round.

One search sends `batch_size` leaves to its evaluator per round: 8 leaves keep neither a GPU
nor the CPU's compiled rollouts busy. Self-play runs many games at once, and an arena game
has two searches, so the searches advance together instead: each gathers its leaves (MCTS.
gather), the leaves of all searches that share an evaluator go to it in ONE evaluate() call
(8 games x 8 leaves = one batch of 64), and each search finishes its round with its own rows
(MCTS.finish). Every search's tree, limits and results are what its own search() would give
with the same evaluator answers; only the batching changes.

Searches with different evaluators (the two players of an arena game with different
networks) form one group per evaluator, each group with its own call per round.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agents.alphago.evaluators.protocol import Evaluation
from agents.alphago.search.mcts import MCTS
from agents.alphago.search.player import MoveInfo
from envs.go import Position


def search_together(searches: Sequence[MCTS], positions: Sequence[Position],
                    visits: int | Sequence[int]) -> list[list[MoveInfo]]:
    """Search every `positions[i]` with `searches[i]` for `visits` (one count for all, or one
    each) simulations, in lockstep rounds: each unfinished search gathers min(batch_size,
    its remaining visits) leaves, one evaluate() per evaluator scores the leaves of all its
    searches, each search finishes its round. A search stops at its visits or when its root
    is terminal. Sets each search's .simulations; returns each one's candidates(), in order.
    """
    if len(searches) != len(positions):
        raise ValueError(f"{len(searches)} searches for {len(positions)} positions")
    if len({id(s) for s in searches}) != len(searches):
        raise ValueError("a search appears twice: one tree cannot search two positions")
    wanted = [visits] * len(searches) if isinstance(visits, int) else list(visits)
    if len(wanted) != len(searches) or any(v < 0 for v in wanted):
        raise ValueError(f"visits {visits!r}: one count >= 0, or one per search")
    for search, position in zip(searches, positions, strict=True):
        search.begin(position)
    # an unexpanded root is evaluated in the first round whatever the visits, as search() does
    root_round = [s.tree.count[s.root] == 0 and not s.tree.terminal[s.root] for s in searches]
    done = [0] * len(searches)
    groups: dict[int, list[int]] = {}  # id(evaluator) -> the searches that share it
    for i, search in enumerate(searches):
        groups.setdefault(id(search.evaluator), []).append(i)

    def active(i: int) -> bool:
        search = searches[i]
        return root_round[i] or (done[i] < wanted[i] and not search.tree.terminal[search.root])

    while True:
        running = [i for i in range(len(searches)) if active(i)]
        if not running:
            break
        for members in groups.values():
            members = [i for i in members if i in running]
            if not members:
                continue
            leaves = [searches[i].gather(min(searches[i].config.batch_size,
                                             wanted[i] - done[i]))
                      for i in members]
            sizes = [len(x) for x in leaves]
            if sum(sizes):
                evaluation = searches[members[0]].evaluator.evaluate(
                    [p for group in leaves for p in group])
                parts: list[Evaluation | None] = list(split_evaluation(evaluation, sizes))
            else:
                parts = [None] * len(members)
            for i, part, size in zip(members, parts, sizes, strict=True):
                done[i] += searches[i].finish(part if size else None)
                root_round[i] = False
    for search, n in zip(searches, done, strict=True):
        search.simulations = n
    return [search.candidates() for search in searches]


def split_evaluation(evaluation: Evaluation, sizes: Sequence[int]) -> list[Evaluation]:
    """Cut an Evaluation of sum(sizes) rows into consecutive parts of `sizes` rows (priors
    [size_k, A], values [size_k]; tails, ownership [size_k, n] and score [size_k] the matching
    slices when present)."""
    total = sum(sizes)
    if len(evaluation.values) != total or len(evaluation.priors) != total:
        raise ValueError(f"the evaluation has {len(evaluation.values)} rows, the parts "
                         f"{total}")
    bounds = np.cumsum([0, *sizes])
    tails, ownership, score = evaluation.tails, evaluation.ownership, evaluation.score
    return [Evaluation(evaluation.priors[a:b], evaluation.values[a:b],
                       None if tails is None else list(tails[a:b]),
                       None if ownership is None else ownership[a:b],
                       None if score is None else score[a:b])
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]
