"""Atari games through ale-py, whose wheels bundle the ROMs (no download step)."""

from __future__ import annotations


def bundled_games() -> list[str]:
    """Names of the games whose ROMs ship with ale-py, as gymnasium spells them ('Pong',
    'SpaceInvaders'): the names `--env` takes."""
    from ale_py import roms

    return sorted("".join(part.capitalize() for part in rom.split("_"))
                  for rom in roms.get_all_rom_ids())
