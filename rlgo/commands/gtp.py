"""`rlgo go gtp`: run rlgo as a GTP v2 engine on stdin/stdout, for GUIs and servers.

    rlgo go gtp --size 9 --time 5            # AlphaGo's engine (networks) where weights
                                             # exist for the size, else network-free MCTS
    rlgo go gtp --weights policy.pt --value-weights value.pt --rollout-weights rollout.npz
    rlgo go gtp --player mcts                # always the network-free engine
    rlgo go gtp --ponder                     # also think while the opponent thinks
    rlgo go gtp --rules japanese --komi 6.5  # final_score counts territory and prisoners
    sabaki / gogui / lizzie: add the engine as   rlgo go gtp [options]

Only GTP responses go to stdout; diagnostics go to stderr (--quiet silences them). The
defaults (--size, --komi, --rules, --ko) apply until the controller sends boardsize/komi or
kgs-rules/kata-set-rules. Per move the
player gets --visits or --time; once the controller sends time_settings or time_left, the
clock decides the seconds (capped by --time when given). `register(go_subparsers)` adds the
command to the rlgo CLI.
"""

from __future__ import annotations

import argparse
import functools
import sys

from agents.alphago.search.mcts import MCTSConfig, tree_megabytes, with_memory
from agents.alphago.search.player import SearchLimits
from envs.go import Rules
from envs.go.rules import RULE_SETS, rule_set

from ..config import ConfigError
from ..players import DEFAULT_KIND, build_player, player_kinds, search_config
from ..warmup import ready_player
from . import add_device_option, add_komi_option, network_device, positive_float, positive_int

