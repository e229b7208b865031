"""The GUI's pondering (o) and territory overlay (e), issue 20: the keys flip them, the
overlay draws the search's ownership on the board (pixels, and docs/gui-territory.png with
RLGO_DOCS_SCREENSHOTS=1), nothing is drawn for a player without ownership, and pondering
feeds the engine's next move and stops when the human moves."""

from __future__ import annotations

import time

import numpy as np
import pygame

from agents.alphago.search.player import SearchLimits
from envs.go import BLACK, WHITE, Position
from rlgo.commands import play
from rlgo.gui.app import App
from rlgo.gui.controller import GameController
from rlgo.gui.game import GameSettings
from rlgo.gui.layout import MIN_WINDOW
from rlgo.gui.panel import STATUS_ROOM, status_line
from rlgo.gui.ponder import PONDER_ON, TERRITORY_ON
from rlgo.gui.view import OWNERSHIP_MIN
from rlgo.players import build_player

from .helpers import ScriptedPlayer
from .test_app import FAST, V, click, is_wood, pixel, press, settle

VISITS = 50  # the engine's search per move: what pondering must add to


def run_frames(app: App, seconds: float, until=lambda: False) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        time.sleep(0.05)
        app.step()


def test_keys_flip_the_switches_and_no_ownership_draws_nothing(make_app):
    app = make_app(ScriptedPlayer())
    game = app.game
    empty = V("E5")
    app.step()
    before = pixel(app, empty, 0.3, 0.3)
    press(app, pygame.K_o)
    assert game.ponder_on and game.message == PONDER_ON
    assert game.pondering and "ponders" in status_line(game)  # the worker runs on our turn
    press(app, pygame.K_e)
    assert game.territory_on and "reports no ownership" in game.message
    run_frames(app, 0.3)
    assert game.ownership() is None
    assert pixel(app, empty, 0.3, 0.3) == before and is_wood(before)
    press(app, pygame.K_o)
    press(app, pygame.K_e)
    assert not game.ponder_on and not game.territory_on and not game.pondering
    assert game._analysis is None  # nothing left searching
    assert "keys p u n s l a o e t q" in [d.text for d in app.panel.drawn
                                          if d.area == "footer"][1]


def test_status_line_fits_the_smallest_window_while_pondering(tmp_path):
    game = GameController(ScriptedPlayer(), GameSettings(human=WHITE), FAST, games_dir=tmp_path)
    game.ponder_on = True
    app = App(game, MIN_WINDOW)
    try:
        settle(app)
        app.step()
        line = status_line(game)
    finally:
        app.close()
    assert line == "Your move (white), it ponders"
    assert app.panel.bold.size(line)[0] <= app.layout.info.width - STATUS_ROOM


def test_territory_overlay_draws_the_search_ownership(make_app, shots):
    app = make_app(build_player("mcts", 9, seed=2, threads=1))
    game = app.game
    # two walls: Black's on column C, White's on G (and a White stone inside Black's side):
    # the left is Black's, the right White's, E in between open
    walls = {BLACK: [V(f"C{row}") for row in range(1, 10)] + [V("D5")],
             WHITE: [V(f"G{row}") for row in range(1, 10)] + [V("B5")]}
    start = Position.new(game.settings.rules()).with_stones(black=walls[BLACK],
                                                            white=walls[WHITE], to_play=BLACK)
    assert game.set_position(start)
    press(app, pygame.K_e)
    assert game.territory_on and game.message == TERRITORY_ON
    run_frames(app, 10, until=lambda: game.ownership() is not None)
    run_frames(app, 1.0)  # a few reports: a steadier estimate
    game._analysis.stop(wait=5.0)  # its last ownership stays, and is what the frame draws
    app.step()
    owned = game.ownership()
    assert owned is not None and owned.shape == (81,)
    board = game.position.board
    checked = 0
    for p in np.flatnonzero((board == 0) & (np.abs(owned) >= 0.6)):
        rgb = pixel(app, int(p), 0.1, 0.1)  # inside the point's square
        assert (max(rgb) < 80) if owned[p] > 0 else (min(rgb) > 170), (int(p), owned[p], rgb)
        checked += 1
    assert checked >= 5
    for p in np.flatnonzero((board == 0) & (np.abs(owned) < OWNERSHIP_MIN)):
        assert is_wood(pixel(app, int(p), 0.1, 0.1))  # open points stay bare
    assert np.any(owned > 0.6) and np.any(owned < -0.6)  # both sides own something
    assert owned[V("B5")] > 0.6 and max(pixel(app, V("B5"), 0.1, 0.1)) < 80  # a dead stone
    assert min(pixel(app, V("G5"), 0.1, 0.1)) > 170  # a living stone: no square, itself
    shots(app, "gui-territory.png")
    press(app, pygame.K_e)
    app.step()
    assert game.ownership() is None


def reply_root_visits(make_app, ponder: bool, move: int | None = None) -> tuple[int, int]:
    """The human's first move after 0.6 s of thought (default: the ponder's favourite), then
    the visits at the root of the engine's reply; (visits, move). Not much longer: one search
    thread fills the tree to pondering's stop (gtp.ponder.FULL) in about 1.5 s on 9x9."""
    app = make_app(build_player("mcts", 9, seed=5, threads=1), limits=SearchLimits(visits=VISITS))
    game = app.game
    game.ponder_on = ponder
    run_frames(app, 0.6)
    worker = game._analysis
    if ponder:
        assert game.pondering and worker.candidates and not game.candidates()  # unseen
        move = worker.candidates[0].move if move is None else move
    else:
        assert worker is None
    click(app, move)
    if ponder:
        worker.thread.join(2.0)
        assert not worker.running  # the human moved: pondering stopped
    settle(app)
    assert game.position.to_play == BLACK and game.decision is not None
    return sum(c.visits for c in game.decision.candidates), move


def test_pondering_feeds_the_engines_next_move_and_stops_when_the_human_moves(make_app):
    pondered, move = reply_root_visits(make_app, ponder=True)
    plain, _ = reply_root_visits(make_app, ponder=False, move=move)
    assert plain <= VISITS + 1  # a new game's tree: only the reply's own search
    assert pondered > 2 * plain, (plain, pondered)


def test_play_flags_switch_them_on():
    parser = play.argparse.ArgumentParser(prog="rlgo go")
    play.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["play", "--ponder", "--territory"])
    assert args.ponder and args.territory
    args = parser.parse_args(["play"])
    assert not args.ponder and not args.territory
