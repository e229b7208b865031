"""KataGo's `kata-analyze` (docs/GTP_Extensions.md), and the search's ownership for GoGui.

    kata-analyze [COLOR] [INTERVAL] [ownership true|false] [ownershipStdev true|false]
                 [maxmoves N] [Leela Zero's interval/minmoves/avoid/allow, as lz-analyze]

It runs as lz-analyze does (analysis.Analysis: '=' at once, one line per interval, stopped by
any input) with KataGo's line instead:

    info move D4 visits 120 winrate 0.5312 scoreMean 1.8 scoreLead 1.8 prior 0.1840
    lcb 0.5120 order 0 pv D4 Q16 info move ... ownership 0.93 0.88 ... ownershipStdev ...

(one line). winrate, prior and lcb are floats in [0, 1] for the side analysed; scoreMean and
scoreLead (the same number, as KataGo documents them) that side's expected area margin in
points after the move, present when the search has a score (MoveInfo.score_lead). After
`ownership` come size*size floats in [-1, 1], the search's expected final owner of every
point for the side analysed (+1 its), "row-major order, starting at the top-left of the board
(e.g. A19) and going to the bottom right (e.g. T1)": rlgo's own point order. ownershipStdev
is the leaves' spread around it. Neither appears for a player whose search gives no ownership.
KataGo's other fields (utility, scoreStdev, scoreSelfplay) have no counterpart and are left
out; its docs ask consumers to expect fields to come and go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agents.alphago.search.player import MoveInfo, Player, TreeSearch
from envs.go import BLACK, Position, to_gtp

from . import analysis
from .protocol import GtpFailure, to_int

BOOLEANS = {"true": True, "false": False}
OWNERSHIP_KEYS = {"ownership": "ownership", "ownershipstdev": "stdev"}


@dataclass(frozen=True)
class KataArgs:
    base: analysis.AnalyzeArgs
    ownership: bool = False
    stdev: bool = False
    maxmoves: int | None = None


def parse_args(args: tuple[str, ...], to_play: int, size: int) -> KataArgs:
    """kata-analyze's arguments: its own key-value pairs taken out, the rest as lz-analyze's."""
    rest, flags, maxmoves = [], {"ownership": False, "stdev": False}, None
    words = list(args)
    while words:
        word = words.pop(0)
        key = word.lower()
        if key in OWNERSHIP_KEYS or key == "maxmoves":
            if not words:
                raise GtpFailure(f"{word[:40]} needs a value")
            value = words.pop(0)
            if key == "maxmoves":
                maxmoves = to_int(value, "maxmoves not an integer", 0, analysis.MAX_COUNT,
                                  f"maxmoves out of range (0 to {analysis.MAX_COUNT})")
            elif value.lower() in BOOLEANS:
                flags[OWNERSHIP_KEYS[key]] = BOOLEANS[value.lower()]
            else:
                raise GtpFailure(f"{word[:40]} must be true or false")
        else:
            rest.append(word)
    base = analysis.parse_args(tuple(rest), to_play, size)
    return KataArgs(base, flags["ownership"], flags["stdev"], maxmoves or None)


def search_ownership(player: Player) -> tuple[np.ndarray, np.ndarray] | None:
    """(ownership, stdev), float32 [n] each in Black's view and around it, from the player's
    search (MCTS.ownership), or None: no search, or one whose evaluator gives none. Read from
    inside the search's report callback, so the search is between rounds."""
    mcts = getattr(player, "mcts", None)
    if not isinstance(mcts, TreeSearch):
        return None
    own = mcts.ownership()
    return None if own is None else (own, mcts.ownership_stdev())


def _floats(values: np.ndarray) -> str:
    return " ".join(f"{v:.4f}" for v in np.clip(values, -1.0, 1.0).tolist())


def kata_line(candidates: list[MoveInfo], size: int, to_play: int,
              owned: tuple[np.ndarray, np.ndarray] | None = None, ownership: bool = False,
              stdev: bool = False) -> str:
    """One kata-analyze report (module docstring); '' without candidates. `owned` is
    search_ownership()'s answer, shown for `to_play` when `ownership` / `stdev` ask for it."""
    rate = analysis.fraction
    parts = []
    for order, info in enumerate(candidates):
        score = "" if info.score_lead is None else \
            f"scoreMean {info.score_lead:.2f} scoreLead {info.score_lead:.2f} "
        pv = info.pv or (info.move,)
        parts.append(f"info move {to_gtp(info.move, size)} visits {int(info.visits)} "
                     f"winrate {rate(info.winrate)} {score}prior {rate(info.prior)} "
                     f"lcb {rate(info.lcb)} order {order} pv "
                     + " ".join(to_gtp(m, size) for m in pv))
    if not parts:
        return ""
    if owned is not None:
        own, spread = owned
        if ownership:
            parts.append("ownership " + _floats(own if to_play == BLACK else -own))
        if stdev:
            parts.append("ownershipStdev " + _floats(spread))
    return " ".join(parts)


def kata_format(player: Player, position: Position,
                args: KataArgs) -> Callable[[list[MoveInfo]], str]:
    """analysis.Analysis's `line` for kata-analyze: the shown candidates (cut to maxmoves)
    and the search's ownership at the moment of the report."""
    def line(candidates: list[MoveInfo]) -> str:
        shown = candidates[:args.maxmoves] if args.maxmoves else candidates
        owned = search_ownership(player) if args.ownership or args.stdev else None
        return kata_line(shown, position.rules.size, position.to_play, owned, args.ownership,
                         args.stdev)
    return line


def influence(owned: np.ndarray, size: int) -> str:
    """GoGui's gfx INFLUENCE line (analyze.xml: "point double pairs", + black, - white) for
    ownership float32 [n] in Black's view."""
    pairs = (f"{to_gtp(p, size)} {v:.2f}" for p, v in enumerate(owned.tolist()))
    return "INFLUENCE " + " ".join(pairs)