DEFAULT_SECONDS = 2.0  # per move, when neither --visits, --time nor a GTP clock says otherwise
HELP = "run a GTP engine on stdin/stdout (for Sabaki, GoGui, Lizzie, KGS, match arenas)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The gtp options."""
    parser.add_argument("--size", type=int, default=9, help="initial board size (default 9)")
    add_komi_option(parser, "initial komi")
    add_rules_options(parser)
    parser.add_argument("--player", choices=player_kinds(), default=DEFAULT_KIND,
                        help=f"which player chooses the moves (default {DEFAULT_KIND}: the "
                             "networks when weights exist for the board size, else mcts)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--visits", type=positive_int, default=None, metavar="N",
                        help="search visits per move")
    budget.add_argument("--time", type=positive_float, default=None, metavar="S",
                        help="seconds per move (also the cap when a clock is running)")
    add_threads_option(parser)
    add_network_arguments(parser)
    parser.add_argument("--config", metavar="FILE",
                        help="YAML file of the MCTS settings to change from the player's "
                             "preset (agents/alphago/search/presets.py)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="change an MCTS setting (repeatable, after "
                                                  "--config)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--name", default="rlgo", help="the name the engine reports")
    parser.add_argument("--quiet", action="store_true", help="no diagnostics on stderr")
    parser.add_argument("--ponder", action="store_true",
                        help="think on the opponent's time: search in the background after "
                             "each move until the next command arrives")


def add_rules_options(parser: argparse.ArgumentParser) -> None:
    """--rules and --ko: the rule set (scoring, ko, suicide) and a ko rule that overrides it."""
    parser.add_argument("--rules", choices=tuple(RULE_SETS), default="chinese",
                        help="rule set (default chinese: area scoring, positional superko, no "
                             "suicide; japanese/korean: territory scoring, simple ko; "
                             "new-zealand/tromp-taylor: suicide allowed). The search always "
                             "plays area scoring; final_score counts by the rule set")
    parser.add_argument("--ko", choices=("positional", "simple"), default=None,
                        help="ko rule: positional superko or simple ko (default: the rule "
                             "set's)")


def rules_from_args(args: argparse.Namespace, komi: float) -> Rules:
    """The Rules that --size, --rules and --ko name, with `komi`."""
    scoring, ko, suicide = rule_set(args.rules)
    return Rules(size=args.size, komi=komi, ko=args.ko or ko, suicide=suicide, scoring=scoring)


def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    """The alphago player's weight options (shared with `rlgo go play`)."""
    parser.add_argument("--weights", metavar="FILE", default=None,
                        help="policy network (default: the shipped one for the board size)")
    parser.add_argument("--value-weights", metavar="FILE", default=None,
                        help="value network (default: the shipped one for the board size, "
                             "where one ships: none does yet, so the values come from "
                             "rollouts alone; 'none': rollouts alone)")
    parser.add_argument("--rollout-weights", metavar="FILE", default=None,
                        help="rollouts with this trained rollout policy (.npz) instead of the "
                             "heavy playouts")
    parser.add_argument("--linear-rollouts", action="store_true",
                        help="rollouts with the shipped trained rollout policy (weaker than "
                             "the heavy playouts in search, measured)")
    parser.add_argument("--lambda", dest="mix", type=float, default=0.5, metavar="L",
                        help="with a value network: the alphago player counts its estimates "
                             "as prior visits (the search setting value_visits, 16), or with "
                             "--set value_visits=0 mixes them, V = (1-L) value net + L rollout "
                             "(default 0.5); L = 1 leaves the value net out; without one the "
                             "values are rollouts alone (L = 1)")
    add_device_option(parser, "where the networks run (default cpu)", default="cpu")


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    """--threads: the CPU cores the built-in engine computes on (rollouts and networks), and
    --max-memory: the most its search tree may take."""
    parser.add_argument("--threads", type=positive_int, default=None, metavar="N",
                        help="CPU cores the built-in engine computes on: its rollouts and "
                             "networks (default: all)")
    parser.add_argument("--max-memory", type=positive_float, default=None, metavar="MB",
                        help=f"the most memory the search tree may take (default "
                             f"{tree_megabytes(MCTSConfig()):.0f} MB); a full tree stops "
                             f"growing and the search goes on, with one line on stderr")


def engine_config(args: argparse.Namespace) -> MCTSConfig:
    """The player's search settings: its preset, --config, --set, then --max-memory."""
    config = search_config(args.player, args.config, args.overrides)
    return config if args.max_memory is None else with_memory(config, args.max_memory)


def network_options(args: argparse.Namespace) -> dict:
    """The alphago player's options from parsed arguments."""
    device = network_device(args)
    return {"weights": args.weights, "value_weights": args.value_weights,
            "rollout_weights": args.rollout_weights, "linear_rollouts": args.linear_rollouts,
            "mix": args.mix, "device": device}


def run(args: argparse.Namespace) -> int:
    """Serve GTP on stdin/stdout until quit or EOF."""
    from ..gtp import GtpEngine

    rules = rules_from_args(args, args.komi)
    options = {}
    if args.player in ("mcts", "alphago", "zero"):
        options = {"config": engine_config(args), "threads": args.threads,
                   "log": None if args.quiet else functools.partial(print, file=sys.stderr,
                                                                    flush=True)}
    elif args.config or args.overrides or args.max_memory:
        raise ConfigError(f"--config/--set/--max-memory are MCTS settings; player "
                          f"{args.player!r} has none")
    if args.player in ("alphago", "zero"):
        options.update(network_options(args))
    factory = functools.partial(build_player, args.player, seed=args.seed, **options)
    if args.player in ("mcts", "alphago", "zero"):  # searches: ready before the first genmove
        factory = functools.partial(ready_player, factory)
    seconds = args.time if args.time or args.visits else DEFAULT_SECONDS
    # the engine builds its first player now: a player that cannot be built fails here, before
    # the controller talks to us
    engine = GtpEngine(player_factory=factory, rules=rules,
                       limits=SearchLimits(visits=args.visits, seconds=seconds),
                       name=args.name, log=None if args.quiet else sys.stderr,
                       ponder=args.ponder)
    return engine.run(sys.stdin, sys.stdout)


def register(go_subparsers) -> argparse.ArgumentParser:
    """Add `gtp` to the `rlgo go` subcommands."""
    parser = go_subparsers.add_parser("gtp", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser
