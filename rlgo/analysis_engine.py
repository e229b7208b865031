"""KataGo's JSON analysis protocol over rlgo's search: `rlgo go analysis`.

Queries arrive one JSON object a line on stdin; every answer is one JSON object a line on stdout
(KataGo's docs/Analysis_Engine.md; the query fields are checked in analysis_query.py). Per turn
asked (analyzeTurns) one answer:

    {"id": "foo", "isDuringSearch": false, "turnNumber": 2, "moveInfos": [{"move": "D4",
     "visits": 40, "winrate": 0.61, "prior": 0.08, "lcb": 0.55, "order": 0, "pv": ["D4", ...],
     "scoreLead": 3.1, "scoreMean": 3.1}, ...], "rootInfo": {"winrate": 0.6, "scoreLead": 3.0,
     "visits": 64, "currentPlayer": "B"}, "ownership": [...], "policy": [...]}

Values are for the side `reportAnalysisWinratesAs` names (BLACK unless the command line or the
query's overrideSettings says otherwise, as KataGo's analysis_example.cfg ships; KaTrain forces
BLACK): winrate, lcb (that side's win rate minus the search's half-width), scoreLead and
ownership (+1: that side owns the point). ownership and policy are row-major from the top-left
(A19 on 19x19), policy with pass last and -1 on illegal points, as the doc says. The root's
visits and win rate are those of its moves (the sum; the visit-weighted mean).

What is and is not there:
- scoreLead/scoreMean only when the player's search gives MoveInfo.score_lead; ownership only
  when `MCTS.ownership()` gives one (else a warning naming includeOwnership). KaTrain reads
  scoreLead from every move, so it needs a player with a score estimate.
- policy is the root's priors: the policy net's where the player has one, else the rollout
  evaluator's heuristic priors. No scoreStdev, utility, pvVisits, per-move ownership,
  thisHash/symHash.
- avoidMoves/allowMoves bind the root only (the candidates shown); deeper plies are not
  restricted, and the search still spends visits on avoided moves.
- Queries run one at a time, in the order they came; priority is ignored. Each turn is a fresh
  search (the tree is cleared first), so maxVisits counts that search's visits.
- terminate and terminate_all stop a running search (its answer reports what it has) and drop
  queued turns (answered with noResults, as the doc describes); query_version and clear_cache
  answer by echoing the query, with version/git_hash added to the first.
Errors are lines, never tracebacks: {"error": ..., "field": ..., "id": ...}; warnings
{"warning": ..., "field": ..., "id": ...}; the engine keeps reading. At end of input the queued
queries are finished, then it exits.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from agents.alphago.search.player import MoveInfo, SearchLimits
from envs.go import BLACK, PASS, WHITE, Position, to_gtp
from envs.go.errors import UserError
from envs.go.scoring import final_score

from . import __version__
from .analysis_query import Query, QueryError, parse_query

DEFAULT_VISITS = 500  # KataGo's analysis_example.cfg: maxVisits = 500
PlayerFactory = Callable[[int], Any]  # board size -> a player whose `.mcts` searches


@dataclass
class _Job:
    """One turn of one query, waiting for or in its search."""

    query: Query
    turn: int
    position: Position
    warn_ownership: bool
    stop: threading.Event = field(default_factory=threading.Event)


class AnalysisEngine:
    """Reads queries, answers them one turn at a time in a worker thread (so terminate can stop
    a running search), writes one JSON object a line."""

    def __init__(self, player_factory: PlayerFactory, visits: int | None = None,
                 seconds: float | None = None, perspective: str = "BLACK"):
        self._factory = player_factory
        self._players: dict[int, Any] = {}
        self._visits = visits if visits or seconds else DEFAULT_VISITS
        self._seconds = seconds
        self._perspective = perspective
        self._out: TextIO | None = None
        self._write_lock = threading.Lock()
        self._jobs: queue.Queue[_Job | Callable[[], None] | None] = queue.Queue()
        self._pending: list[_Job] = []  # queued or running, for terminate
        self._pending_lock = threading.Lock()

    # ---- the loop -----------------------------------------------------------------------------

    def run(self, stdin: TextIO, stdout: TextIO) -> int:
        """Serve until end of input, then finish what is queued. Returns 0."""
        self._out = stdout
        worker = threading.Thread(target=self._work, name="rlgo-analysis", daemon=True)
        worker.start()
        while line := stdin.readline():
            if line.strip():
                self.handle(line)
        self._jobs.put(None)
        worker.join()
        return 0

    def handle(self, line: str) -> None:
        """One input line: an action, an analysis query (queued), or an error answer."""
        try:
            data = json.loads(line)
        except ValueError as err:
            self._write({"error": f"could not parse JSON: {err}"})
            return
        if not isinstance(data, dict):
            self._write({"error": "a query must be a JSON object"})
            return
        try:
            if "action" in data:
                self._action(data)
            else:
                self._enqueue(data)
        except QueryError as err:
            answer = {"error": str(err), "field": err.field}
            if isinstance(data.get("id"), str):
                answer["id"] = data["id"]
            self._write({k: v for k, v in answer.items() if v is not None})
        except UserError as err:  # e.g. a player that cannot be built for the size
            self._write({"error": str(err), "id": data.get("id")})

    def _action(self, data: dict) -> None:
        action, qid = data["action"], data.get("id")
        if not isinstance(qid, str):
            raise QueryError("id must be a string", "id")
        if action == "query_version":
            self._write({**data, "version": __version__, "git_hash": "<omitted>"})
        elif action == "clear_cache":  # after the queries before it, as their searches end
            self._jobs.put(lambda: (self._clear_players(), self._write(data)))
        elif action in ("terminate", "terminate_all"):
            target = data.get("terminateId")
            if action == "terminate" and not isinstance(target, str):
                raise QueryError("terminateId must be a string", "terminateId")
            turns = data.get("turnNumbers")
            if turns is not None and not (isinstance(turns, list) and all(
                    isinstance(t, int) and not isinstance(t, bool) for t in turns)):
                raise QueryError("turnNumbers must be a list of integers", "turnNumbers")
            with self._pending_lock:
                for job in self._pending:
                    if ((action == "terminate_all" or job.query.id == target)
                            and (turns is None or job.turn in turns)):
                        job.stop.set()
            self._write(data)
        else:
            raise QueryError(f"unknown action {action!r} (query_version, clear_cache, "
                             "terminate, terminate_all)", "action")

    def _enqueue(self, data: dict) -> None:
        query = parse_query(data, self._perspective)
        self._player(query.size)  # built now: a player that cannot be is this query's error
        for message, name in query.warnings:
            self._write({"warning": message, "field": name, "id": query.id})
        jobs = [_Job(query, turn, position, warn_ownership=(i == 0))
                for i, (turn, position) in enumerate(query.turns)]
        with self._pending_lock:
            self._pending.extend(jobs)
        for job in jobs:
            self._jobs.put(job)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            if not isinstance(job, _Job):
                job()
                continue
            try:
                self._answer(job)
            except Exception as err:  # a bug must not end the engine: the client gets a line
                self._write({"error": f"internal error: {type(err).__name__}: {err}",
                             "id": job.query.id, "turnNumber": job.turn})
            finally:
                with self._pending_lock:
                    self._pending.remove(job)

    # ---- answers ------------------------------------------------------------------------------

    def _answer(self, job: _Job) -> None:
        query = job.query
        if job.stop.is_set():
            self._write(_no_results(job))
            return
        player = self._player(query.size)
        player.clear()  # a fresh search: maxVisits counts this search's visits
        limits = SearchLimits(visits=query.max_visits or self._visits,
                              seconds=query.max_time or self._seconds)
        report = None
        if query.report_every is not None:
            def report(infos: list[MoveInfo]) -> None:
                self._write(self._result(job, player, infos, during=True))
        infos = player.mcts.search(job.position, limits, stop=job.stop, report=report,
                                   report_every=query.report_every or 1.0)
        if not infos and job.stop.is_set():
            self._write(_no_results(job))
            return
        if query.include_ownership and job.warn_ownership and _ownership(player) is None:
            self._write({"warning": "this player's search gives no ownership",
                         "field": "includeOwnership", "id": query.id})
        self._write(self._result(job, player, infos, during=False))

    def _result(self, job: _Job, player: Any, infos: list[MoveInfo], during: bool) -> dict:
        query, position = job.query, job.position
        mover, size = position.to_play, position.size
        side = {"BLACK": BLACK, "WHITE": WHITE}.get(query.perspective or "", mover)
        flip = side != mover
        if query.root_rules is not None:
            allow, points = query.root_rules
            banned = points.get(mover)
            if banned is not None:
                infos = [i for i in infos if (i.move in banned) == allow]
        moves = [_move_info(info, order, size, flip) for order, info in enumerate(infos)]
        visits = sum(info.visits for info in infos)
        root: dict[str, Any] = {"visits": visits, "currentPlayer": "B" if mover == BLACK else "W"}
        if visits:
            root["winrate"] = sum(m["winrate"] * m["visits"] for m in moves) / visits
            if all("scoreLead" in m for m in moves):
                root["scoreLead"] = sum(m["scoreLead"] * m["visits"] for m in moves) / visits
        elif position.is_game_over():  # nothing to search: the rules' count decides
            score = final_score(position) * (1 if side == BLACK else -1)
            root.update(winrate=float(score > 0) if score else 0.5, scoreLead=score)
        answer: dict[str, Any] = {"id": query.id, "isDuringSearch": during,
                                  "turnNumber": job.turn, "moveInfos": moves, "rootInfo": root}
        if query.include_ownership:
            owned = _ownership(player)
            if owned is not None:
                sign = 1.0 if side == BLACK else -1.0
                answer["ownership"] = [round(sign * float(v), 6) for v in owned]
        if query.include_policy:
            answer["policy"] = _policy(player, position)
        return answer

    # ---- helpers ------------------------------------------------------------------------------

    def _player(self, size: int) -> Any:
        if size not in self._players:
            self._players[size] = self._factory(size)
        return self._players[size]

    def _clear_players(self) -> None:
        for player in self._players.values():
            player.clear()

    def _write(self, obj: dict) -> None:
        line = json.dumps(obj, separators=(",", ":"), allow_nan=False)
        with self._write_lock:
            assert self._out is not None
            self._out.write(line + "\n")
            self._out.flush()


def _no_results(job: _Job) -> dict:
    """KataGo's answer for a turn terminated before it was searched."""
    return {"id": job.query.id, "isDuringSearch": False, "noResults": True,
            "turnNumber": job.turn}


