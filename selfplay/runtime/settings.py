"""Where a run goes: one RuntimeSettings type for every driver, and the one `make_backend`.

Every driver config (Go self-play, RL policy, value data, teacher games, Ape-X) holds a
`runtime: RuntimeSettings` field instead of its own copies of these fields, and YAML configs
spell them as one nested section (`--set runtime.address=auto`):

    runtime:
      backend: ray       # ray | local (in this process, for debugging)
      address: ""        # "": embedded Ray on this machine; auto; host:port; ray://host:port
      num_cpus: 0        # embedded Ray's CPUs (0: all cores, or more if the actors ask)
      actors: 0          # 0: as many as the CPUs beside the learner allow
      ...

None of it changes what a run computes, so a resumed run may change any of it:
`run_identity` leaves every RuntimeSettings field of a config out of the identity that
RUN/config.yaml stores. This module knows no driver, so drivers import it, never the reverse.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from envs.checks import check_ranges
from selfplay.runtime.api import Backend
from selfplay.runtime.local import LocalBackend


@dataclass(frozen=True)
class RuntimeSettings:
    """Where and how wide a run goes (not what it computes: may change on resume).

    backend:        "ray", or "local" (everything in this process, one actor at a time).
    address:        "" for an embedded Ray on this machine; "auto", "host:port" or
                    "ray://host:port" to join a cluster (selfplay/runtime/connect.py).
    num_cpus:       embedded Ray's CPUs; 0: all cores, raised to fit the actors asked for.
    actors:         0: as many as the CPUs beside the learner(s) allow.
    actor_cpus, learner_cpus: what each actor and each learner reserves.
    actor_gpus:     the GPU share each actor reserves (0.25: four actors per GPU); an actor
                    given one runs its network there (Go self-play's GPU actors). Each learner
                    takes a whole GPU when the cluster has one for every learner.
    learners:       data-parallel learner ranks (the batch is split evenly over them).
    max_in_flight:  run() calls outstanding per actor.
    max_recoveries: automatic resumes from the last checkpoint after the learner or a
                    replay shard died (drivers that checkpoint a learner).
    """

    backend: Literal["ray", "local"] = "ray"
    address: str = ""
    num_cpus: int = 0
    actors: int = 0
    actor_cpus: float = 1.0
    actor_gpus: float = 0.0
    learners: int = 1
    learner_cpus: float = 1.0
    max_in_flight: int = 2
    max_recoveries: int = 3

    def __post_init__(self) -> None:
        # an actor that reserves no CPU would be packed onto cores without limit; a learner
        # may reserve none (drivers whose learner trains nothing, or only between calls)
        check_ranges(self, "runtime.", at_least_1=("learners", "max_in_flight"),
                     at_least_0=("num_cpus", "actors", "learner_cpus", "max_recoveries",
                                 "actor_gpus"),
                     positive=("actor_cpus",))
        if self.actor_gpus > 1 and self.actor_gpus != int(self.actor_gpus):
            raise ValueError(f"runtime.actor_gpus above 1 must be whole, got {self.actor_gpus}")
        if self.backend == "local" and (self.address or self.learners > 1):
            raise ValueError("runtime.address and runtime.learners > 1 need backend 'ray', "
                             "not 'local'")

    def embedded_cpus(self) -> int | None:
        """The CPUs an embedded Ray starts with: num_cpus, else all cores, or as many as the
        actors asked for need (they then share the cores rather than being refused)."""
        if self.num_cpus:
            return self.num_cpus
        if self.actors <= 0:
            return None
        need = self.learners * self.learner_cpus + self.actors * self.actor_cpus
        return max(os.cpu_count() or 1, math.ceil(need))


def make_backend(settings: RuntimeSettings, seed: int = 0, games_per_call: int = 1,
                 learner: bool = True) -> Backend:
    """The backend `settings` asks for (RuntimeBackendError if Ray cannot start or join).

    seed:           the shard-choice RNG's seed.
    games_per_call: units an actor is asked for per run() call (a driver whose actors play
                    games in lockstep batches passes its batch).
    learner:        False when the driver's learner trains nothing (data generation): it
                    then reserves neither CPU nor GPU, and every core plays.
    """
    if settings.backend == "local":
        return LocalBackend(games_per_call=games_per_call, seed=seed)
    from selfplay.runtime.ray_backend import RayBackend

    return RayBackend(address=settings.address or None, num_cpus=settings.embedded_cpus(),
                      actor_cpus=settings.actor_cpus, actor_gpus=settings.actor_gpus,
                      learner_cpus=settings.learner_cpus if learner else 0.0,
                      learner_gpus=None if learner else 0.0, learners=settings.learners,
                      games_per_call=games_per_call, max_in_flight=settings.max_in_flight,
                      seed=seed)


def placement_keys(config: Any, also: Iterable[str] = ()) -> frozenset[str]:
    """The top-level keys of `config` (a config or its class) that may change on resume:
    its RuntimeSettings fields and the driver's own `also` (how long it runs, how often it
    reports, its device)."""
    runtime = {f.name for f in dataclasses.fields(config)
               if isinstance(getattr(config, f.name, None), RuntimeSettings)}
    return frozenset(runtime | set(also))


def run_identity(config: Any, also: Iterable[str] = ()) -> dict[str, Any]:
    """The config as RUN/config.yaml stores it: what a resumed run must keep the same."""
    placement = placement_keys(config, also)
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in placement}
