"""`python -m rlgo.warmup` (run by `make setup`): it knows a cold numba cache from a warm one,
and warming fills it, so the first engine move of a fresh clone is not spent compiling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.alphago.search.player import SearchLimits
from envs.go import Position, Rules
from rlgo import warmup
from rlgo.players import build_player

ROOT = Path(__file__).resolve().parents[2]


def _python(code: list[str], cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, *code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def test_an_empty_cache_is_cold(tmp_path):
    done = _python(["-c", "from rlgo import warmup; print(warmup.cold())"], tmp_path)
    assert done.stdout.strip() == "True", done.stderr


def test_the_cache_is_warm_once_the_engine_has_searched():
    # a search and the dead stones of its position, as warm_up plays them: together they use
    # every first-move kernel (run_playouts only for the dead stones), so this holds in any
    # test order, also on a cache made cold by a changed kernel source (kernel_cache.py)
    player = build_player("mcts", 9, threads=1)
    position = Position.new(Rules(size=9, komi=7.5))
    player.genmove(position, SearchLimits(visits=16))
    player.dead_stones(position)
    assert not warmup.cold()


@pytest.mark.slow  # compiles every kernel from scratch: about a minute on 2 cores
def test_warmup_fills_an_empty_cache(tmp_path):
    done = _python(["-m", "rlgo.warmup"], tmp_path)
    assert done.returncode == 0 and "first run only" in done.stderr, done.stderr
    again = _python(["-m", "rlgo.warmup"], tmp_path)
    assert again.returncode == 0 and again.stderr == ""


def test_a_ready_player_has_searched_and_forgotten_it():
    # The GTP engine builds its players through ready_player, so its first timed genmove
    # neither loads kernels nor reuses the warm-up's tree.
    player = warmup.ready_player(lambda size: build_player("mcts", size, threads=1), 7)
    assert not warmup.cold()
    assert player.mcts.root == -1 and player.mcts.root_position is None
    decision = player.genmove(Position.new(Rules(size=7, komi=7.5)), SearchLimits(visits=16))
    assert decision.move >= 0
