"""DQNConfig: every setting of a DQN run, as one frozen dataclass (values in configs/atari/).

Counts are in agent steps (one action in one environment; an Atari agent step is 4 frames).
The defaults are the Nature DQN hyperparameters (configs/atari/dqn_nature.yaml spells them
out); Rainbow's six parts (double, dueling, n_step, prioritized, distributional, noisy) are
switches (configs/atari/rainbow.yaml and der_100k.yaml turn them all on).

Protocols: how the games are shown, named so that every report can say which was used.
    nature   Mnih et al. 2015: minimal action set, a lost life is terminal for learning, no
             sticky actions (up to noop_max no-ops at each start)
    machado  Machado et al. 2018: sticky actions (repeat probability 0.25), the full set of 18
             actions, no life-loss signal (only game over ends an episode)
    custom   the three keys sticky_actions, full_action_space, episodic_life as given
The three keys default to the protocol's values; naming one that contradicts the protocol is
an error. Without `protocol` it is inferred from them (none given: nature).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Literal

import torch

from agents.dqn import build_q_network
from envs.atari.classic import is_classic
from envs.checks import check_ranges
from envs.errors import UserError

# protocol -> the values it gives sticky_actions, full_action_space, episodic_life
PROTOCOLS: dict[str, dict[str, bool]] = {
    "nature": {"sticky_actions": False, "full_action_space": False, "episodic_life": True},
    "machado": {"sticky_actions": True, "full_action_space": True, "episodic_life": False},
}
PROTOCOL_KEYS = ("sticky_actions", "full_action_space", "episodic_life")


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
    distributional: bool = False  # C51 head (Bellemare et al. 2017); the loss is then its own
    atoms: int = 51
    v_min: float = -10.0
    v_max: float = 10.0
    noisy: bool = False  # noisy linear layers in the head (Fortunato et al. 2018)
    noisy_sigma0: float = 0.5
    network: Literal["auto", "nature_cnn", "der_cnn", "mlp"] = "auto"
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
    protocol: Literal["nature", "machado", "custom"] | None = None  # None: from the 3 below
    sticky_actions: bool | None = None  # None: the protocol's
    full_action_space: bool | None = None  # None: the protocol's
    episodic_life: bool | None = None  # training only; None: the protocol's
    fire_reset: bool = True  # training only
    clip_rewards: bool = True  # training only
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    torch_threads: int = 0  # CPU threads for torch; 0: auto (cpu_threads)
    replay: ReplayConfig = dataclasses.field(default_factory=ReplayConfig)

    def __post_init__(self) -> None:
        self._resolve_protocol()
        check_ranges(self, at_least_1=("total_steps", "batch_size", "n_step", "target_update",
                                       "train_every", "checkpoint_every", "log_every",
                                       "num_envs", "eval_episodes"),
                     at_least_0=("learning_starts", "eps_decay_steps", "eval_every", "noop_max",
                                 "torch_threads", "seed"),
                     positive=("lr", "adam_eps", "grad_clip", "gamma", "noisy_sigma0"),
                     probability=("eps_start", "eps_end", "eval_eps", "gamma"))
        if not all(width >= 1 for width in self.mlp_hidden):
            raise ValueError(f"mlp_hidden widths must be at least 1, got {self.mlp_hidden}")
        if self.replay.capacity < self.batch_size:
            raise ValueError(f"replay.capacity {self.replay.capacity} is below batch_size "
                             f"{self.batch_size}")
        if self.atoms < 2:
            raise ValueError(f"atoms must be at least 2, got {self.atoms}")
        if not self.v_min < self.v_max:
            raise ValueError(f"v_min ({self.v_min}) must be below v_max ({self.v_max})")

    def _resolve_protocol(self) -> None:
        """Fill protocol and its three keys from each other (see the module docstring)."""
        given = {key: getattr(self, key) for key in PROTOCOL_KEYS
                 if getattr(self, key) is not None}
        protocol = self.protocol
        if protocol is None:
            values = {**PROTOCOLS["nature"], **given}
            protocol = next((name for name, preset in PROTOCOLS.items() if preset == values),
                            "custom")
        preset = PROTOCOLS.get(protocol, PROTOCOLS["nature"])
        for key, value in given.items():
            if protocol != "custom" and value != preset[key]:
                raise ValueError(f"protocol {protocol} sets {key} to {str(preset[key]).lower()}"
                                 f", not {str(value).lower()}; drop {key} or set protocol: "
                                 f"custom")
        object.__setattr__(self, "protocol", protocol)
        for key in PROTOCOL_KEYS:
            object.__setattr__(self, key, given.get(key, preset[key]))


def protocol_text(config: DQNConfig) -> str:
    """The protocol for reports: 'nature', 'machado', or 'custom (sticky actions, ...)'."""
    if config.protocol != "custom":
        return str(config.protocol)
    parts = ["sticky actions 0.25" if config.sticky_actions else "no sticky actions",
             "full action set" if config.full_action_space else "minimal action set",
             "life loss terminal" if config.episodic_life else "no life-loss signal"]
    return f"custom ({', '.join(parts)})"


def rainbow_parts(config: DQNConfig) -> str:
    """Which of Rainbow's six parts a run uses, e.g. 'double+dueling+prioritized+3-step'."""
    parts = [name for name, on in (("double", config.double), ("dueling", config.dueling),
                                   ("prioritized", config.prioritized),
                                   (f"{config.n_step}-step", config.n_step > 1),
                                   (f"c51({config.atoms})", config.distributional),
                                   ("noisy", config.noisy)) if on]
    return "+".join(parts) or "dqn"


def run_label(env_id: str, config: DQNConfig) -> str:
    """What the log lines start with: the env, and for Atari games the protocol ('Pong |
    nature'); classic-control tasks have no emulator protocol."""
    return env_id if is_classic(env_id) else f"{env_id} | {protocol_text(config)}"


def run_summary(env_id: str, config: DQNConfig) -> str:
    """The line a run starts with: agent parts and protocol."""
    protocol = "" if is_classic(env_id) else f", protocol {protocol_text(config)}"
    return f"[{env_id}] agent {rainbow_parts(config)}{protocol}"


def make_network(config: DQNConfig, obs_shape, num_actions: int) -> torch.nn.Module:
    """The Q-network the config describes, for observations `obs_shape` [k, *frame] (what
    training builds and a checkpoint's weights load into). ValueError on a mismatch such as
    a CNN for vector observations."""
    return build_q_network(obs_shape, num_actions, config.network, config.dueling,
                           config.mlp_hidden, distributional=config.distributional,
                           atoms=config.atoms, v_min=config.v_min, v_max=config.v_max,
                           noisy=config.noisy, noisy_sigma0=config.noisy_sigma0)


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
