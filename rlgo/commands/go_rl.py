"""`rlgo go train-rl` and `rlgo go train-value`: the two self-play stages of AlphaGo, on the
self-play runtime (embedded Ray on all cores, or a cluster with --address).

    rlgo go train-rl --init agents/alphago/weights/policy_9x9.pt --run-dir runs/alphago/rl9 \\
        [--config configs/go/rl_9x9.yaml] [--set lr=0.005] [--address auto] [--actors N] \\
        [--iterations N] [--local] [--resume] [--device auto|cpu|cuda]
    rlgo go train-value --policy runs/alphago/rl9/rl_policy.pt \\
        --sl agents/alphago/weights/policy_9x9.pt --run-dir runs/alphago/value9 \\
        [--config configs/go/value_9x9.yaml] [--positions N] [--epochs N] [--resume] ...

train-rl writes RUN/rl_policy.pt (meta: command, win_rate_vs_sl, iterations); train-value
writes RUN/value.pt (meta: command, val_mse, positions). Both print a progress line every
few seconds and resume with --resume. A bad config, weight file or run directory, or an
unreachable cluster, raises a UserError: one line on stderr and exit status 2 (rlgo.cli.main).
"""

from __future__ import annotations

import argparse

from ..config import ConfigError
from . import add_run_options, command_line, positive_int, print_progress, run_config
from .placement import add_placement_options, with_placement

RL_HELP = "improve a policy network by REINFORCE self-play against a pool of earlier versions"
VALUE_HELP = "train the value network on one position per self-play game of the RL policy"


def _common(parser: argparse.ArgumentParser, config_example: str) -> None:
    add_run_options(parser, "where config, checkpoints, metrics and the network go",
                    config_example)
    add_placement_options(parser, "self-play actors (default: one per CPU)")


def _train_rl(args: argparse.Namespace) -> int:
    from selfplay.go.rl import RLConfig, run_rl

    config = run_config(RLConfig, args, {"init": args.init, "iterations": args.iterations})
    config = with_placement(config, args)
    if not config.init:
        raise ConfigError("train-rl needs the SL policy to start from: --init PATH")
    summary = run_rl(config, args.run_dir, resume=args.resume,
                     progress=None if args.quiet else print_progress, command=command_line(args))
    print(f"train-rl done: {summary['iterations']} iterations, {summary['games']} games "
          f"({summary['games_per_s']:.1f} games/s); win rate vs SL "
          f"{summary['win_rate_vs_sl']:.1%} over {summary['eval_games']} games; "
          f"{summary['policy']}", flush=True)
    return 0


def _train_value(args: argparse.Namespace) -> int:
    from selfplay.go.value import ValueConfig, run_value

    config = run_config(ValueConfig, args, {
        "policy": args.policy, "sl_policy": args.sl, "positions": args.positions,
        "epochs": args.epochs})
    config = with_placement(config, args)
    if not config.policy:
        raise ConfigError("train-value needs the RL policy: --policy PATH")
    summary = run_value(config, args.run_dir, resume=args.resume,
                        progress=None if args.quiet else print_progress,
                        command=command_line(args))
    print(f"train-value done: {summary['positions']} positions ({summary['new']} new, "
          f"{summary['positions_per_s']:.1f}/s); validation MSE {summary['val_mse']:.4f} "
          f"(train {summary['train_mse']:.4f}); {summary['value']}", flush=True)
    return 0


def register(go_subparsers) -> None:
    """Add `train-rl` and `train-value` to the `rlgo go` subcommands."""
    rl = go_subparsers.add_parser("train-rl", help=RL_HELP, description=RL_HELP)
    rl.add_argument("--init", default=None, metavar="PATH",
                    help="the SL policy network to start from (and to evaluate against)")
    rl.add_argument("--iterations", type=positive_int, default=None, metavar="N",
                    help="REINFORCE steps in total (a resumed run counts the earlier ones)")
    _common(rl, "configs/go/rl_9x9.yaml")
    rl.set_defaults(func=_train_rl)

    value = go_subparsers.add_parser("train-value", help=VALUE_HELP, description=VALUE_HELP)
    value.add_argument("--policy", default=None, metavar="PATH",
                       help="the RL policy network that plays the games out")
    value.add_argument("--sl", default=None, metavar="PATH",
                       help="the SL policy for the moves before the random one (default: "
                            "the RL policy)")
    value.add_argument("--positions", type=positive_int, default=None, metavar="N",
                       help="positions (= games) in total; a resumed run plays the missing")
    value.add_argument("--epochs", type=positive_int, default=None, metavar="N",
                       help="passes over the positions when training the value net (default "
                            "from the config)")
    _common(value, "configs/go/value_9x9.yaml")
    value.set_defaults(func=_train_value)
