"""Atari games through ale-py, whose wheels bundle the ROMs (no download step).

`AtariVecEnv` runs N copies of a game with DQN's preprocessing on ale-py's native vector
environment; `make_reference_env` builds the same pipeline from gymnasium's wrappers (the
oracle in tests, and the recorder for videos); `resolve_game` turns any usual spelling of a
game into its ROM id. numpy and ale-py only: no torch here.
"""

from __future__ import annotations

from envs.atari.baselines import ATARI_57, BASELINE_SOURCE, baseline, human_normalized_score
from envs.atari.games import UnknownEnvError, display_name, resolve_game
from envs.atari.vector import AtariSettings, AtariStep, AtariVecEnv, make_reference_env

__all__ = [
    "ATARI_57",
    "BASELINE_SOURCE",
    "AtariSettings",
    "AtariStep",
    "AtariVecEnv",
    "UnknownEnvError",
    "bundled_games",
    "baseline",
    "display_name",
    "human_normalized_score",
    "make_reference_env",
    "resolve_game",
]


def bundled_games() -> list[str]:
    """Names of the games whose ROMs ship with ale-py, as gymnasium spells them ('Pong',
    'SpaceInvaders'): the names `--env` takes."""
    from ale_py import roms

    return sorted(display_name(rom) for rom in roms.get_all_rom_ids())
