"""Trained DQN networks to play: from a run's checkpoint, or from a small policy file.

A checkpoint carries a whole run (optimiser, target network, counters): 20 MB for a Pong run.
A policy file carries only what playing needs: the game, the observation shape and actions,
the run's config (the protocol it plays under), the agent steps it trained, and the online
network's weights in float16 (half the size; they are loaded into the float32 network, where
the rounding moves a Q-value by about 1e-3 of its spread). `rlgo atari export` writes one
from a run; agents/dqn/weights/ ships them (`shipped_policy`), and `rlgo atari watch` and
`eval` play them like any checkpoint. Both are read weights_only: no code runs on load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

import agents.dqn
from agents.dqn import build_q_network
from envs.atari.classic import canonical_env_id
from envs.atomic import atomic_file
from selfplay.atari.config import DQNConfig, config_from_dict
from selfplay.rundir import CHECKPOINT, RunDirError, load_checkpoint_file

FORMAT = "rlgo-dqn-policy-1"
WEIGHTS_DIR = Path(agents.dqn.__file__).parent / "weights"  # package data of agents.dqn


def shipped_policy(game: str = "Pong") -> Path:
    """The policy file shipped for `game` (RunDirError when none ships)."""
    path = WEIGHTS_DIR / f"{canonical_env_id(game).lower()}.pt"
    if not path.exists():
        ships = sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt"))
        raise RunDirError(f"no trained network ships for {game} (shipped: "
                          f"{', '.join(ships) or 'none'})")
    return path


def is_policy_file(state: dict[str, Any]) -> bool:
    return state.get("format") == FORMAT


def checkpoint_path(checkpoint: str | Path) -> Path:
    """A checkpoint or policy file as given, or a run directory's newest checkpoint."""
    path = Path(checkpoint)
    if not path.is_dir():
        return path
    folder = path / "checkpoints"
    found = sorted((int(m.group(1)), p) for p in (folder.iterdir() if folder.is_dir() else ())
                   if (m := CHECKPOINT.match(p.name)))
    if not found:
        raise RunDirError(f"{path} holds no checkpoint (looked in {folder})")
    return found[-1][1]


def load_policy(checkpoint: str | Path, device: torch.device | str = "cpu"
                ) -> tuple[torch.nn.Module, DQNConfig, dict[str, Any]]:
    """(network in eval mode, config, state) from a checkpoint file, a run directory (its
    newest checkpoint) or a policy file. The state holds env_id, obs_shape, num_actions and
    step (the agent steps trained)."""
    path = checkpoint_path(checkpoint)
    state = load_checkpoint_file(path)
    try:
        config = config_from_dict(state["config"])
        weights = state["network"] if is_policy_file(state) else state["learner"]["network"]
        network = build_q_network(state["obs_shape"], state["num_actions"], config.network,
                                  config.dueling, config.mlp_hidden)
        network.load_state_dict(weights)
    except (KeyError, TypeError, RuntimeError) as err:
        raise RunDirError(f"{path} is not a DQN checkpoint or policy file "
                          f"({type(err).__name__}: {str(err)[:120]})") from None
    return network.to(device).eval(), config, state


def export_policy(checkpoint: str | Path, out: str | Path) -> Path:
    """Write the policy file of a checkpoint (or a run directory's newest) to `out`,
    atomically; returns `out`."""
    source = checkpoint_path(checkpoint)
    _, _, state = load_policy(source)
    if is_policy_file(state):
        raise RunDirError(f"{source} is already a policy file")
    network = {name: tensor.half() if tensor.is_floating_point() else tensor
               for name, tensor in state["learner"]["network"].items()}
    policy = {"format": FORMAT, "env_id": state["env_id"], "obs_shape": state["obs_shape"],
              "num_actions": state["num_actions"], "config": state["config"],
              "step": state.get("step"), "network": network}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out) as file:
        torch.save(policy, file)
    return out
