"""Subcommands of the `rlgo` CLI that need more than a few lines: each module has
`register(subparsers)`, which adds its parser and sets `func(args) -> exit status`."""

from __future__ import annotations

import argparse
import sys


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


def print_progress(line: str) -> None:
    """Progress lines of long commands go to stderr, so stdout keeps only their results."""
    print(line, file=sys.stderr, flush=True)
