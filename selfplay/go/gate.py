"""The gating match: a candidate network plays the current best, in lockstep, in this process.

Each game has one search per colour, over the candidate's evaluator and over the best's, so a
round of the lockstep (search_games.play_lockstep) makes one call to each network for all the
games where it is to move. Colours alternate (the candidate is Black in even games). Both sides
search alike: the self-play visits and c_puct, no Dirichlet noise, and moves drawn by visit
count for the first `temperature_moves` moves, so that the games differ (searches without noise
would replay one game per colour). Games are played out and scored by area, as self-play's are.

The match stops as soon as the rule (ladder.GateRule) decides; games still running then are
abandoned unscored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from agents.alphago.evaluators.protocol import Evaluator
from agents.alphago.search.mcts import MCTS
from envs.go import BLACK, WHITE, Rules
from selfplay.go.actor import GoActorSettings
from selfplay.go.ladder import REJECT, GateRule
from selfplay.go.search_games import SearchGame, play_lockstep


@dataclass
class GateResult:
    """A finished gating match: the candidate's wins (draws count half) over `games`."""

    wins: float
    games: int
    decision: str
    records: list[SearchGame] = field(default_factory=list, repr=False)

    @property
    def score(self) -> float:
        return self.wins / self.games if self.games else 0.5


def gate_match(candidate: Evaluator, best: Evaluator, settings: GoActorSettings, rule: GateRule,
               seed: int = 0, visits: int | None = None,
               progress: Callable[[str], None] | None = None) -> GateResult:
    """Play candidate against best until `rule` decides (at most rule.games games)."""
    rules = Rules(size=settings.size, komi=settings.komi)
    config = settings.search_config(noise=False)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 104729]))

    def start(i: int) -> SearchGame:
        ours = MCTS(candidate, config, np.random.default_rng(rng.integers(2**63)))
        theirs = MCTS(best, config, np.random.default_rng(rng.integers(2**63)))
        black, white = (ours, theirs) if i % 2 == 0 else (theirs, ours)
        return SearchGame(rules, black, white, settings.max_moves,
                          tag=BLACK if i % 2 == 0 else WHITE)

    wins, games, records = 0.0, 0, []
    decision = None
    for game in play_lockstep(start, rule.max_games, settings.games_in_parallel,
                              visits or settings.visits):
        winner = game.winner()
        wins += 0.5 if winner is None else float(winner == game.tag)
        games += 1
        records.append(game)
        if progress is not None:
            progress(f"gate: game {games}: candidate as {'Black' if game.tag == BLACK else 'White'}"
                     f" {game.position.result()}; {wins:g}/{games}")
        decision = rule.decide(wins, games)
        if decision is not None:
            break
    return GateResult(wins, games, decision or REJECT, records)
