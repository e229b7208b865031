"""`rlgo go selfplay`: Go self-play on the replay/self-play runtime, on this machine or a cluster.

    rlgo go selfplay --config configs/go/selfplay_9x9.yaml --run-dir runs/selfplay9
    rlgo go selfplay --config configs/go/selfplay_9x9.yaml --address auto --actors 16
    rlgo go selfplay --config configs/go/selfplay_9x9.yaml --learners 2   # data-parallel
    rlgo go selfplay --config configs/go/selfplay_9x9.yaml --run-dir runs/selfplay9 --resume

Actors play self-play games (SGF files in RUN/games/), the games fill replay, a learner trains
on it and sends versioned weights back to the actors; one progress line every few seconds.
Checkpoints go to RUN/checkpoints/ and `--resume` continues from the newest one.

A bad config, a run directory that cannot be used, an unreachable cluster or a request for
more CPUs/GPUs than the cluster has is one line on stderr and exit status 2.
`register(go_subparsers)` adds the command to the rlgo CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from ..config import ConfigError, load_config
from . import positive_int, print_progress

HELP = "Go self-play: actors (local or on a Ray cluster) fill replay, a learner trains on it"

# Errors a user can cause in this command: one line and exit status 2, never a traceback.


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors a user can cause, printed as one line (imported late: torch and ray are slow
    to load, and every rlgo command would pay for them)."""
    from selfplay.replay import ReplayError
    from selfplay.rundir import RunDirError
    from selfplay.runtime import RuntimeBackendError

    return ConfigError, RunDirError, RuntimeBackendError, ReplayError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The self-play options; flags override the config file and --set."""
    parser.add_argument("--config", metavar="FILE",
                        help="self-play settings (YAML, see configs/go/selfplay_9x9.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config value (repeatable)")
    parser.add_argument("--address", default=None, metavar="ADDR",
                        help="join a Ray cluster: auto (started here with `ray start "
                             "--head`), host:port or ray://host:port (default: embedded Ray)")
    parser.add_argument("--actors", type=positive_int, default=None, metavar="N",
                        help="self-play actors (default: as many as the CPUs allow)")
    parser.add_argument("--learners", type=positive_int, default=None, metavar="K",
                        help="data-parallel learners that all-reduce gradients each step "
                             "(gloo on CPU, nccl on GPU; default from the config: 1)")
    parser.add_argument("--games", type=positive_int, default=None, metavar="N",
                        help="games to play in total (a resumed run counts the earlier ones)")
    parser.add_argument("--run-dir", default="runs/selfplay", metavar="DIR",
                        help="where config, checkpoints, metrics and games go "
                             "(default runs/selfplay)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --run-dir from its newest checkpoint")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def config_from_args(args: argparse.Namespace):
    """The SelfPlayConfig from the config file, then --set, then the flags; ConfigError for a
    bad value."""
    from selfplay.go.loop import SelfPlayConfig

    config = load_config(SelfPlayConfig, args.config, args.overrides)
    flags = {"address": args.address, "actors": args.actors, "learners": args.learners,
             "games": args.games}
    changes = {k: v for k, v in flags.items() if v is not None}
    try:
        return dataclasses.replace(config, **changes)
    except (TypeError, ValueError) as err:
        raise ConfigError(str(err)) from None


def run(args: argparse.Namespace) -> int:
    from selfplay.go.loop import run_selfplay

    try:
        config = config_from_args(args)
        summary = run_selfplay(config, args.run_dir, resume=args.resume,
                               progress=None if args.quiet else print_progress)
    except _user_errors() as err:
        print(f"rlgo: error: {err}", file=sys.stderr)
        return 2
    print(f"self-play done: {summary['games']:.0f} games, {summary['positions']:.0f} "
          f"positions, {summary['learner_steps']:.0f} learner steps, weights "
          f"v{summary['weights_version']:.0f}; run directory {summary['run_dir']}", flush=True)
    return 0


def register(go_subparsers) -> argparse.ArgumentParser:
    """Add `selfplay` to the `rlgo go` subcommands."""
    parser = go_subparsers.add_parser("selfplay", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser
