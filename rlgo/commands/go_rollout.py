"""`rlgo go train-rollout`: fit the fast rollout policy (linear softmax over patterns).

    rlgo go train-rollout --data runs/alphago/data9 --run-dir runs/alphago/rollout9 \\
        [--config configs/go/rollout_9x9.yaml] [--set epochs=6] [--resume]
    cp runs/alphago/rollout9/rollout.npz agents/alphago/weights/rollout_9x9.npz   # ship it

Progress lines go to stderr; the summary (held-out top-1, CPU µs per move of a playout) to
stdout. `register(go_subparsers)` adds the command to the rlgo CLI.
"""

from __future__ import annotations

import argparse

from . import add_run_options, command_line, print_progress, run_config

HELP = "train the fast rollout policy (linear softmax over 3x3/response patterns)"


def run(args: argparse.Namespace) -> int:
    from selfplay.go.train_rollout import RolloutTrainConfig, train_rollout

    config = run_config(RolloutTrainConfig, args)
    summary = train_rollout(config, args.data, args.run_dir, resume=args.resume,
                            command=command_line(args),
                            progress=None if args.quiet else print_progress)
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
    add_run_options(parser, "checkpoints, metrics and the best policy (RUN/rollout.npz)",
                    "configs/go/rollout_9x9.yaml",
                    device_help="where to train (default cpu: the model is linear)")
    parser.set_defaults(func=run)
    return parser
