"""`rlgo go match`: a match between two GTP engines in the arena, with a summary table.

    rlgo go match --engine-a "gnugo --mode gtp --level 1" \
        --engine-b "gnugo --mode gtp --level 5" \
        --games 20 --size 9 --komi 7 --time 1 --sgf-dir runs/match --referee gnugo

Engine A plays Black in the first game and the engines swap colours every game unless
--no-alternate; results are counted per engine. --black/--white are the older names of
--engine-a/--engine-b (still accepted). One line per finished game goes to stderr, the summary to
stdout. A match too long for one sitting continues with --resume and the same --sgf-dir.
`register(go_subparsers)` adds the command to the rlgo CLI.
An engine that cannot start or a bad option is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import shlex

from envs.go.gnugo import find_gnugo
from selfplay.go.arena import MatchConfig, MatchError, format_result, run_match

from . import add_komi_option, positive_float, positive_int, print_progress

HELP = "play a match between two GTP engines (alternating colours) and print win rate and Elo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The match options."""
    # the colours alternate, so the engines are A and B; --black/--white are the old names
    parser.add_argument("--engine-a", "--black", dest="black", required=True, metavar="CMD",
                        help="engine A's command line (Black in odd-numbered games)")
    parser.add_argument("--engine-b", "--white", dest="white", required=True, metavar="CMD",
                        help="engine B's command line (White in odd-numbered games)")
    parser.add_argument("--games", type=positive_int, default=10, metavar="N",
                        help="games to play (default 10)")
    parser.add_argument("--size", type=int, default=9, help="board size (default 9)")
    add_komi_option(parser)
    parser.add_argument("--ko", choices=("simple", "positional"), default="simple",
                        help="ko rule the arena enforces (default simple: GNU Go knows no "
                             "superko)")
    parser.add_argument("--time", type=positive_float, default=1.0, metavar="S",
                        help="seconds per move, sent as time_settings 0 S 1 (default 1)")
    parser.add_argument("--move-timeout", type=positive_float, default=None, metavar="S",
                        help="seconds before a silent engine forfeits (default 3*time + 10)")
    parser.add_argument("--max-moves", type=positive_int, default=None, metavar="N",
                        help="adjudicate by score after N moves (default 3*size*size)")
    parser.add_argument("--sgf-dir", default=None, metavar="DIR",
                        help="save every game as DIR/game-NNN.sgf, and the match so far as "
                             "DIR/match.json")
    parser.add_argument("--resume", action="store_true",
                        help="continue the match saved in --sgf-dir (same settings; --games may "
                             "grow): its games count, the rest are played")
    parser.add_argument("--referee", default=None, metavar="CMD",
                        help="GTP engine whose final_score decides finished games; 'gnugo' "
                             "means GNU Go with Chinese rules (default: Tromp-Taylor area "
                             "count, which treats every stone left on the board as alive)")
    parser.add_argument("--seed", type=int, default=None,
                        help="send set_random_seed SEED+game to engines that support it")
    parser.add_argument("--no-alternate", dest="alternate", action="store_false",
                        help="engine A plays Black in every game")
    parser.add_argument("--quiet", action="store_true", help="no per-game lines on stderr")


def config_from_args(args: argparse.Namespace) -> MatchConfig:
    """A MatchConfig from parsed options; raises MatchError (a GoError) for bad values."""
    referee = args.referee
    if referee is not None and referee.strip().lower() == "gnugo":
        path = find_gnugo()
        if path is None:
            raise MatchError("--referee gnugo: GNU Go is not installed (apt-get install gnugo)")
        referee = f"{path} --mode gtp --chinese-rules"
    elif referee is not None and _territory_gnugo(referee):
        # GNU Go's default rules count territory and prisoners, not the area the arena's
        # games are played for (docs/results/alphago-9x9.md: the games it miscounted)
        raise MatchError(f"--referee {referee!r}: GNU Go counts by territory unless given "
                         f"--chinese-rules, and the games are scored by area: add "
                         f"--chinese-rules, or use --referee gnugo")
    return MatchConfig(black=args.black, white=args.white, games=args.games, size=args.size,
                       komi=args.komi, ko=args.ko, time_per_move=args.time,
                       move_timeout=args.move_timeout, sgf_dir=args.sgf_dir, referee=referee,
                       alternate=args.alternate, max_moves=args.max_moves, seed=args.seed,
                       resume=args.resume)


def _territory_gnugo(command: str) -> bool:
    """Whether `command` runs GNU Go without --chinese-rules."""
    try:
        words = shlex.split(command)
    except ValueError:
        return False  # not a command line the arena can start either: it says so
    return (bool(words) and "gnugo" in os.path.basename(words[0])
            and "--chinese-rules" not in words)


def run(args: argparse.Namespace) -> int:
    """Play the match and print the summary; errors propagate as MatchError/GoError/OSError."""
    result = run_match(config_from_args(args), progress=None if args.quiet else print_progress)
    print(format_result(result), flush=True)
    return 0


def register(go_subparsers) -> argparse.ArgumentParser:
    """Add `match` to the `rlgo go` subcommands."""
    parser = go_subparsers.add_parser("match", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser
