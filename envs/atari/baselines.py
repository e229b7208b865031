"""Random-agent and human scores on the 57 Atari games, for human-normalised scores.

Human-normalised score = (score - random) / (human - random): 0 is a uniformly random policy, 1
the human tester. The numbers are the "Random" and "Human" columns of the table of raw scores
for all 57 games with 30 no-op starts in the appendix of Wang et al. 2016, "Dueling Network
Architectures for Deep Reinforcement Learning" (ICML): the professional games tester of the
Nature paper (Mnih et al. 2015), with the games that paper left out (Defender, Surround, ...).
Later papers normalise with this set (Rainbow, Agent57, the Atari 100k papers, rliable's
aggregates: Agarwal et al. 2021); the table was transcribed at development time from
DeepMind's dqn_zoo (dqn_zoo/atari_data.py), which holds this set. For some
games they differ from the Nature paper's own Extended Data Table 2 (Pong's human is 14.6 here,
9.3 there; Breakout's 30.5 here, 31.8 there), so a report names the set it used:
`BASELINE_SOURCE`.

Kept in the repository, not downloaded: a score read in a year's time normalises the same way.
Keys are ale-py ROM ids ('space_invaders'), what envs.atari.resolve_game returns.
"""

from __future__ import annotations

import math

BASELINE_SOURCE = ("Wang et al. 2016 (Dueling DQN), appendix table of raw no-op scores: random "
                   "and human scores of the 57 games")

# ROM id, random score, human score
_TABLE = """
alien                  227.8    7127.7
amidar                   5.8    1719.5
assault                222.4     742.0
asterix                210.0    8503.3
asteroids              719.1   47388.7
atlantis             12850.0   29028.1
bank_heist              14.2     753.1
battle_zone           2360.0   37187.5
beam_rider             363.9   16926.5
berzerk                123.7    2630.4
bowling                 23.1     160.7
boxing                   0.1      12.1
breakout                 1.7      30.5
centipede             2090.9   12017.0
chopper_command        811.0    7387.8
crazy_climber        10780.5   35829.4
defender              2874.5   18688.9
demon_attack           152.1    1971.0
double_dunk            -18.6     -16.4
enduro                   0.0     860.5
fishing_derby          -91.7     -38.7
freeway                  0.0      29.6
frostbite               65.2    4334.7
gopher                 257.6    2412.5
gravitar               173.0    3351.4
hero                  1027.0   30826.4
ice_hockey             -11.2       0.9
jamesbond               29.0     302.8
kangaroo                52.0    3035.0
krull                 1598.0    2665.5
kung_fu_master         258.5   22736.3
montezuma_revenge        0.0    4753.3
ms_pacman              307.3    6951.6
name_this_game        2292.3    8049.0
phoenix                761.4    7242.6
pitfall               -229.4    6463.7
pong                   -20.7      14.6
private_eye             24.9   69571.3
qbert                  163.9   13455.0
riverraid             1338.5   17118.0
road_runner             11.5    7845.0
robotank                 2.2      11.9
seaquest                68.4   42054.7
skiing              -17098.1   -4336.9
solaris               1236.3   12326.7
space_invaders         148.0    1668.7
star_gunner            664.0   10250.0
surround               -10.0       6.5
tennis                 -23.8      -8.3
time_pilot            3568.0    5229.2
tutankham               11.4     167.6
up_n_down              533.4   11693.2
venture                  0.0    1187.5
video_pinball        16256.9   17667.9
wizard_of_wor          563.5    4756.5
yars_revenge          3092.9   54576.9
zaxxon                  32.5    9173.3
"""


def _parse(text: str) -> dict[str, tuple[float, float]]:
    rows = (line.split() for line in text.strip().splitlines())
    return {game: (float(random), float(human)) for game, random, human in rows}


# ROM id -> (random score, human score)
ATARI_57: dict[str, tuple[float, float]] = _parse(_TABLE)


def human_normalized_score(rom_id: str, score: float) -> float | None:
    """(score - random) / (human - random) for the 57 games, else None (a game without a
    published baseline, e.g. 'adventure', or a classic-control task)."""
    if rom_id not in ATARI_57:
        return None
    random_score, human_score = ATARI_57[rom_id]
    return (score - random_score) / (human_score - random_score)


def baseline(rom_id: str) -> tuple[float, float]:
    """(random, human) scores of a game; math.nan for both where none is published."""
    return ATARI_57.get(rom_id, (math.nan, math.nan))
