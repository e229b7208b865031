"""The actor/learner runtime shared by both agents: plain actor and learner classes, run in
this process (LocalBackend) or as Ray actors on all cores or a cluster (RayBackend).

RayBackend is imported lazily (`from selfplay.runtime.ray_backend import RayBackend`) by code
that wants Ray, so the in-process path does not pay Ray's import time. Where a run goes is one
RuntimeSettings and one make_backend (settings.py); the driver loops' shared parts are in
selfplay.runtime.driver (imported on its own: it needs torch)."""

from selfplay.runtime.api import (
    Actor,
    ActorFactory,
    Backend,
    ComponentLost,
    Learner,
    LearnerFactory,
    ReplayFactory,
    ReplayShard,
    ResourceRequestError,
    RuntimeBackendError,
    choose_shard,
    with_recovery,
)
from selfplay.runtime.local import LocalBackend
from selfplay.runtime.settings import RuntimeSettings, make_backend, run_identity

__all__ = [
    "Actor",
    "ActorFactory",
    "Backend",
    "ComponentLost",
    "Learner",
    "LearnerFactory",
    "LocalBackend",
    "ReplayFactory",
    "ReplayShard",
    "ResourceRequestError",
    "RuntimeBackendError",
    "RuntimeSettings",
    "choose_shard",
    "make_backend",
    "run_identity",
    "with_recovery",
]
