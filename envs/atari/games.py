"""Game names: what `--env` accepts (the random and human baselines: baselines.py).

Users spell games many ways: 'Pong', 'pong', 'ALE/Pong-v5', 'PongNoFrameskip-v4',
'space_invaders', 'SpaceInvaders'. All resolve to one ROM id of ale-py ('pong',
'space_invaders'); a name that matches no bundled ROM is an UnknownEnvError that lists the
closest names.
"""

from __future__ import annotations

import difflib
import re

from envs.errors import UserError


class UnknownEnvError(UserError, ValueError):
    """An env id that names no bundled Atari game (nor another supported environment)."""


def _rom_ids() -> list[str]:
    from ale_py import roms

    return list(roms.get_all_rom_ids())


def display_name(rom_id: str) -> str:
    """'space_invaders' -> 'SpaceInvaders' (gymnasium's spelling)."""
    return "".join(part.capitalize() for part in rom_id.split("_"))


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def strip_env_id(env_id: str) -> str:
    """The game part of an env id: 'ALE/Pong-v5' -> 'Pong', 'PongNoFrameskip-v4' -> 'Pong'."""
    name = env_id.strip()
    if "/" in name:
        name = name.rsplit("/", 1)[1]
    name = re.sub(r"-v\d+$", "", name)
    name = re.sub(r"(NoFrameskip|Deterministic)$", "", name)
    return name


def resolve_game(env_id: str, extra_names: list[str] | tuple[str, ...] = ()) -> str:
    """The ale-py ROM id for `env_id` ('Pong', 'ALE/Pong-v5', 'space_invaders' -> 'pong',
    'space_invaders'). Raises UnknownEnvError naming the closest games; `extra_names` (other
    env ids the caller supports, e.g. 'CartPole-v1') are offered among the suggestions."""
    roms = _rom_ids()
    by_key = {_key(rom): rom for rom in roms}
    rom = by_key.get(_key(strip_env_id(env_id)))
    if rom is not None:
        return rom
    names = [display_name(r) for r in roms] + list(extra_names)
    close = difflib.get_close_matches(strip_env_id(env_id), names, n=5, cutoff=0.5)
    if not close:
        lowered = {n.lower(): n for n in names}
        close = [lowered[n] for n in difflib.get_close_matches(
            strip_env_id(env_id).lower(), list(lowered), n=5, cutoff=0.5)]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownEnvError(f"unknown env id {env_id!r}{hint} (`rlgo atari games` lists the "
                          f"{len(roms)} bundled Atari games)")
