"""`rlgo go train-rollout`: fit the fast rollout policy (linear softmax over patterns).

    rlgo go train-rollout --data runs/alphago/data9 --run-dir runs/alphago/rollout9 \\
        [--set epochs=6] [--resume]
    cp runs/alphago/rollout9/rollout.npz agents/alphago/weights/rollout_9x9.npz   # ship it

Progress lines go to stderr; the summary (held-out top-1, CPU µs per move of a playout) to
stdout. `register(go_subparsers)` adds the command to the rlgo CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys

from ..config import ConfigError, load_config
from . import print_progress

HELP = "train the fast rollout policy (linear softmax over 3x3/response patterns)"


def run(args: argparse.Namespace) -> int:
    from selfplay.alphago.train_rollout import RolloutTrainConfig, train_rollout
    from selfplay.rundir import RunDirError

    words = ["rlgo", "go", "train-rollout", "--data", args.data, "--run-dir", args.run_dir]
    words += ["--config", args.config] if args.config else []
    words += [w for item in args.overrides for w in ("--set", item)]
    command = " ".join(shlex.quote(w) for w in words)
    try:
        config = load_config(RolloutTrainConfig, args.config, args.overrides)
        if args.device is not None:
            config = dataclasses.replace(config, device=args.device)
        summary = train_rollout(config, args.data, args.run_dir, resume=args.resume,
                                command=command,
                                progress=None if args.quiet else print_progress)
    except (ConfigError, RunDirError, ValueError) as err:
        print(f"rlgo: error: {err}", file=sys.stderr)
        return 2
    best = summary["best_val_top1"]
    head = (f"held-out top-1 {best:.4f}" if best is not None else "no validation split")
    print(f"train-rollout done: {head}, {summary['us_per_move']:.2f} CPU µs per playout move, "
          f"{summary['seconds'] / 60:.1f} min; policy {summary['policy']}", flush=True)
    return 0


def register(go_subparsers) -> argparse.ArgumentParser:
    """Add `train-rollout` to the `rlgo go` subcommands."""
    parser = go_subparsers.add_parser("train-rollout", help=HELP, description=HELP)
    parser.add_argument("--data", required=True, metavar="DIR",
                        help="a dataset (rlgo go dataset); only board/move fields are read")
    parser.add_argument("--run-dir", required=True, metavar="DIR",
                        help="checkpoints, metrics and the best policy (RUN/rollout.npz)")
    parser.add_argument("--config", metavar="FILE", help="training settings (YAML)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a setting, e.g. epochs=6")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --run-dir from its newest checkpoint")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                        help="where to train (default cpu: the model is linear)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(func=run)
    return parser
