"""ExternalGtpPlayer: GNU Go as the GUI's opponent (`rlgo go play --engine "gnugo --mode gtp"`)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.alphago.search.player import SearchLimits
from envs.go import BLACK, PASS, WHITE, GoError, Position, from_gtp
from rlgo.gui.controller import SCORING, GameController
from rlgo.gui.external import ExternalGtpPlayer, engine_argv
from rlgo.gui.game import GameSettings

from .test_controller import DEAD_C7

pytestmark = pytest.mark.gnugo


def V(vertex: str) -> int:  # noqa: N802
    return from_gtp(vertex, 9)


def test_bare_gnugo_is_found_off_path(gnugo_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert engine_argv("gnugo --mode gtp") == [gnugo_path, "--mode", "gtp"]
    with pytest.raises(GoError):
        engine_argv("  ")


def test_gnugo_plays_and_follows_undo(gnugo_path, tmp_path):
    player = ExternalGtpPlayer(f"{gnugo_path} --mode gtp --level 1")
    game = GameController(player, GameSettings(handicap=2, komi=0.5),
                          SearchLimits(seconds=1), games_dir=tmp_path)
    try:
        assert player.name == "GNU Go"
        game.wait_engine(60)  # White moves first in a handicap game
        assert game.position.move_number == 1 and game.position.last_color == WHITE
        first, second = [v for v in ("B8", "H2", "B2") if not game.position.board[V(v)]][:2]
        assert game.click(V(first))
        game.wait_engine(60)
        assert game.position.move_number == 3 and game.human_to_move
        game.undo()
        assert game.click(V(second))  # a different line: the engine's board is replayed
        game.wait_engine(60)
        assert player.client.send(f"color {second}") == "black"
        assert player.client.send(f"color {first}") != "black"
        assert game.position.board[V(second)] == BLACK
    finally:
        game.close()
    assert not player.client.alive


def test_close_while_the_engine_is_busy_kills_it(gnugo_path):
    player = ExternalGtpPlayer(f"{gnugo_path} --mode gtp")
    with player._lock:  # as if a genmove were running in the GUI's worker thread
        player.close()  # must not wait for the lock
        assert player.client.process.wait(10) is not None
    player.close()  # and again, harmlessly


def test_scoring_phase_with_gnugo(gnugo_path, tmp_path):
    """At its default level GNU Go sees the lone white stone in Black's area as dead."""
    player = ExternalGtpPlayer(f"{gnugo_path} --mode gtp")
    game = GameController(player, GameSettings(), SearchLimits(seconds=1), games_dir=tmp_path)
    try:
        game.set_position(Position.from_ascii(DEAD_C7, komi=7.5).play(PASS, WHITE))
        game.pass_move()
        assert game.phase == SCORING
        game.wait_engine(60)
        assert game.dead == {V("C7")} and np.isclose(game.score()[2], 1.5)
    finally:
        game.close()
