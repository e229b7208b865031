"""One query of KataGo's JSON analysis protocol, checked and turned into rlgo positions.

The fields are those of KataGo's docs/Analysis_Engine.md ("Queries"); KaTrain's
katrain/core/engine.py (KataGoEngine.request_analysis) sends id, rules, priority, analyzeTurns,
maxVisits, komi, boardXSize, boardYSize, includeOwnership, includeMovesOwnership,
includePolicy, initialStones, initialPlayer, moves, overrideSettings (reportAnalysisWinratesAs,
maxTime, wideRootNoise) and sometimes avoidMoves and reportDuringSearchEvery.

What rlgo cannot honestly answer is an error naming the field (`QueryError`), never a guess:
stone scoring (tax ALL), a tax under area scoring, a button (hasButton, aga-button), and
non-square boards. What it can answer approximately is a warning, as KataGo warns when its
net does not know a rule: situational superko is played as positional superko; territory
rules (japanese, korean, scoring TERRITORY) are played with their ko and suicide rules while
the search plays and scores by area, so scoreLead is the area margin, which in an even game
is the territory margin to within a point (each side's stones on the board differ by the
moves and captures that prisoners count: the classic area/territory equivalence; seki and
handicap stones shift it); and fields rlgo ignores (priority, rootPolicyTemperature,
includeMovesOwnership, ...) are named in one warning, the way KataGo's warnUnusedFields does.
The handicap bonus of the rules (whiteHandicapBonus N or N-1: Chinese and AGA give White a
point per handicap stone) is added to the komi the search scores with; the handicap is the
number of Black initial stones when White has none and there are at least two.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from envs.go import BLACK, DEFAULT_KOMI, WHITE, GoError, IllegalMove, Position, Rules
from envs.go.coords import from_gtp, from_rowcol

PERSPECTIVES = ("BLACK", "WHITE", "SIDETOMOVE")
# KataGo's rule shorthands rlgo plays, as (scoring, ko, suicide, whiteHandicapBonus)
RULES = {
    "tromp-taylor": ("AREA", "POSITIONAL", True, "0"),
    "chinese": ("AREA", "POSITIONAL", False, "N"),
    "chinese-ogs": ("AREA", "POSITIONAL", False, "N"),
    "chinese-kgs": ("AREA", "POSITIONAL", False, "N"),
    "aga": ("AREA", "SITUATIONAL", False, "N-1"),
    "bga": ("AREA", "SITUATIONAL", False, "N-1"),
    "french": ("AREA", "SITUATIONAL", False, "N-1"),
    "new-zealand": ("AREA", "SITUATIONAL", True, "0"),
    "nz": ("AREA", "SITUATIONAL", True, "0"),
    "japanese": ("TERRITORY", "SIMPLE", False, "0"),
    "jp": ("TERRITORY", "SIMPLE", False, "0"),
    "korean": ("TERRITORY", "SIMPLE", False, "0"),
    "ko": ("TERRITORY", "SIMPLE", False, "0"),
}
REFUSED_RULES = {"stone-scoring": "stone scoring (tax ALL)",
                 "aga-button": "button Go (hasButton)"}
TERRITORY_WARNING = ("territory rules: the search plays and scores by area; scoreLead is the "
                     "area margin (the territory margin to within a point in an even game)")
KNOWN = {"id", "moves", "initialStones", "initialPlayer", "rules", "komi", "whiteHandicapBonus",
         "boardXSize", "boardYSize", "analyzeTurns", "maxVisits", "includeOwnership",
         "includePolicy", "avoidMoves", "allowMoves", "overrideSettings",
         "reportDuringSearchEvery"}
# accepted and not acted on: named in the query's "unused fields" warning when given
IGNORED = {"priority", "priorities", "rootPolicyTemperature", "rootFpuReductionMax",
           "includeMovesOwnership", "includePVVisits"}
SETTINGS = {"reportAnalysisWinratesAs", "maxTime", "maxVisits"}
_XY = re.compile(r"^\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


class QueryError(GoError):
    """A query that cannot be answered: `field` names the query field at fault (or None)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class Query:
    """A checked analysis query. turns: (turn number, Position with the right side to move),
    in the order asked; root_rules: avoid/allow as (allow, {colour: set of points}) or None."""

    id: str
    size: int
    turns: list[tuple[int, Position]]
    max_visits: int | None = None
    max_time: float | None = None
    perspective: str | None = None
    include_ownership: bool = False
    include_policy: bool = False
    report_every: float | None = None
    root_rules: tuple[bool, dict[int, set[int]]] | None = None
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (message, field)


def _color(value: Any, name: str) -> int:
    if isinstance(value, str) and value.strip().upper() in ("B", "BLACK"):
        return BLACK
    if isinstance(value, str) and value.strip().upper() in ("W", "WHITE"):
        return WHITE
    raise QueryError(f"expected a player \"B\" or \"W\", got {value!r}", name)


