"""Go games played by MCTS players in lockstep: one evaluator call per round for all of them.

A network evaluates 64 leaves in little more time than 8, so self-play actors and gating
matches keep several games going at once and search them together
(agents.alphago.search.lockstep.search_together): every round, each game's searcher picks
its leaves, the leaves of all searchers that share an evaluator go to it in one call, and each
game moves once its search has its visits. A self-play game has one searcher for both colours
(its tree carries over from move to move); a match game has one per colour, each with its own
evaluator (the candidate's net and the best's), so a round makes one call per net.

For every move played a game keeps what training needs: the position searched, the root's
visit distribution and the search's win rate for the mover. `examples()` turns a finished game
into the learner's records (selfplay/go/learner.py), with the final ownership and score margin
from the mover's point of view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from agents.alphago.nets.features import features_batch
from agents.alphago.search.lockstep import search_together
from agents.alphago.search.mcts import MCTS
from agents.alphago.search.player import MoveInfo
from envs.go import BLACK, PASS, RESIGN, Position, Rules, winner_of


def visit_distribution(candidates: list[MoveInfo], n: int) -> np.ndarray:
    """float32 [n+1]: root visit counts normalised (pass at index n); pass=1 if none."""
    policy = np.zeros(n + 1, np.float32)
    for c in candidates:
        policy[n if c.move == PASS else c.move] += c.visits
    total = policy.sum()
    if total <= 0:
        policy[n] = 1.0
        return policy
    return policy / total


@dataclass
class SearchGame:
    """One game in progress. `black` and `white` may be the same MCTS (self-play)."""

    rules: Rules
    black: MCTS
    white: MCTS
    max_moves: int = 0                 # 0: 3 * size * size, then scored as it stands
    tag: object = None                 # the caller's (a game number, who is Black)
    position: Position = field(init=False)
    searched: list[Position] = field(default_factory=list)
    policies: list[np.ndarray] = field(default_factory=list)
    winrates: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.position = Position.new(self.rules)
        n = self.rules.size * self.rules.size
        self.max_moves = self.max_moves or 3 * n

    @property
    def over(self) -> bool:
        return self.position.is_game_over() or self.position.move_number >= self.max_moves

    def searcher(self) -> MCTS:
        return self.black if self.position.to_play == BLACK else self.white

    def move(self, candidates: list[MoveInfo]) -> None:
        """Play the searcher's choice from its root `candidates`, recording the search."""
        decision = self.searcher().choose(self.position, candidates)
        if decision.move != RESIGN:
            self.searched.append(self.position)
            self.policies.append(visit_distribution(candidates, self.rules.size ** 2))
            self.winrates.append(float(decision.winrate if decision.winrate is not None
                                       else 0.5))
        self.position = self.position.play(decision.move)

    def winner(self) -> int | None:
        return winner_of(self.position)

    def examples(self, planes: str) -> dict[str, np.ndarray]:
        """The learner's records of this finished game, one per move searched (T moves):
        planes uint8 [T, C, S, S], policy float32 [T, n+1], z float32 [T], ownership int8
        [T, n], score float32 [T] (selfplay/go/learner.py)."""
        final = self.position
        colours = np.array([p.to_play for p in self.searched], np.int8)
        sign = np.where(colours == BLACK, 1, -1).astype(np.int8)
        winner = winner_of(final)
        z = np.zeros(len(colours), np.float32) if winner is None else \
            np.where(colours == winner, 1.0, -1.0).astype(np.float32)
        owner = final.ownership()  # BLACK 1, WHITE 2, 0: neither
        black_view = np.where(owner == BLACK, 1, np.where(owner == 0, 0, -1)).astype(np.int8)
        return {"planes": features_batch(self.searched, planes, player_colour=True),
                "policy": np.stack(self.policies).astype(np.float32),
                "z": z,
                "ownership": sign[:, None] * black_view[None, :],
                "score": (sign * final.score()).astype(np.float32)}

    def move_comments(self) -> list[str]:
        """One SGF comment per move: the search's win rate for the player who made it."""
        return [f"win rate {w:.1%}" for w in self.winrates]


def play_lockstep(start: Callable[[int], SearchGame], total: int, slots: int,
                  visits: int) -> Iterator[SearchGame]:
    """Play games 0..total-1 (`start(i)` builds game i), at most `slots` at a time, each
    move searched with `visits` simulations; yields each game when it ends."""
    running: list[SearchGame] = []
    started = 0
    while running or started < total:
        while len(running) < slots and started < total:
            running.append(start(started))
            started += 1
        searches = [g.searcher() for g in running]
        candidates = search_together(searches, [g.position for g in running], visits)
        for game, found in zip(running, candidates, strict=True):
            game.move(found)
        for game in [g for g in running if g.over]:
            running.remove(game)
            yield game
