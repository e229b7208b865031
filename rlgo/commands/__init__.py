"""Subcommands of the `rlgo` CLI that need more than a few lines: each module has
`register(subparsers)`, which adds its parser and sets `func(args) -> exit status`."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from typing import Any

from envs.go import DEFAULT_KOMI

from ..config import ConfigError, load_config


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


# Devices every command that trains or runs a network accepts; auto is CUDA when torch sees one.
DEVICES = ("auto", "cpu", "cuda")


def add_device_option(parser: argparse.ArgumentParser, help_text: str,
                      default: str | None = None) -> None:
    """--device with the same choices on every command (auto, cpu, cuda)."""
    parser.add_argument("--device", choices=DEVICES, default=default, help=help_text)


def network_device(args: argparse.Namespace) -> str:
    """--device as a torch device name ("auto": cuda when there is one), and --lambda checked
    where the command has it; ConfigError for cuda where there is none or a bad lambda."""
    from selfplay.go.training import resolve_device

    mix = getattr(args, "mix", None)
    if mix is not None and not 0.0 <= mix <= 1.0:
        raise ConfigError(f"--lambda must be between 0 and 1, got {mix}")
    try:
        return str(resolve_device(args.device))
    except ValueError as err:  # cuda asked for where there is none
        raise ConfigError(str(err)) from None


def add_komi_option(parser: argparse.ArgumentParser, help_text: str = "komi") -> None:
    """--komi with the one default, envs.go.DEFAULT_KOMI (its comment says why 7.5)."""
    parser.add_argument("--komi", type=float, default=DEFAULT_KOMI,
                        help=f"{help_text} (default {DEFAULT_KOMI:g})")


def print_progress(line: str) -> None:
    """Progress lines of long commands go to stderr, so stdout keeps only their results."""
    print(line, file=sys.stderr, flush=True)


def add_run_options(parser: argparse.ArgumentParser, run_dir_help: str, config_example: str,
                    device_help: str = "where the learner trains (default from the config)"
                    ) -> None:
    """The options every training command shares: --run-dir, --config, --set, --resume,
    --device and --quiet."""
    parser.add_argument("--run-dir", required=True, metavar="DIR", help=run_dir_help)
    parser.add_argument("--config", metavar="FILE",
                        help=f"settings: a YAML file or a shipped config (see {config_example})")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config value (repeatable)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --run-dir from its newest checkpoint")
    add_device_option(parser, device_help)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def run_config(cls: type, args: argparse.Namespace, flags: dict[str, Any] | None = None):
    """A training command's settings: `cls` from --config, then --set, then the flags that
    were given (None: not given), --device included. A bad value or a CUDA device asked for
    where there is none is a ConfigError."""
    from selfplay.go.training import resolve_device

    config = load_config(cls, args.config, args.overrides)
    changes = {k: v for k, v in {**(flags or {}), "device": args.device}.items()
               if v is not None}
    try:
        config = dataclasses.replace(config, **changes)
        resolve_device(config.device)
    except (TypeError, ValueError) as err:
        raise ConfigError(str(err)) from None
    return config


def command_line(args: argparse.Namespace) -> str:
    """The command as typed (rlgo.cli.main keeps its argv), recorded in weight files' meta."""
    return "rlgo " + shlex.join(getattr(args, "argv", None) or sys.argv[1:])
