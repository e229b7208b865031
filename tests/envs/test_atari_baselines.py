"""The published random/human baselines of the 57 games (envs.atari.baselines)."""

from __future__ import annotations

import math

import pytest
from ale_py import roms

from envs.atari.baselines import ATARI_57, BASELINE_SOURCE, baseline, human_normalized_score


def test_all_57_games_are_there_and_each_is_a_bundled_rom():
    assert len(ATARI_57) == 57
    assert set(ATARI_57) <= set(roms.get_all_rom_ids())
    assert {"defender", "surround", "skiing", "pitfall", "montezuma_revenge"} <= set(ATARI_57)


@pytest.mark.parametrize("game, random_score, human_score", [
    ("pong", -20.7, 14.6), ("breakout", 1.7, 30.5), ("alien", 227.8, 7127.7),
    ("space_invaders", 148.0, 1668.7), ("skiing", -17098.1, -4336.9),
    ("video_pinball", 16256.9, 17667.9), ("zaxxon", 32.5, 9173.3)])
def test_known_entries_of_the_published_table(game, random_score, human_score):
    assert ATARI_57[game] == (random_score, human_score)
    assert baseline(game) == (random_score, human_score)


def test_human_normalised_score_is_score_minus_random_over_human_minus_random():
    assert human_normalized_score("pong", -20.7) == pytest.approx(0.0)
    assert human_normalized_score("pong", 14.6) == pytest.approx(1.0)
    assert human_normalized_score("pong", 21.0) == pytest.approx((21 + 20.7) / (14.6 + 20.7))
    assert human_normalized_score("breakout", 400.0) == pytest.approx((400 - 1.7) / 28.8)
    # a game scored in negative numbers (time penalties) normalises the same way
    assert human_normalized_score("skiing", -4336.9) == pytest.approx(1.0)
    assert human_normalized_score("adventure", 1.0) is None
    assert all(math.isnan(x) for x in baseline("adventure"))
    assert "Wang et al. 2016" in BASELINE_SOURCE


def test_every_human_score_is_above_the_random_one():
    assert all(human > random for random, human in ATARI_57.values())