def location(value: Any, size: int, name: str) -> int:
    """A GTP vertex ("D4", "pass") or KataGo's explicit "(x,y)" (x the column, y the row from
    the top) -> a flat index or PASS."""
    if not isinstance(value, str):
        raise QueryError(f"expected a location string, got {value!r}", name)
    match = _XY.match(value.strip())
    try:
        if match:
            return from_rowcol(int(match.group(2)), int(match.group(1)), size)
        return from_gtp(value, size)
    except GoError as err:
        raise QueryError(str(err), name) from None


def _stones(value: Any, size: int, name: str) -> list[tuple[int, int]]:
    if not isinstance(value, list):
        raise QueryError(f"expected a list of [player, location] pairs, got {value!r}", name)
    pairs = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 2):
            raise QueryError(f"expected a [player, location] pair, got {item!r}", name)
        pairs.append((_color(item[0], name), location(item[1], size, name)))
    return pairs


def _int(query: dict, name: str, low: int, high: int) -> int:
    value = query[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise QueryError(f"{name} must be an integer from {low} to {high}, got {value!r}", name)
    return value


def _number(value: Any, name: str) -> float:
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or value <= 0):
        raise QueryError(f"{name} must be a positive number, got {value!r}", name)
    return float(value)


def _bool(query: dict, name: str) -> bool:
    value = query.get(name, False)
    if not isinstance(value, bool):
        raise QueryError(f"{name} must be true or false, got {value!r}", name)
    return value


def parse_rules(value: Any, warnings: list[tuple[str, str]]) -> tuple[str, str, bool, str]:
    """KataGo's `rules` (a shorthand or a rules object) -> (rlgo scoring, ko rule, suicide,
    whiteHandicapBonus). QueryError("rules") for what rlgo cannot play."""
    if isinstance(value, str):
        key = value.strip().lower().replace("_", "-")
        if key in REFUSED_RULES:
            raise QueryError(f"rules {value!r}: {REFUSED_RULES[key]} is not supported", "rules")
        if key not in RULES:
            raise QueryError(f"unknown rules {value!r} (rlgo plays: {', '.join(RULES)})",
                             "rules")
        scoring, ko, suicide, bonus = RULES[key]
    elif isinstance(value, dict):
        scoring = str(value.get("scoring", "AREA")).upper()
        if scoring not in ("AREA", "TERRITORY"):
            raise QueryError(f"unknown scoring {value.get('scoring')!r}", "rules")
        tax = str(value.get("tax", "NONE")).upper()
        if tax == "ALL" or (scoring == "AREA" and tax != "NONE"):
            raise QueryError(f"tax {tax} is not supported with {scoring} scoring", "rules")
        if value.get("hasButton", False):
            raise QueryError("hasButton is not supported", "rules")
        ko = str(value.get("ko", "POSITIONAL")).upper()
        if ko not in ("SIMPLE", "POSITIONAL", "SITUATIONAL"):
            raise QueryError(f"unknown ko rule {value.get('ko')!r}", "rules")
        suicide = value.get("suicide", False)
        if not isinstance(suicide, bool):
            raise QueryError(f"suicide must be true or false, got {suicide!r}", "rules")
        bonus = str(value.get("whiteHandicapBonus", "0"))
    else:
        raise QueryError(f"rules must be a string or an object, got {value!r}", "rules")
    if ko == "SITUATIONAL":
        warnings.append(("situational superko is played as positional superko", "rules"))
        ko = "POSITIONAL"
    if scoring == "TERRITORY":
        warnings.append((TERRITORY_WARNING, "rules"))
    return scoring.lower(), ko.lower(), suicide, bonus


def _handicap_bonus(bonus: str, stones: list[tuple[int, int]]) -> int:
    if bonus not in ("0", "N", "N-1"):
        raise QueryError(f"whiteHandicapBonus must be 0, N or N-1, got {bonus!r}",
                         "whiteHandicapBonus")
    black = sum(1 for color, _ in stones if color == BLACK)
    handicap = black if black >= 2 and black == len(stones) else 0
    return {"0": 0, "N": handicap, "N-1": max(handicap - 1, 0)}[bonus]


def _root_rules(query: dict, size: int) -> tuple[bool, dict[int, set[int]]] | None:
    """avoidMoves/allowMoves clauses that bind the first move (untilDepth >= 1)."""
    for name, allow in (("avoidMoves", False), ("allowMoves", True)):
        if name not in query:
            continue
        clauses = query[name]
        if not isinstance(clauses, list) or (allow and len(clauses) != 1):
            raise QueryError(f"{name} must be a list of objects"
                             f"{' (exactly one)' if allow else ''}", name)
        banned: dict[int, set[int]] = {}
        for clause in clauses:
            if not isinstance(clause, dict) or not isinstance(clause.get("moves"), list):
                raise QueryError(f"each {name} entry needs player, moves and untilDepth", name)
            until = clause.get("untilDepth")
            if isinstance(until, bool) or not isinstance(until, int) or until < 1:
                raise QueryError(f"untilDepth must be a positive integer, got {until!r}", name)
            color = _color(clause.get("player"), name)
            banned.setdefault(color, set()).update(
                location(m, size, name) for m in clause["moves"])
        if "avoidMoves" in query and "allowMoves" in query:
            raise QueryError("avoidMoves and allowMoves cannot both be given", "allowMoves")
        return allow, banned
    return None


