"""The gating match: a candidate network plays the current best, in lockstep, in this process.

Each game has one search per colour, over the candidate's evaluator and over the best's, so a
round of the lockstep (search_games.play_lockstep) makes one call to each network for all the
games where it is to move. Colours alternate (the candidate is Black in even games). Both sides
search alike: the self-play visits and c_puct, no Dirichlet noise, and moves drawn by visit
count for the first `temperature_moves` moves, so that the games differ (searches without noise
would replay one game per colour). Games are played out and scored by area, as self-play's are.

The match stops as soon as the rule (ladder.GateRule) decides; games still running then are
abandoned unscored. `gate_and_promote` is the loop's step around it: the learner's candidate
against the best, and on a win the new best's file (RUN/networks/vNNNN.pt), its ladder row and
a broadcast to the actors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents.alphago.evaluators.protocol import Evaluator
from agents.alphago.search.mcts import MCTS
from envs.go import BLACK, WHITE, Rules
from selfplay.go.actor import GoActorSettings, make_evaluator
from selfplay.go.ladder import PROMOTE, REJECT, GateRecord, GateRule, Gates, Ladder, LadderRow
from selfplay.go.search_games import SearchGame, play_lockstep
from selfplay.runtime import Backend


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


@dataclass
class Best:
    """The network the actors play with: its ladder version, its weights (a play net payload,
    or None for the bootstrap) and its file in the run ("" for the bootstrap)."""

    version: int
    payload: dict[str, Any] | None
    file: str


def save_best(run_path: Path, payload: dict[str, Any] | None, meta: dict[str, Any],
              version: int) -> str:
    """Write a best network as RUN/networks/vNNNN.pt (its meta: version, Elo, positions);
    returns its path relative to the run ("" for the bootstrap, which has no file)."""
    if payload is None:
        return ""
    from agents.alphago.nets.networks import network_from_payload, save_network

    name = f"networks/v{version:04d}.pt"
    save_network(run_path / name, network_from_payload(payload),
                 meta={**meta, "version": version})
    return name


def gate_and_promote(run_path: Path, backend: Backend, settings: GoActorSettings,
                     rule: GateRule, steps: int, positions: int, best: Best, ladder: Ladder,
                     gates: Gates, wall_s: float,
                     progress: Callable[[str], None] | None) -> bool:
    """The learner's candidate (after `steps` steps, `positions` positions played) against
    `best`; a row of gates.csv either way. On a win the candidate becomes `best` (updated in
    place): its file, its ladder row, its broadcast to the actors. Returns whether it won."""
    from agents.alphago.evaluators.playnet import play_evaluator

    _, payload = backend.learner_weights()
    seed = settings.seed + steps
    candidate = play_evaluator(payload, mix=settings.mix, seed=seed,
                               heavy=settings.heavy_playouts)
    incumbent = make_evaluator(settings, best.payload, seed + 1)
    try:
        result = gate_match(candidate, incumbent, settings, rule, seed=seed)
    finally:
        for evaluator in (candidate, incumbent):
            if hasattr(evaluator, "close"):
                evaluator.close()
    record = GateRecord.of(steps, result.games, result.wins, result.decision, wall_s)
    gates.add(record)
    promoted = result.decision == PROMOTE
    line = (f"gate: candidate (learner step {steps}) vs v{best.version}: "
            f"{result.wins:g}/{result.games} ({result.score:.0%}, {record.elo_gain:+.0f} Elo)")
    if promoted:
        version = ladder.best.version + 1
        row = LadderRow.promoted(ladder.best, games=result.games, wins=result.wins,
                                 positions=positions, learner_steps=steps, wall_s=wall_s,
                                 network=f"networks/v{version:04d}.pt")
        meta = {"elo": row.elo, "positions": positions, "learner_steps": steps,
                "run": run_path.name}
        best.file = save_best(run_path, payload, meta, version)
        best.version, best.payload = version, payload
        ladder.add(row)
        ladder.log_tensorboard(row)
        ladder.plot(run_path / "ladder.png")
        backend.broadcast(version, payload)
        line += f" -> promoted: v{version}, Elo {row.elo:+.0f}"
    else:
        line += " -> rejected"
    if progress is not None:
        progress(line)
    return promoted
