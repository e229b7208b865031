"""`rlgo go analysis`: KataGo's JSON analysis protocol on stdin/stdout, for review scripts and
tools built on KataGo's analysis engine.

    rlgo go analysis --player mcts --visits 200
    echo '{"id":"a","moves":[["B","E5"]],"rules":"chinese","komi":7.5,"boardXSize":9,
           "boardYSize":9,"includePolicy":true}' | rlgo go analysis --visits 50

One JSON query a line in, one JSON answer a line out per analysed turn; what is answered and what
is not is in rlgo/analysis_engine.py and rlgo/analysis_query.py. --visits/--time are the
defaults a query's maxVisits / overrideSettings.maxTime replace (KataGo's config maxVisits is
500, and so is ours). Diagnostics go to stderr (--quiet silences them). The player is built per
board size the first time a query asks for it. `register(go_subparsers)` adds the command.
"""

from __future__ import annotations

import argparse
import functools
import io
import sys

from ..analysis_engine import AnalysisEngine
from ..analysis_query import PERSPECTIVES
from ..players import DEFAULT_KIND, build_player
from . import positive_float, positive_int
from .gtp import add_network_arguments, add_threads_option, engine_config, network_options

HELP = "answer KataGo's JSON analysis queries on stdin/stdout (for KaTrain-style tools)"
KINDS = ("alphago", "mcts", "zero")  # players with a search to report (random has none)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The analysis options (the GTP engine's player options, and the reporting side)."""
    parser.add_argument("--player", choices=KINDS, default=DEFAULT_KIND,
                        help="which search analyses (default alphago: the networks when "
                             "weights exist for the board size, else mcts)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--visits", type=positive_int, default=None, metavar="N",
                        help="visits per analysed turn unless the query says maxVisits "
                             "(default 500)")
    budget.add_argument("--time", type=positive_float, default=None, metavar="S",
                        help="seconds per analysed turn unless the query says maxTime")
    parser.add_argument("--report-as", choices=PERSPECTIVES, default="BLACK",
                        help="whose win rate, score and ownership are reported, unless a "
                             "query's overrideSettings.reportAnalysisWinratesAs says (default "
                             "BLACK, as KataGo's analysis_example.cfg)")
    add_threads_option(parser)
    add_network_arguments(parser)
    parser.add_argument("--config", metavar="FILE",
                        help="YAML file of the MCTS settings to change from the player's preset")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="change an MCTS setting (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no diagnostics on stderr")


def run(args: argparse.Namespace) -> int:
    """Serve analysis queries until end of input."""
    options = {"config": engine_config(args), "threads": args.threads,
               "log": None if args.quiet else functools.partial(print, file=sys.stderr,
                                                                flush=True)}
    if args.player in ("alphago", "zero"):
        options.update(network_options(args))

    def factory(size: int):
        return build_player(args.player, size, seed=args.seed, **options)

    engine = AnalysisEngine(factory, visits=args.visits, seconds=args.time,
                            perspective=args.report_as)
    # bytes that are not UTF-8 become a JSON error line, not a decoding traceback
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    return engine.run(stdin, sys.stdout)


def register(go_subparsers) -> argparse.ArgumentParser:
    """Add `analysis` to the `rlgo go` subcommands."""
    parser = go_subparsers.add_parser("analysis", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser
