"""DQNConfig: every setting of a DQN run, as one frozen dataclass (values in configs/atari/).

Counts are in agent steps (one action in one environment; an Atari agent step is 4 frames).
The defaults are the Nature DQN hyperparameters (configs/atari/dqn_nature.yaml spells them
out); the improvements (double, dueling, n_step, prioritized) are switches.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Literal

import torch

from envs.checks import check_ranges
from envs.errors import UserError


class DQNConfigError(UserError, ValueError):
    """Settings that cannot work together or on this machine (e.g. device cuda without a
    GPU, a CNN for vector observations)."""


@dataclasses.dataclass(frozen=True)
class ReplayConfig:
    """Replay memory: capacity in transitions, and the prioritized sampler's settings."""

    capacity: int = 1_000_000
    priority_alpha: float = 0.6
    priority_beta_start: float = 0.4  # annealed linearly to beta_end over total_steps
    priority_beta_end: float = 1.0
    priority_eps: float = 1e-6

    def __post_init__(self) -> None:
        check_ranges(self, "replay.", at_least_1=("capacity",), positive=("priority_eps",),
                     probability=("priority_alpha", "priority_beta_start", "priority_beta_end"))


# What `--resume --set key=value` may change: settings the loop and the learner read afresh,
# none of them in the checkpoint's tensors (total_steps also moves the end of beta's anneal;
# eps_end sets the exploration left after the decay, e.g. to fine-tune at the eval's 0.05)
CHANGEABLE_ON_RESUME = frozenset({
    "total_steps", "lr", "adam_eps", "grad_clip", "eps_end", "eval_eps", "eval_episodes",
    "eval_every", "checkpoint_every", "log_every", "device", "torch_threads"})


@dataclasses.dataclass(frozen=True)
class DQNConfig:
    """A DQN run (single process). See configs/atari/dqn_nature.yaml for each key's meaning."""

    env: str | None = None  # game or env id; --env overrides it
    total_steps: int = 50_000_000
    learning_starts: int = 50_000
    batch_size: int = 32
    optimizer: Literal["adam", "rmsprop"] = "rmsprop"
    lr: float = 2.5e-4
    adam_eps: float = 1e-8  # see agents/dqn/learner.py
    gamma: float = 0.99
    n_step: int = 1
    target_update: int = 10_000  # agent steps between target-network copies
    train_every: int = 4  # agent steps per gradient update
    double: bool = False
    dueling: bool = False
    prioritized: bool = False
    loss: Literal["huber", "mse"] = "huber"
    grad_clip: float | None = 10.0
    network: Literal["auto", "nature_cnn", "mlp"] = "auto"
    mlp_hidden: tuple[int, ...] = (128, 128)
    eps_start: float = 1.0
    eps_end: float = 0.1
    eps_decay_steps: int = 1_000_000
    eval_eps: float = 0.05
    eval_episodes: int = 10
    eval_every: int = 250_000  # 0: no evaluation during training
    checkpoint_every: int = 250_000
    log_every: int = 10_000
    num_envs: int = 1
    noop_max: int = 30
    sticky_actions: bool = False
    full_action_space: bool = False
    episodic_life: bool = True  # training only
    fire_reset: bool = True  # training only
    clip_rewards: bool = True  # training only
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    torch_threads: int = 0  # CPU threads for torch; 0: auto (cpu_threads)
    replay: ReplayConfig = dataclasses.field(default_factory=ReplayConfig)

    def __post_init__(self) -> None:
        check_ranges(self, at_least_1=("total_steps", "batch_size", "n_step", "target_update",
                                       "train_every", "checkpoint_every", "log_every",
                                       "num_envs", "eval_episodes"),
                     at_least_0=("learning_starts", "eps_decay_steps", "eval_every", "noop_max",
                                 "torch_threads", "seed"),
                     positive=("lr", "adam_eps", "grad_clip", "gamma"),
                     probability=("eps_start", "eps_end", "eval_eps", "gamma"))
        if not all(width >= 1 for width in self.mlp_hidden):
            raise ValueError(f"mlp_hidden widths must be at least 1, got {self.mlp_hidden}")
        if self.replay.capacity < self.batch_size:
            raise ValueError(f"replay.capacity {self.replay.capacity} is below batch_size "
                             f"{self.batch_size}")


def config_dict(config: DQNConfig) -> dict[str, Any]:
    """Plain YAML-able data (tuples become lists), as written to the run directory."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return plain(dataclasses.asdict(config))


def config_from_dict(data: dict[str, Any]) -> DQNConfig:
    """Rebuild a DQNConfig from `config_dict` output (as stored in a checkpoint)."""
    data = dict(data)
    replay = ReplayConfig(**data.pop("replay", {}))
    if "mlp_hidden" in data:
        data["mlp_hidden"] = tuple(data["mlp_hidden"])
    return DQNConfig(**data, replay=replay)


# Up to this many CPUs, torch_threads 0 means one thread (see cpu_threads)
SMALL_MACHINE_CPUS = 4


def cpu_threads(setting: int) -> int:
    """torch's CPU threads for a run whose torch_threads is `setting`: itself, or for 0 one
    thread on a machine of up to SMALL_MACHINE_CPUS CPUs and torch's default above.

    Why one on a small machine: the emulators' threads, the loop and any other job share its
    few cores with torch's OpenMP threads, which spin at each barrier, so one descheduled
    thread stalls the rest. On a busy 2-core machine a Pong update ran at 3/s with torch's
    default 2 threads against 30/s with one (Pong training at 6-10 agent steps/s against
    47-93); on an idle one a second thread gains at most 2x."""
    if setting:
        return setting
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 1 if (cpus or 1) <= SMALL_MACHINE_CPUS else torch.get_num_threads()


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cuda' without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DQNConfigError("device 'cuda' was asked for but torch sees no CUDA device; use "
                         "--set device=cpu (or auto)")
    return torch.device(name)
