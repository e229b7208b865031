"""`rlgo go play`: play Go against the engine in a pygame window.

    rlgo go play                                  # 9x9, you are Black, 2 s a move
    rlgo go play --size 19 --color white --time 5
    rlgo go play --handicap 4 --komi 0.5
    rlgo go play --engine "gnugo --mode gtp"      # any GTP engine as the opponent
    rlgo go play --load runs/games/20240101-120000.sgf

Games are saved (s) to --games-dir (runs/games/ by default) and l loads the latest one there.
Without a display (no DISPLAY, no video device) it raises DisplayUnavailable, a UserError:
one line and exit status 2 (rlgo.cli.main).
`register(go_subparsers)` adds the command to the rlgo CLI.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from agents.alphago.search.mcts import with_memory
from agents.alphago.search.player import Player, SearchLimits
from envs.go import DEFAULT_KOMI, GoError, parse_color

from ..config import ConfigError
from ..players import DEFAULT_KIND, build_player, player_kinds, search_config
from . import positive_float
from .gtp import add_network_arguments, add_threads_option, network_options

HELP = "play Go against the engine in a window (pygame)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=int, default=9, help="board size (default 9)")
    parser.add_argument("--color", default="black", choices=("black", "white", "b", "w"),
                        help="the colour you play (default black)")
    parser.add_argument("--komi", type=float, default=None,
                        help=f"komi (default {DEFAULT_KOMI:g}; 0.5 in handicap games)")
    parser.add_argument("--ko", choices=("positional", "simple"), default="positional",
                        help="ko rule: positional superko (default) or simple ko")
    parser.add_argument("--handicap", type=int, default=0, metavar="N",
                        help="fixed handicap stones for Black (2-9; default none)")
    parser.add_argument("--time", type=positive_float, default=2.0, metavar="S",
                        help="the engine's seconds per move (default 2; t/T change it)")
    parser.add_argument("--engine", metavar="GTP_CMD", default=None,
                        help='an external GTP engine to play against, e.g. "gnugo --mode gtp"')
    parser.add_argument("--player", choices=player_kinds(), default=DEFAULT_KIND,
                        help="the built-in engine when no --engine is given (default "
                             f"{DEFAULT_KIND}: the networks when weights exist, else mcts)")
    add_network_arguments(parser)
    add_threads_option(parser)
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--load", metavar="FILE", default=None,
                        help="an SGF game to continue from its end")
    parser.add_argument("--games-dir", default="runs/games", metavar="DIR",
                        help="where s saves games and l finds them (default runs/games)")
    parser.add_argument("--ponder", action="store_true",
                        help="the engine thinks on your time from the start (o toggles it)")
    parser.add_argument("--territory", action="store_true",
                        help="show the search's territory estimate from the start (e toggles "
                             "it)")


def player_factory(args: argparse.Namespace) -> Callable[[int], Player] | None:
    """board size -> the built-in engine for it, so the window's New game can change the
    size; None for an --engine, which is told the size over GTP (boardsize)."""
    if args.engine:
        return None
    options = {}
    if args.player in ("mcts", "alphago", "zero"):
        options = {"threads": args.threads, "config": search_config(args.player)}
        if args.max_memory is not None:
            options["config"] = with_memory(options["config"], args.max_memory)
    elif args.max_memory is not None:
        raise ConfigError(f"--max-memory is a search setting; player {args.player!r} has none")
    if args.player in ("alphago", "zero"):
        options.update(network_options(args))
    return lambda size: build_player(args.player, size, seed=args.seed, **options)


def _player(args: argparse.Namespace, make_player: Callable[[int], Player] | None) -> Player:
    if make_player is not None:
        return make_player(args.size)
    from ..gui.external import ExternalGtpPlayer

    return ExternalGtpPlayer(args.engine)


def run(args: argparse.Namespace) -> int:
    """Open the window and play until it is closed."""
    from ..gui.app import App
    from ..gui.controller import GameController, GameSettings

    komi = args.komi if args.komi is not None else (0.5 if args.handicap else DEFAULT_KOMI)
    settings = GameSettings(size=args.size, human=parse_color(args.color), komi=komi,
                            handicap=args.handicap, ko=args.ko)
    settings.start()  # GoError now for an impossible size or handicap
    make_player = player_factory(args)
    game = GameController(_player(args, make_player), settings,
                          SearchLimits(seconds=args.time), games_dir=args.games_dir,
                          make_player=make_player)
    game.ponder_on, game.territory_on = args.ponder, args.territory
    try:
        if args.load and not game.load_sgf(args.load):
            raise GoError(game.message)
        app = App(game)
        try:
            app.run()
        finally:
            app.close()
    finally:
        game.close()
    return 0


def register(go_subparsers) -> argparse.ArgumentParser:
    """Add `play` to the `rlgo go` subcommands."""
    parser = go_subparsers.add_parser("play", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser
