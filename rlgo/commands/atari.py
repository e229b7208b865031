"""`rlgo atari train|eval|report|watch|export`: DQN on Atari games (and CartPole), one process.

    rlgo atari train --env Pong                                   # Nature DQN settings
    rlgo atari train --env Breakout --set double=true --set dueling=true --set n_step=3
    rlgo atari train --config atari/cartpole                      # CartPole-v1 with an MLP
    rlgo atari train --run-dir runs/atari/pong --resume           # continue a killed run
    rlgo atari train --env Pong --distributed --actors 8          # Ape-X on embedded Ray
    rlgo atari train --env Pong --distributed --address auto      # ... on a `ray start` cluster
    rlgo atari eval --checkpoint runs/atari/pong --episodes 30 --video pong.mp4
    rlgo atari report runs/atari/pong-s* runs/atari/breakout-s* --png curves.png
    rlgo atari watch --checkpoint runs/atari/pong --episodes 3 --video pong.mp4
    rlgo atari watch                                              # the shipped Pong network
    rlgo atari export --checkpoint runs/atari/pong --out pong.pt  # a small policy file

Without --config, Atari games use the shipped config atari/dqn_nature and classic-control
tasks atari/cartpole (rlgo.config.shipped_config: configs/ in a clone, package data in a
wheel). With --resume, the run directory's own config.yaml is the default, so
`--run-dir DIR --resume` is enough. `eval` keeps its scores as JSON (RUN/eval-STEP.json unless
--json names a file); `report` pools such records over games and seeds (rliable's intervals:
the optional extra `report`). `register(atari_subparsers)` adds the commands to the rlgo CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import time
from pathlib import Path

from ..config import ConfigError, load_config, shipped_config, shipped_configs
from . import add_device_option, positive_int
from .placement import add_placement_options, placed, placement_flags

TRAIN_HELP = "train a DQN agent on an Atari game or CartPole (one process, or Ape-X on Ray)"
EVAL_HELP = "evaluate a DQN checkpoint: raw score of whole games, eps 0.05, up to 30 no-ops"
REPORT_HELP = ("pool eval records over games and seeds: mean, median and IQM of human-normalised "
               "scores with 95% stratified bootstrap intervals (rliable), learning curves")
WATCH_HELP = "watch a DQN checkpoint play its Atari game in a window (pygame)"
EXPORT_HELP = ("write a checkpoint's network as a small policy file (float16 weights, the config: "
               "what watch and eval need, no training state)")
# one frame an agent step, 4 emulator frames at 60 Hz: selfplay.atari.evaluate.VIDEO_FPS, not
# imported here so that building the parser does not import torch
WATCH_FPS = 15


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text!r}")
    return value


def _default_config(env: str | None, run_dir: str | None, resume: bool) -> Path:
    """The config file used when --config is not given."""
    if resume and run_dir and (Path(run_dir) / "config.yaml").exists():
        return Path(run_dir) / "config.yaml"
    from envs.atari.classic import is_classic

    return shipped_config("atari/cartpole" if env and is_classic(env) else "atari/dqn_nature")


def run_train(args: argparse.Namespace) -> int:
    from envs.atari.classic import canonical_env_id
    from selfplay.atari import DQNConfig, train

    if args.resume and not args.run_dir:
        raise ConfigError("--resume needs --run-dir (the run to continue)")
    if args.address == "local":  # the old spelling of --local
        args.address, args.local = None, True
    if any(v not in (None, False) for v in placement_flags(args).values()) \
            and not args.distributed:
        raise ConfigError("--actors, --address, --num-cpus and --local go with --distributed")
    path = args.config or _default_config(args.env, args.run_dir, args.resume)
    config = load_config(DQNConfig, path, args.overrides)
    if args.device:
        try:
            config = dataclasses.replace(config, device=args.device)
        except ValueError as err:
            raise ConfigError(str(err)) from None
    env = args.env or config.env
    if not env:
        raise ConfigError("no environment: pass --env (e.g. --env Pong) or set env in the config")
    env = canonical_env_id(env)
    run_dir = args.run_dir or f"runs/atari/{env}-{time.strftime('%Y%m%d-%H%M%S')}"
    print(f"run directory: {run_dir}")
    log = _silent if args.quiet else print
    if args.distributed:
        from selfplay.atari.apex import ApexSettings, train_distributed

        settings = ApexSettings(runtime=placed(ApexSettings().runtime, args))
        result = train_distributed(config, env, run_dir, settings, resume=args.resume,
                                   save_replay=args.save_replay, log=log)
    else:
        result = train(config, env, run_dir, resume=args.resume, save_replay=args.save_replay,
                       log=log)
    print(f"checkpoint: {result.checkpoint}")
    if result.stopped_by:  # the shell's convention for a run a signal ended: 128 + its number
        again = f"rlgo atari train --run-dir {run_dir} --resume"
        if args.distributed:
            again += " --distributed" + (f" --address {args.address}" if args.address else
                                         " --local" if args.local else "")
        print(f"stopped early by {result.stopped_by}; continue with: {again}")
        return 128 + signal.Signals[result.stopped_by]
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from selfplay.atari import evaluate
    from selfplay.atari.evaluate import default_json_path, write_eval_json

    result = evaluate(args.checkpoint or _shipped(), args.env, args.episodes, args.eps, args.video,
                      args.seed, args.device, log=_silent if args.quiet else print,
                      threads=args.threads, points=args.points)
    if args.quiet:  # the result alone
        print(f"{result.env_id}: {len(result.scores)} episodes: mean {result.mean:.2f}, "
              f"std {result.std:.2f}")
    path = args.json or default_json_path(result)
    if path is None:
        print("record: none (a policy file belongs to no run; --json FILE keeps one)")
    else:
        path = write_eval_json(result, path)
        if not args.quiet:
            print(f"record: {path}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    import json

    from selfplay.atari.report import build_report, format_report, load_records, plot_curves

    records = load_records(args.records)
    report = build_report(records, reps=args.reps, seed=args.seed)
    for line in format_report(report):
        print(line)
    if args.png:
        plot_curves(records, args.png)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
        print(f"report: {args.json}")
    return 0


def run_watch(args: argparse.Namespace) -> int:
    from ..gui.atari_watch import watch

    # a network playing 15 steps a second needs no accelerator: no --device, cuda when there
    result = watch(args.checkpoint or _shipped(), args.episodes, args.fps, args.eps, args.seed,
                   "auto", args.video, args.max_steps)
    if result.stopped:
        print(f"stopped after {len(result.scores)} whole games")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from selfplay.atari.policy_file import export_policy

    out = export_policy(args.checkpoint, args.out)
    print(f"policy file: {out} ({out.stat().st_size / 2**20:.1f} MB)")
    return 0


def _shipped() -> Path:
    from selfplay.atari.policy_file import shipped_policy

    return shipped_policy("Pong")


def _silent(line: str) -> None:
    """The log of a --quiet run."""


def register(atari_subparsers) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """Add `train`, `eval`, `report`, `watch` and `export` to the `rlgo atari` subcommands;
    returns the train and eval parsers."""
    train = atari_subparsers.add_parser("train", help=TRAIN_HELP, description=TRAIN_HELP)
    train.add_argument("--env", help="game ('Pong', 'ALE/Pong-v5', 'SpaceInvaders') or "
                       "'CartPole-v1'; default: the config's env")
    train.add_argument("--config", metavar="FILE",
                       help="YAML settings: a file, or a shipped config ("
                            f"{', '.join(shipped_configs('atari'))}); default atari/dqn_nature, "
                            "or atari/cartpole for classic control")
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a setting, e.g. --set "
                       "replay.capacity=100000 (repeatable)")
    train.add_argument("--run-dir", metavar="DIR",
                       help="where checkpoints and metrics go (default runs/atari/ENV-TIME)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --run-dir from its newest checkpoint")
    train.add_argument("--save-replay", action="store_true",
                       help="also snapshot the replay with each checkpoint (exact resume; "
                            "as large as the replay itself)")
    train.add_argument("--distributed", action="store_true",
                       help="Ape-X: actors with their own epsilons feed a prioritized replay "
                            "and one learner, on Ray")
    add_placement_options(train, "Ape-X actors (default: the CPUs beside the learner); "
                                 "these placement flags go with --distributed")
    add_device_option(train, "where the learner trains (default from the config: auto)")
    train.add_argument("--quiet", action="store_true",
                       help="no progress lines (the run directory and checkpoint only)")
    train.set_defaults(func=run_train)

    evaluate = atari_subparsers.add_parser("eval", help=EVAL_HELP, description=EVAL_HELP)
    evaluate.add_argument("--checkpoint", metavar="PATH",
                          help="a checkpoint file, a run directory (its newest checkpoint) or "
                               "a policy file (default: the shipped Pong network)")
    evaluate.add_argument("--env", help="play another env than the one trained on")
    evaluate.add_argument("--episodes", type=positive_int, default=30,
                          help="whole games to play (default 30)")
    evaluate.add_argument("--eps", type=_probability, default=0.05,
                          help="probability of a random action (default 0.05)")
    evaluate.add_argument("--video", metavar="FILE",
                          help="also record one game to FILE: .mp4 is H.264 (plays in "
                               "browsers), .avi Motion JPEG, .gif needs imageio")
    evaluate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_device_option(evaluate, "where the network runs (default auto)", default="auto")
    evaluate.add_argument("--threads", type=positive_int, metavar="N",
                          help="CPU cores the network computes on, torch's threads (default: "
                               "the run's torch_threads, whose 0 is 1 on up to 4 CPUs; 1 "
                               "when a trainer shares the cores, or both crawl)")
    evaluate.add_argument("--quiet", action="store_true",
                          help="no line per game: the mean and std alone")
    evaluate.add_argument("--points", action="store_true",
                          help="also print each game's points in order (+ won, - lost) and "
                               "how often a point is lost after a won one and after a lost one")
    evaluate.add_argument("--json", metavar="FILE",
                          help="where the record of the scores goes, for `rlgo atari report` "
                               "(default RUN/eval-STEP.json, beside the checkpoint's run)")
    evaluate.set_defaults(func=run_eval)
    _register_report(atari_subparsers)
    _register_watch(atari_subparsers)
    _register_export(atari_subparsers)
    return train, evaluate


def _register_report(atari_subparsers) -> None:
    report = atari_subparsers.add_parser("report", help=REPORT_HELP.replace("%", "%%"),
                                        description=REPORT_HELP)
    report.add_argument("records", nargs="+", metavar="RUN_OR_JSON",
                        help="eval records: JSON files of `rlgo atari eval`, or run "
                             "directories (each its newest eval-*.json and its metrics.csv)")
    report.add_argument("--png", metavar="FILE",
                        help="also draw the learning curves (a panel a game, a line a seed)")
    report.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    report.add_argument("--reps", type=positive_int, default=10_000,
                        help="bootstrap resamples (default 10000)")
    report.add_argument("--seed", type=int, default=0,
                        help="random seed of the bootstrap (default 0)")
    report.set_defaults(func=run_report)


def _register_watch(atari_subparsers) -> None:
    watch = atari_subparsers.add_parser("watch", help=WATCH_HELP, description=WATCH_HELP)
    watch.add_argument("--checkpoint", metavar="PATH",
                       help="a checkpoint file, a run directory (its newest checkpoint) or a "
                            "policy file; any checkpoint plays, trained or not (default: the "
                            "shipped Pong network)")
    watch.add_argument("--episodes", type=positive_int, default=1,
                       help="whole games to play (default 1)")
    watch.add_argument("--fps", type=float, default=WATCH_FPS,
                       help=f"agent steps shown a second (default {WATCH_FPS}: the game's own "
                            "speed; 0: as fast as the network plays)")
    watch.add_argument("--eps", type=_probability, default=0.05,
                       help="probability of a random action (default 0.05)")
    watch.add_argument("--video", metavar="FILE",
                       help="also write what is shown to FILE: .mp4 is H.264 (plays in "
                            "browsers), .avi Motion JPEG, .gif needs imageio")
    watch.add_argument("--max-steps", type=positive_int, metavar="N",
                       help="stop each game after N agent steps (default: whole games)")
    watch.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    watch.set_defaults(func=run_watch)


def _register_export(atari_subparsers) -> None:
    export = atari_subparsers.add_parser("export", help=EXPORT_HELP, description=EXPORT_HELP)
    export.add_argument("--checkpoint", required=True, metavar="PATH",
                        help="a checkpoint file, or a run directory (its newest checkpoint)")
    export.add_argument("--out", required=True, metavar="FILE", help="the policy file to write")
    export.set_defaults(func=run_export)
