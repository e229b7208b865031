"""Panel text at every window size: the fonts grow with the window, and at any size each line
of the panel stays whole, inside its area (status lines, buttons, candidate list, graph,
footer) and off every other line; the areas do not overlap. Checked while playing with the
engine's candidates listed, while scoring (the seventh status line) and while reviewing."""

from __future__ import annotations

import pygame
import pytest

from agents.alphago.search.player import SearchLimits
from envs.go import PASS, from_gtp
from rlgo.gui.app import App
from rlgo.gui.controller import GameController
from rlgo.gui.game import GameSettings
from rlgo.gui.layout import MIN_WINDOW

from .helpers import ViewPlayer

WINDOWS = [MIN_WINDOW, (700, 500), (900, 660), (1400, 1000)]
PANEL_AREAS = ("info", "button", "analysis", "graph", "footer")


def V(vertex: str) -> int:  # noqa: N802
    return from_gtp(vertex, 9)


def panel_lines(app: App, state: str) -> None:
    """Bring the game to `state` (playing, scoring, reviewing), draw a frame, and check the
    panel's lines."""
    game = app.game
    game.click(V("C3"))
    game.wait_engine()
    game.click(V("E5"))
    game.wait_engine()
    if state == "scoring":
        game.pass_move()
        game.wait_engine()  # the engine passes, then marks dead stones
        game.wait_engine()
    elif state == "reviewing":
        game.review_step(-1)
    app.step()
    layout, drawn = app.layout, app.panel.drawn
    areas = {"info": [layout.info], "button": list(layout.buttons.values()),
             "analysis": [layout.analysis], "graph": [layout.graph], "footer": [layout.footer]}
    lines = [d for d in drawn if d.area in PANEL_AREAS]
    assert {d.area for d in lines} == set(PANEL_AREAS)
    assert len([d for d in lines if d.area == "analysis"]) >= 3  # a head and candidates
    for d in lines:
        assert not d.shortened, (state, d)
        assert any(area.contains(d.rect) for area in areas[d.area]), (state, d, areas[d.area])
    for i, a in enumerate(lines):
        for b in lines[i + 1:]:
            assert not a.rect.colliderect(b.rect), (state, a, b)
    boxes = [layout.info, *layout.buttons.values(), layout.analysis, layout.graph,
             layout.footer]
    for i, a in enumerate(boxes):
        assert layout.panel.contains(a), a
        assert not any(a.colliderect(b) for b in boxes[i + 1:]), a
    message = [d for d in drawn if d.area == "message"]
    assert message and layout.message.contains(message[0].rect)


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("state", ["playing", "scoring", "reviewing"])
def test_panel_text_is_whole_inside_its_area_and_apart(tmp_path, monkeypatch, window, state):
    monkeypatch.chdir(tmp_path)  # the games folder as the user sees it: runs/games/
    player = ViewPlayer(moves=[V("G7"), V("C7"), PASS])
    game = GameController(player, GameSettings(), SearchLimits(visits=10), games_dir="runs/games")
    app = App(game, window)
    try:
        panel_lines(app, state)
    finally:
        app.close()


def test_fonts_grow_with_the_window(tmp_path):
    """Header, panel, list, status and graph labels: one scale, larger in a larger window;
    the board's coordinates grow with the board."""
    game = GameController(ViewPlayer(), GameSettings(), SearchLimits(visits=10),
                          games_dir=tmp_path)
    app = App(game, WINDOWS[0])
    sizes = []
    try:
        for window in WINDOWS:
            pygame.event.post(pygame.event.Event(pygame.VIDEORESIZE, size=window, w=window[0],
                                                 h=window[1]))
            app.step()
            status = next(d for d in app.panel.drawn if d.area == "info")
            graph = [d for d in app.panel.drawn if d.area == "graph"]
            sizes.append((app.panel.font.get_height(), app.panel.bold.get_height(),
                          app.panel.small.get_height(), status.rect.height,
                          max(d.rect.height for d in graph), app.layout.message.height,
                          app.layout.line))
    finally:
        app.close()
    small, _, base, large = sizes
    assert sizes[0] == sizes[1]  # 640x480 and 700x500: the smallest fonts that fit
    assert all(s < b for s, b in zip(small, base, strict=True)), sizes
    assert all(b * 1.3 < g for b, g in zip(base, large, strict=True)), sizes