def _move_info(info: MoveInfo, order: int, size: int, flip: bool) -> dict:
    """One moveInfos entry; win rates and score for the reported side."""
    winrate = 1.0 - info.winrate if flip else info.winrate
    half_width = info.winrate - info.lcb
    entry: dict[str, Any] = {"move": to_gtp(info.move, size), "visits": info.visits,
                             "winrate": winrate, "prior": info.prior,
                             "lcb": max(0.0, winrate - half_width), "order": order,
                             "pv": [to_gtp(m, size) for m in info.pv]}
    score = getattr(info, "score_lead", None)  # MoveInfo gains score_lead with score heads
    if score is not None:
        entry["scoreLead"] = entry["scoreMean"] = -score if flip else score
    return entry


def _ownership(player: Any) -> np.ndarray | None:
    """float [n], +1 where Black owns, from the search; None where it gives none."""
    method = getattr(player.mcts, "ownership", None)
    return method() if callable(method) else None


def _policy(player: Any, position: Position) -> list[float]:
    """The root's priors: [n + 1], row-major from the top-left, pass last, -1 where illegal."""
    n = position.size ** 2
    policy = np.full(n + 1, -1.0)
    tree, root = player.mcts.tree, player.mcts.root
    if root >= 0:
        edges = tree.edges(root)
        for move, prior in zip(tree.move[edges], tree.P[edges], strict=True):
            policy[n if move == PASS else int(move)] = float(prior)
    return [round(float(p), 6) for p in policy]
