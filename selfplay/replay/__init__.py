"""Replay for any agent: a typed ring buffer, uniform or prioritized samplers, and a buffer that
combines them with atomic save/load. Nothing here knows about Atari or Go."""

from selfplay.replay.buffer import REPLAY_FILE, ReplayBuffer
from selfplay.replay.samplers import PrioritizedSampler, Sampler, UniformSampler
from selfplay.replay.storage import (
    ReplayError,
    ReplayStorage,
    available_memory,
    check_fits_in_memory,
    format_bytes,
)
from selfplay.replay.sum_tree import SumTree

__all__ = [
    "REPLAY_FILE",
    "PrioritizedSampler",
    "ReplayBuffer",
    "ReplayError",
    "ReplayStorage",
    "Sampler",
    "SumTree",
    "UniformSampler",
    "available_memory",
    "check_fits_in_memory",
    "format_bytes",
]
