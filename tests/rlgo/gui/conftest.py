"""GUI tests draw into memory: SDL's dummy video driver, set before pygame is imported.

RLGO_DOCS_SCREENSHOTS=1 makes the screenshot tests also write docs/gui-*.png (the committed
pictures, reduced to a 128-colour palette with Pillow where it is installed, which keeps each
near 60 kB instead of 150); otherwise they write into pytest's tmp dir only."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

DOCS = Path(__file__).resolve().parents[3] / "docs"
WINDOW = (900, 660)  # make_app's window


@pytest.fixture
def shots(tmp_path):
    """save(app, name): a screenshot into tmp_path (and docs/ with RLGO_DOCS_SCREENSHOTS=1)."""

    def save(app, name: str) -> Path:
        path = app.screenshot(tmp_path / name)
        if os.environ.get("RLGO_DOCS_SCREENSHOTS") == "1":
            try:
                from PIL import Image
            except ImportError:  # Pillow comes with matplotlib; without it, the full PNG
                app.screenshot(DOCS / name)
            else:
                image = Image.open(path).convert("RGB")
                image.quantize(128, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
                    DOCS / name, optimize=True)
        return path

    return save


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    """make(player, limits=50 visits, window=WINDOW, **GameSettings) -> an App, closed after
    the test."""
    from agents.alphago.search.player import SearchLimits
    from rlgo.gui.app import App
    from rlgo.gui.controller import GameController
    from rlgo.gui.game import GameSettings

    # the default games folder, relative, as a user in a clone sees it (and the screenshots show)
    monkeypatch.chdir(tmp_path)
    apps = []

    def make(player, limits=None, window=WINDOW, **settings):
        limits = limits or SearchLimits(visits=50)
        game = GameController(player, GameSettings(**settings), limits, analysis_seconds=5)
        apps.append(App(game, window))
        return apps[-1]

    yield make
    for app in apps:
        app.close()
