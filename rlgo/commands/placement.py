"""The placement flags of every command that runs on the self-play runtime.

    --address ADDR   join a Ray cluster (auto, host:port, ray://host:port)
    --num-cpus N     CPUs of the embedded Ray
    --actors N       actors (games or environments in parallel)
    --local          everything in this process, without Ray
    --learners K     data-parallel learners (where the command has a learner that splits)

They override the config's `runtime` section (selfplay.runtime.RuntimeSettings), which
`--set runtime.KEY=VALUE` reaches too; a resumed run may change any of them.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, TypeVar

from ..config import ConfigError
from . import positive_int

C = TypeVar("C")
R = TypeVar("R")


def add_placement_options(parser: argparse.ArgumentParser, actors_help: str,
                          learners: bool = False) -> None:
    """Add --address, --num-cpus, --actors, --local (and --learners)."""
    parser.add_argument("--address", default=None, metavar="ADDR",
                        help="join a Ray cluster: auto (started here with `ray start "
                             "--head`), host:port or ray://host:port (default: embedded Ray)")
    parser.add_argument("--num-cpus", type=positive_int, default=None, metavar="N",
                        help="CPUs of the embedded Ray (default: all cores)")
    parser.add_argument("--actors", type=positive_int, default=None, metavar="N",
                        help=actors_help)
    parser.add_argument("--local", action="store_true",
                        help="run everything in this process, without Ray (debugging)")
    if learners:
        parser.add_argument("--learners", type=positive_int, default=None, metavar="K",
                            help="data-parallel learners that all-reduce gradients each step "
                                 "(gloo on CPU, nccl on GPU; default from the config: 1)")


def placement_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The runtime settings the flags give (None: not given)."""
    return {"address": args.address, "num_cpus": args.num_cpus, "actors": args.actors,
            "backend": "local" if args.local else None,
            "learners": getattr(args, "learners", None)}


def placed(runtime: R, args: argparse.Namespace) -> R:
    """`runtime` (a RuntimeSettings) changed by the placement flags that were given;
    ConfigError for a value it refuses."""
    given = {k: v for k, v in placement_flags(args).items() if v is not None}
    try:
        return dataclasses.replace(runtime, **given)
    except (TypeError, ValueError) as err:
        raise ConfigError(str(err)) from None


def with_placement(config: C, args: argparse.Namespace) -> C:
    """`config` with its `runtime` section changed by the placement flags that were given;
    ConfigError for a value either refuses."""
    try:
        return dataclasses.replace(config, runtime=placed(config.runtime, args))  # type: ignore
    except (TypeError, ValueError) as err:
        raise ConfigError(str(err)) from None
