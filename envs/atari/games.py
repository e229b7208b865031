"""Game names: what `--env` accepts, and the published random/human scores for normalising.

Users spell games many ways: 'Pong', 'pong', 'ALE/Pong-v5', 'PongNoFrameskip-v4',
'space_invaders', 'SpaceInvaders'. All resolve to one ROM id of ale-py ('pong',
'space_invaders'); a name that matches no bundled ROM is an UnknownEnvError that lists the
closest names.

Human-normalised score = (agent - random) / (human - random), with the random-agent and human
scores of the DQN Nature paper (Mnih et al. 2015, Extended Data Table 2: a professional human
games tester playing under the same emulator conditions). Other papers use other human sets
(e.g. the Atari Human Benchmark of Toromanoff et al.); reports name the set they used.
"""

from __future__ import annotations

import difflib
import re

from envs.errors import UserError

HUMAN_BASELINE_SET = "DQN Nature 2015 (Mnih et al., Extended Data Table 2), professional tester"

# ROM id -> (random score, human score), DQN Nature paper, for common games.
NATURE_SCORES: dict[str, tuple[float, float]] = {
    "alien": (227.8, 6875.0),
    "amidar": (5.8, 1676.0),
    "assault": (222.4, 1496.0),
    "asterix": (210.0, 8503.0),
    "asteroids": (719.1, 13157.0),
    "atlantis": (12850.0, 29028.0),
    "beam_rider": (363.9, 5775.0),
    "boxing": (0.1, 4.3),
    "breakout": (1.7, 31.8),
    "enduro": (0.0, 309.6),
    "freeway": (0.0, 29.6),
    "montezuma_revenge": (0.0, 4367.0),
    "ms_pacman": (307.3, 15693.0),
    "pong": (-20.7, 9.3),
    "qbert": (163.9, 13455.0),
    "seaquest": (68.4, 20182.0),
    "space_invaders": (148.0, 1652.0),
    "video_pinball": (16257.0, 17298.0),
}


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


def human_normalized(rom_id: str, score: float) -> float | None:
    """(score - random) / (human - random) for games in NATURE_SCORES, else None."""
    if rom_id not in NATURE_SCORES:
        return None
    random_score, human_score = NATURE_SCORES[rom_id]
    return (score - random_score) / (human_score - random_score)