def parse_query(query: dict, default_perspective: str) -> Query:
    """Check an analysis query (a decoded JSON object) and build the positions it asks about.
    Raises QueryError naming the first bad field."""
    qid = query.get("id")
    if not isinstance(qid, str):
        raise QueryError("id must be a string", "id")
    for name in ("moves", "rules", "boardXSize", "boardYSize"):
        if name not in query:
            raise QueryError(f"{name} is required", name)
    size = _int(query, "boardXSize", 2, 25)
    if _int(query, "boardYSize", 2, 25) != size:
        raise QueryError("non-square boards are not supported (boardYSize must equal "
                         "boardXSize)", "boardYSize")
    result = Query(id=qid, size=size, turns=[])
    scoring, ko, suicide, bonus = parse_rules(query["rules"], result.warnings)
    komi = query.get("komi", DEFAULT_KOMI)
    if (isinstance(komi, bool) or not isinstance(komi, int | float) or not math.isfinite(komi)
            or komi * 2 != int(komi * 2) or abs(komi) > 150):
        raise QueryError(f"komi must be an integer or half-integer in [-150, 150], got "
                         f"{komi!r}", "komi")
    stones = _stones(query.get("initialStones", []), size, "initialStones")
    bonus = str(query.get("whiteHandicapBonus", bonus))
    rules = Rules(size=size, komi=float(komi) + _handicap_bonus(bonus, stones), ko=ko,
                  suicide=suicide, scoring=scoring)
    moves = _stones(query["moves"], size, "moves")
    first = moves[0][0] if moves else BLACK
    if "initialPlayer" in query:
        first = _color(query["initialPlayer"], "initialPlayer")
    try:
        position = Position.new(rules).with_stones(
            black=[p for c, p in stones if c == BLACK],
            white=[p for c, p in stones if c == WHITE], to_play=first)
    except IllegalMove as err:
        raise QueryError(f"initialStones: {err}", "initialStones") from None
    turns_asked = query.get("analyzeTurns", [len(moves)])
    if not isinstance(turns_asked, list) or not all(
            isinstance(t, int) and not isinstance(t, bool) and 0 <= t <= len(moves)
            for t in turns_asked):
        raise QueryError(f"analyzeTurns must be a list of turn numbers from 0 to {len(moves)}",
                         "analyzeTurns")
    positions = [position]
    for i, (color, point) in enumerate(moves):
        if positions[-1].to_play != color:  # a move out of turn: that side moves next
            positions[-1] = positions[-1].with_stones(to_play=color)
        try:
            positions.append(positions[-1].play(point, color))
        except IllegalMove as err:
            raise QueryError(f"Illegal move {i}: {err}", "moves") from None
    result.turns = [(t, positions[t]) for t in turns_asked]
    if "maxVisits" in query:
        result.max_visits = _int(query, "maxVisits", 1, 10**9)
    result.include_ownership = _bool(query, "includeOwnership")
    result.include_policy = _bool(query, "includePolicy")
    if "reportDuringSearchEvery" in query:
        result.report_every = _number(query["reportDuringSearchEvery"], "reportDuringSearchEvery")
    result.root_rules = _root_rules(query, size)
    _settings(query.get("overrideSettings", {}), result, default_perspective)
    unused = sorted(k for k in query if k not in KNOWN | IGNORED)
    ignored = sorted(k for k in query if k in IGNORED and query[k])
    if unused or ignored:
        result.warnings.append((f"unused fields (rlgo does not act on them): "
                                f"{', '.join(unused + ignored)}", (unused + ignored)[0]))
    return result


def _settings(settings: Any, result: Query, default_perspective: str) -> None:
    """overrideSettings: reportAnalysisWinratesAs, maxTime and maxVisits are honoured."""
    if not isinstance(settings, dict):
        raise QueryError("overrideSettings must be an object", "overrideSettings")
    perspective = settings.get("reportAnalysisWinratesAs", default_perspective)
    if not isinstance(perspective, str) or perspective.upper() not in PERSPECTIVES:
        raise QueryError(f"reportAnalysisWinratesAs must be one of {', '.join(PERSPECTIVES)}",
                         "overrideSettings")
    result.perspective = perspective.upper()
    if "maxTime" in settings:
        result.max_time = _number(settings["maxTime"], "overrideSettings")
    if "maxVisits" in settings and result.max_visits is None:
        result.max_visits = _int(settings, "maxVisits", 1, 10**9)
    others = sorted(k for k in settings if k not in SETTINGS)
    if others:
        result.warnings.append((f"overrideSettings rlgo ignores: {', '.join(others)}",
                                "overrideSettings"))
