"""Review mode: stepping through the game (Left/Right/Home/End and the < Back / Forward >
buttons), the board showing that position with the engine's view of it (recorded while
playing, else analysed on demand), the graph's marker, moves refused until End; also after
scoring and for a loaded SGF. The screenshots docs/gui-review.png and docs/gui-19x19.png."""

from __future__ import annotations

import time

import pygame
import pytest

from agents.alphago.search.player import SearchLimits
from envs.go import BLACK, PASS, WHITE, from_gtp
from rlgo.gui.app import App
from rlgo.gui.controller import OVER, PLAY
from rlgo.gui.panel import MARKER, PanelView, status_line
from rlgo.players import build_player

from .helpers import ViewPlayer, candidates_for


def V(vertex: str, size: int = 9) -> int:  # noqa: N802
    return from_gtp(vertex, size)


def press(app: App, key: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
    app.step()


def click(app: App, pos) -> None:
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))
    app.step()


def frames_until(app: App, done, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    app.step()
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
        app.step()


@pytest.fixture
def app_with(make_app):
    """make_app (conftest.py) under this module's name."""
    return make_app


def played(app: App, vertices: list[str]) -> None:
    """The human plays `vertices`, the engine answers each."""
    for vertex in vertices:
        click(app, app.point_pixel(V(vertex, app.game.position.rules.size)))
        frames_until(app, lambda: not app.game.busy)


def test_review_steps_show_recorded_views_and_refuse_moves(app_with):
    app = app_with(ViewPlayer(moves=[V("G7"), V("C7"), V("G3")]))
    game = app.game
    played(app, ["C3", "E5", "F4"])
    live = game.position
    assert live.move_number == 6 and not game.reviewing
    press(app, pygame.K_LEFT)  # the engine's view of move 5 (its search before its reply)
    assert game.reviewing and game.shown is live.parent and game.position is live
    assert game.candidates() == candidates_for(live.parent)
    assert game.winrate_at(5) == pytest.approx(1 - candidates_for(live.parent)[0].winrate)
    assert status_line(game) == "Reviewing move 5 of 6"
    assert PanelView._winrate_line(game) == "Win rate: B 55%, W 45%"  # Black's, after move 5
    assert game.shown.board[V("G3")] == 0 and live.board[V("G3")] == WHITE  # drawn: G3 empty
    x, y = app.point_pixel(V("G3"))
    r = app.layout.grid.stone_radius // 2
    assert min(app.screen.get_at((x + r, y + r))[:3]) < 150  # wood, not a white stone
    press(app, pygame.K_END)
    assert min(app.screen.get_at((x + r, y + r))[:3]) > 170
    press(app, pygame.K_LEFT)
    graph = app.layout.graph
    assert any(tuple(app.screen.get_at((x, y))[:3]) == MARKER
               for x in range(graph.left, graph.right) for y in range(graph.top, graph.bottom))
    click(app, app.point_pixel(V("D4")))  # no move while an earlier position shows
    assert game.position is live and game.message_kind == "error" and "End" in game.message
    press(app, pygame.K_p)
    assert game.position is live
    press(app, pygame.K_HOME)
    assert game.shown.move_number == 0 and not game.shown.board.any()
    press(app, pygame.K_LEFT)  # nothing before the first position
    assert game.shown.move_number == 0
    click(app, app.layout.buttons["forward"].center)
    assert game.shown.move_number == 1 and game.shown.board[V("C3")] == BLACK
    press(app, pygame.K_END)
    assert not game.reviewing and game.shown is live
    press(app, pygame.K_LEFT)
    click(app, app.layout.buttons["back"].center)
    assert game.shown.move_number == 4
    press(app, pygame.K_RIGHT)
    press(app, pygame.K_RIGHT)  # past the last move: the live game again
    assert not game.reviewing
    played(app, ["D4"])  # and moves are played again
    assert game.position.move_number == 8


def test_review_while_the_engine_thinks_keeps_the_live_game(app_with):
    import threading

    gate = threading.Event()
    app = app_with(ViewPlayer(moves=[V("G7")], gate=gate))
    game = app.game
    click(app, app.point_pixel(V("C3")))
    assert game.thinking
    press(app, pygame.K_LEFT)
    assert game.shown.move_number == 0
    gate.set()
    frames_until(app, lambda: not game.busy)
    assert game.position.move_number == 2 and game.shown.move_number == 0  # still reviewing
    press(app, pygame.K_u)  # undo acts on the live game and leaves review
    assert not game.reviewing and game.position.move_number == 0


def test_loaded_game_is_analysed_on_demand(app_with, tmp_path):
    """A loaded SGF has no recorded views: the reviewed position is analysed (once the engine
    is idle), its candidates and win rate kept, and End goes back to the live analysis."""
    app = app_with(ViewPlayer(moves=[V("G7"), V("C7")]))
    game = app.game
    played(app, ["C3", "E5"])
    path = game.save_sgf(tmp_path / "g.sgf")
    game.load_sgf(path)
    assert game.winrate_history == [] and game.views == {}
    press(app, pygame.K_LEFT)
    press(app, pygame.K_LEFT)
    reviewed = game.shown
    assert reviewed.move_number == 2
    frames_until(app, lambda: game.candidates())
    assert game.player.analysed[-1] is reviewed
    assert game.candidates() == candidates_for(reviewed)
    assert game.views[2] == candidates_for(reviewed)
    assert game.winrate_at(2) == pytest.approx(candidates_for(reviewed)[0].winrate)  # Black's
    press(app, pygame.K_RIGHT)  # move 3: analysed in turn; move 2's view is kept
    frames_until(app, lambda: game.candidates())
    assert game.views.keys() == {2, 3}
    press(app, pygame.K_LEFT)
    app.step()
    assert game.player.analysed.count(reviewed) == 1  # recorded: not searched again
    press(app, pygame.K_END)
    app.step()
    assert game._analysis is None  # analysis is off for the live game: nothing searches


def test_finished_game_can_be_reviewed(app_with):
    app = app_with(ViewPlayer(moves=[V("G7"), PASS]))
    game = app.game
    played(app, ["C3"])
    press(app, pygame.K_p)  # the engine passes back: scoring
    frames_until(app, lambda: not game.busy)
    press(app, pygame.K_RETURN)
    assert game.phase == OVER
    result = game.result
    press(app, pygame.K_LEFT)
    press(app, pygame.K_LEFT)
    assert game.shown.move_number == 2 and game.shown.passes == 0
    assert game.phase == OVER and game.result == result
    press(app, pygame.K_END)
    assert game.shown is game.position and game.phase == OVER


def test_review_screenshot(app_with, shots):
    """A real engine's game reviewed at an earlier move: its candidates on the board and in
    the list, the graph's marker (docs/gui-review.png)."""
    app = app_with(build_player("mcts", 9, seed=5, threads=1))
    game = app.game
    played(app, ["C3", "G7", "C6", "F3", "G5", "D7"])
    assert game.phase == PLAY and len(game.winrate_history) >= 6
    press(app, pygame.K_LEFT)
    press(app, pygame.K_LEFT)
    press(app, pygame.K_LEFT)  # move 9: the engine's view as it chose its reply
    assert game.shown.move_number == game.position.move_number - 3
    frames_until(app, lambda: game.candidates())
    assert game.shown.move_number % 2 == 1 and game.views[game.shown.move_number]
    shots(app, "gui-review.png")


def test_19x19_screenshot(app_with, shots):
    """Normal play on 19x19: the engine's reply and what it weighed (docs/gui-19x19.png)."""
    app = app_with(build_player("mcts", 19, seed=1, threads=1), SearchLimits(visits=150),
                   size=19)
    game = app.game
    played(app, ["D4", "Q16", "D16", "R4", "K10"])
    app.step()
    assert game.position.rules.size == 19 and game.position.move_number == 10
    assert game.decision.candidates and len(game.winrate_history) == 5
    shots(app, "gui-19x19.png")
