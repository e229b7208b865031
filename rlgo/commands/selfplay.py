"""`rlgo go selfplay`: closed Go self-play on the replay/self-play runtime, on this machine or
a cluster.

    rlgo go selfplay --config configs/go/selfplay_9x9.yaml --run-dir runs/selfplay9
    rlgo go selfplay --config configs/go/selfplay_9x9.yaml --address auto --actors 16
    rlgo go selfplay --config configs/go/selfplay_9x9.yaml --learners 2   # data-parallel
    rlgo go selfplay --config configs/go/selfplay_9x9.yaml --run-dir runs/selfplay9 --resume
    rlgo go selfplay --config configs/go/selfplay_9x9.yaml --set bootstrap=scratch

The loop is AlphaGo Zero's (selfplay/go/loop.py): actors play with the best network (SGF files
in RUN/games/), the games fill replay, a learner trains a candidate on it, and every
`gate_every` learner steps a gate match decides whether the candidate becomes the next best
(RUN/networks/vNNNN.pt, a row of RUN/ladder.csv with its Elo, RUN/ladder.png, every gate in
RUN/gates.csv), which the actors then play with. One progress line every few seconds; the
summary names the best version, its Elo and where the ladder and networks are.
Checkpoints go to RUN/checkpoints/ and `--resume` continues from the newest one. Ctrl-C
(or SIGTERM) stops after the games that are in, with a checkpoint, and prints the command
that continues the run; a second Ctrl-C stops at once.

A bad config, a run directory that cannot be used, an unreachable cluster or a request for
more CPUs/GPUs than the cluster has raises a UserError: one line on stderr and exit status 2
(rlgo.cli.main).
`register(go_subparsers)` adds the command to the rlgo CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import textwrap
from pathlib import Path

from ..config import ConfigError, load_config
from . import add_device_option, command_line, positive_int, print_progress
from .placement import add_placement_options, with_placement

HELP = ("Go self-play, closed loop: actors (local or on a Ray cluster) play with the best net, a "
        "learner trains a candidate, a gate promotes it")
EPILOG = """\
the run directory holds games/ (SGF), networks/vNNNN.pt (each promoted net), ladder.csv and
ladder.png (the promoted nets' Elo), gates.csv (every gate), metrics.csv and checkpoints/.
examples:
  rlgo go selfplay --config configs/go/selfplay_9x9.yaml --run-dir runs/selfplay9
  rlgo go selfplay --config configs/go/selfplay_9x9.yaml --run-dir runs/selfplay9 --resume
  rlgo go selfplay --config configs/go/selfplay_9x9.yaml --address auto --actors 16
  rlgo go selfplay --config configs/go/selfplay_9x9.yaml --set bootstrap=scratch"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The self-play options; flags override the config file and --set."""
    parser.add_argument("--config", metavar="FILE",
                        help="self-play settings (YAML, see configs/go/selfplay_9x9.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config value (repeatable)")
    add_placement_options(parser, "self-play actors (default: as many as the CPUs allow)",
                          learners=True)
    parser.add_argument("--games", type=positive_int, default=None, metavar="N",
                        help="games to play in total (a resumed run counts the earlier ones)")
    parser.add_argument("--run-dir", default="runs/selfplay", metavar="DIR",
                        help="where config, checkpoints, metrics, games, networks and the "
                             "ladder go (default runs/selfplay)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --run-dir from its newest checkpoint")
    add_device_option(parser, "where the learner trains (default from the config: auto, a "
                              "GPU when the learner's node has one)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress or gate lines (the summary still prints)")


def config_from_args(args: argparse.Namespace):
    """The SelfPlayConfig from the config file, then --set, then the flags; ConfigError for a
    bad value."""
    from selfplay.go.loop import SelfPlayConfig

    config = load_config(SelfPlayConfig, args.config, args.overrides)
    changes = {k: v for k, v in (("games", args.games), ("device", args.device))
               if v is not None}
    if changes:
        try:
            config = dataclasses.replace(config, **changes)
        except (TypeError, ValueError) as err:
            raise ConfigError(str(err)) from None
    return with_placement(config, args)


def run(args: argparse.Namespace) -> int:
    from selfplay.go.loop import run_selfplay

    config = config_from_args(args)
    summary = run_selfplay(config, args.run_dir, resume=args.resume,
                           progress=None if args.quiet else print_progress)
    stopped = summary["stopped_by"]
    print(f"self-play {'stopped' if stopped else 'done'}: {summary['games']:.0f} games, "
          f"{summary['positions']:.0f} positions, {summary['learner_steps']:.0f} learner "
          f"steps; {ladder_line(summary)}", flush=True)
    run_dir = Path(summary["run_dir"])
    print(f"ladder: {run_dir / 'ladder.csv'} and {run_dir / 'ladder.png'}; networks: "
          f"{run_dir / 'networks'}{os.sep}", flush=True)
    if stopped:  # the shell's convention for a run a signal ended: 128 + its number
        again = command_line(args) + ("" if args.resume else " --resume")
        print(f"stopped early by {stopped}; continue with: {again}", flush=True)
        return 128 + signal.Signals[stopped]
    return 0


def ladder_line(summary: dict) -> str:
    """The best network of a run's summary: its version and file, its Elo (cumulative over
    the ladder) with its last gate's gain and interval, and how many gates promoted."""
    ladder, gates = summary.get("ladder") or [], summary.get("gates") or []
    if not ladder:
        return "no ladder"
    best = max(ladder, key=lambda row: row["version"])
    gain = (f" (its gate: {best['elo_gain']:+.0f} [{best['elo_low']:+.0f}, "
            f"{best['elo_high']:+.0f}])" if best["games"] else "")
    network = best["network"] or "the bootstrap"
    return (f"best v{best['version']} ({network}), Elo {best['elo']:+.0f}{gain}; "
            f"{len(ladder) - 1} promoted in {len(gates)} gates")


def register(go_subparsers) -> argparse.ArgumentParser:
    """Add `selfplay` to the `rlgo go` subcommands."""
    parser = go_subparsers.add_parser("selfplay", help=HELP, epilog=EPILOG,
                                      description=textwrap.fill(HELP, 79),
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser
