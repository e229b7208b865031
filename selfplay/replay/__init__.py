"""Replay for any agent: a typed ring buffer, uniform or prioritized samplers, a buffer that
combines them with atomic save/load, and a frame replay that stores each observation frame
once and rebuilds stacks by index. Nothing here knows about Atari or Go."""

from selfplay.replay.buffer import REPLAY_FILE, ReplayBuffer
from selfplay.replay.frames import FrameReplay
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
    "FrameReplay",
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
