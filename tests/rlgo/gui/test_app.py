"""The pygame window, drawn by SDL's dummy driver (see conftest.py): real events go into
pygame's queue and App.step() runs frames; the game state and the pixels are checked, and
screenshots are saved (docs/gui-*.png with RLGO_DOCS_SCREENSHOTS=1)."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import pygame
import pytest

from agents.alphago.search.player import MoveInfo, RandomPlayer, SearchLimits
from envs.go import BLACK, PASS, WHITE, Position, from_gtp
from rlgo.commands import play
from rlgo.gui.app import App
from rlgo.gui.controller import OVER, PLAY, SCORING, GameController
from rlgo.gui.game import ILLEGAL_MESSAGES, GameSettings
from rlgo.gui.layout import MIN_WINDOW, Layout
from rlgo.gui.panel import MESSAGE_COLORS, PanelView
from rlgo.players import build_player

from .helpers import ScriptedPlayer

WINDOW = (900, 660)
FAST = SearchLimits(visits=50)


def V(vertex: str, size: int = 9) -> int:  # noqa: N802
    return from_gtp(vertex, size)


def click(app: App, point: int | None = None, pos=None, button: int = 1) -> None:
    pos = app.point_pixel(point) if pos is None else pos
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=button))
    app.step()


def press(app: App, key: int, mod: int = 0) -> bool:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=mod, unicode=""))
    return app.step()


def settle(app: App, limit: float = 30.0) -> None:
    """Run frames until the engine is idle."""
    deadline = time.monotonic() + limit
    app.step()
    while app.game.busy:
        assert time.monotonic() < deadline, "the engine did not finish"
        time.sleep(0.01)
        app.step()


def pixel(app: App, point: int, dx: float = 0.0, dy: float = 0.0) -> tuple[int, int, int]:
    """The colour at `point`, offset by dx, dy stone radii."""
    x, y = app.point_pixel(point)
    r = app.layout.grid.stone_radius
    return tuple(app.screen.get_at((round(x + dx * r), round(y + dy * r))))[:3]


def is_wood(rgb) -> bool:
    r, g, b = rgb
    return 185 <= r <= 245 and 140 <= g <= 205 and 70 <= b <= 140 and r > g > b


def test_midgame_clicks_stones_and_pixels(make_app, shots):
    app = make_app(build_player("mcts", 9, seed=2, threads=1))
    game = app.game
    for vertex in ("C3", "G7", "C6", "F3", "E5", "D7"):
        if not game.position.board[V(vertex)]:
            click(app, V(vertex))
            assert game.position.board[V(vertex)] == BLACK
            settle(app)
    board = game.position.board
    assert game.position.move_number >= 8 and game.winrate_history
    black = next(p for p in range(81) if board[p] == BLACK)
    white = next(p for p in range(81) if board[p] == WHITE)
    empty = next(p for p in [V(v) for v in ("E3", "D4", "F6", "E7", "D3")] + list(range(81))
                 if board[p] == 0 and game.is_legal(p))
    assert max(pixel(app, black, 0.45, 0.45)) < 80  # dark
    assert min(pixel(app, white, 0.45, 0.45)) > 170  # light
    assert is_wood(pixel(app, empty, 0.6, 0.6))  # between the lines of an empty point
    press(app, pygame.K_a)  # analysis: numbered candidates on the board
    assert game.analysis_on
    deadline = time.monotonic() + 10
    while not game.candidates() and time.monotonic() < deadline:
        time.sleep(0.05)
        app.step()
    time.sleep(0.5)
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=app.point_pixel(empty),
                                         rel=(0, 0), buttons=(0, 0, 0)))
    app.step()
    assert game.candidates()
    shots(app, "gui-midgame.png")
    press(app, pygame.K_a)
    assert not game.analysis_on


def test_illegal_move_message(make_app, shots):
    app = make_app(ScriptedPlayer())
    game = app.game
    ko = Position.from_ascii("""
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . X O . . . .
        . . X . X O . . .
        . . . X O . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
    """, komi=7.5, to_play=WHITE).play(V("D5"))  # White takes the ko
    game.set_position(ko)
    click(app, V("E5"))  # Black retakes at once: illegal
    assert game.message == ILLEGAL_MESSAGES["ko"] and game.position is ko
    bar = app.layout.message
    assert app.screen.get_at((bar.right - 3, bar.centery))[:3] == MESSAGE_COLORS["error"]
    shots(app, "gui-illegal.png")
    click(app, V("E4"))  # occupied
    assert game.message == ILLEGAL_MESSAGES["occupied"]


def test_keys_buttons_and_new_game_dialog(make_app, tmp_path):
    app = make_app(ScriptedPlayer(moves=[V("G7")]))
    game = app.game
    click(app, V("C3"))
    settle(app)
    assert game.position.move_number == 2
    press(app, pygame.K_u)
    assert game.position.move_number == 0
    click(app, pos=app.layout.buttons["undo"].center)
    assert game.message_kind == "error"  # nothing left to undo
    press(app, pygame.K_t)
    assert game.limits.seconds == 1.0
    press(app, pygame.K_t, pygame.KMOD_LSHIFT)
    assert game.limits.seconds == 0.5
    click(app, pos=app.layout.buttons["time"].center, button=3)
    assert game.limits.seconds == 60.0
    press(app, pygame.K_s)
    saved = list(Path("runs/games").glob("*.sgf"))
    assert len(saved) == 1 and str(saved[0]) in game.message
    press(app, pygame.K_l)
    assert game.message.startswith("Loaded")
    press(app, pygame.K_n)  # the new-game dialog
    assert app.dialog is not None
    press(app, pygame.K_ESCAPE)  # closes the dialog, does not quit
    assert app.dialog is None and app.running
    click(app, pos=app.layout.buttons["new"].center)
    buttons = app.layout.dialog_buttons
    click(app, pos=buttons["size+"].center)
    click(app, pos=buttons["color+"].center)
    click(app, pos=buttons["handicap+"].center)
    assert app.dialog == GameSettings(size=13, human=WHITE, komi=0.5, handicap=2)
    press(app, pygame.K_RETURN)
    assert app.dialog is None and game.position.rules.size == 13 and app.layout.size == 13
    assert game.human == WHITE and game.phase == PLAY
    assert game.human_to_move  # White moves first in a handicap game
    click(app, V("G7", 13))
    assert game.position.board[V("G7", 13)] == WHITE
    assert not press(app, pygame.K_q)


def test_resize_keeps_the_board_square(make_app):
    app = make_app(ScriptedPlayer())
    for size in ((700, 900), (1400, 700), (300, 200)):
        pygame.event.post(pygame.event.Event(pygame.VIDEORESIZE, size=size, w=size[0],
                                             h=size[1]))
        app.step()
        width, height = app.screen.get_size()
        assert (width, height) == (max(size[0], MIN_WINDOW[0]), max(size[1], MIN_WINDOW[1]))
        board = app.layout.board
        assert board.width == board.height and board.right <= app.layout.panel.left
        assert board.bottom <= app.layout.message.top
        for p in (0, 40, 80):
            assert app.layout.grid.point_at(*app.point_pixel(p)) == p
    click(app, V("E5"))
    assert app.game.position.board[V("E5")] == BLACK


def test_quit_while_the_engine_thinks(make_app):
    """q mid-move closes at once, and the engine's search stops at its next batch instead of
    running out its 30 s (its rollout threads would keep the process alive that long)."""
    app = make_app(build_player("mcts", 9, seed=0, threads=2), SearchLimits(seconds=30))
    click(app, V("E5"))
    assert app.game.thinking
    worker = app.game._job.worker
    start = time.monotonic()
    assert not press(app, pygame.K_q)
    app.close()  # does not wait for the search
    assert time.monotonic() - start < 1.0 and worker.thread.daemon
    assert worker.wait(5.0)  # stopped cooperatively, long before its time limit


def test_whole_game_by_clicks_to_the_score(make_app, shots):
    """Scripted clicks (a random but sensible human) against the engine with 50 visits a
    move, both pass, the engine's dead stones confirmed, the score shown."""
    app = make_app(build_player("mcts", 9, seed=4, threads=1))
    game, script = app.game, RandomPlayer(seed=11)
    human_moves = 0
    for _ in range(400):
        if game.phase == OVER:
            break
        if game.phase == SCORING:
            settle(app)
            if game.dead:  # toggle a dead group alive and back: the same proposal again
                proposal = set(game.dead)
                stone = min(game.dead)
                click(app, stone)
                assert stone not in game.dead
                click(app, stone)
                assert game.dead == proposal
            press(app, pygame.K_RETURN)
            continue
        if game.human_to_move:
            move = script.genmove(game.position).move if human_moves < 25 else PASS
            human_moves += 1
            if move == PASS:
                press(app, pygame.K_p)
            else:
                click(app, move)
                assert game.position.last_move == move
        settle(app)
    assert game.phase == OVER and game.position.passes >= 2
    assert game.result == game.scored_position().result()
    assert game.message.startswith(f"Game over: {game.result}")
    assert game.message_kind == "result"
    bar = app.layout.message
    app.step()
    assert app.screen.get_at((bar.right - 3, bar.centery))[:3] == MESSAGE_COLORS["result"]
    shots(app, "gui-score.png")


def test_new_game_on_another_size_rebuilds_the_engine(tmp_path, capsys):
    """A policy net reads one board size: the dialog's New game builds the engine again for
    13x13, then 19x19, each with its own size's shipped net, and its moves and analysis work."""
    parser = play.register(argparse.ArgumentParser().add_subparsers())
    make_player = play.player_factory(parser.parse_args(["--threads", "1", "--seed", "3"]))
    first = make_player(9)
    game = GameController(first, GameSettings(size=9), SearchLimits(visits=16),
                          games_dir=tmp_path, analysis_seconds=5, make_player=make_player)
    app = App(game, WINDOW)
    capsys.readouterr()
    try:
        for size, vertex in ((13, "G7"), (19, "Q16")):
            player = game.player
            click(app, pos=app.layout.buttons["new"].center)
            click(app, pos=app.layout.dialog_buttons["size+"].center)
            press(app, pygame.K_RETURN)
            assert game.position.rules.size == size and game.player is not player
            assert f"policy_{size}x{size}.pt" in capsys.readouterr().err  # the engine line
            press(app, pygame.K_a)  # analysis of the new board, then a move and the reply
            deadline = time.monotonic() + 120  # room for compiling on a cold numba cache
            while not game.candidates() and game.message_kind != "error":
                assert time.monotonic() < deadline, "no analysis"
                app.step()
                time.sleep(0.02)
            press(app, pygame.K_a)
            click(app, V(vertex, size))
            settle(app, 120)
            assert game.message_kind != "error", game.message
            assert game.position.move_number == 2 and not game.engine_failed
    finally:
        app.close()


def test_engine_errors_also_go_to_stderr(make_app, capsys):
    app = make_app(ScriptedPlayer(error=RuntimeError("the engine broke")))
    click(app, V("C3"))
    settle(app)
    assert app.game.engine_failed and "the engine broke" in app.game.message
    err = capsys.readouterr().err
    assert "engine error (genmove)" in err and "RuntimeError: the engine broke" in err


def test_status_lines_fit_the_smallest_window(tmp_path, monkeypatch):
    """The bold status line stays whole beside the thinking indicator at MIN_WINDOW: thinking,
    compiling, failed, scoring, over."""
    from rlgo import warmup
    from rlgo.gui.panel import STATUS_ROOM, status_line

    monkeypatch.setattr(warmup, "cold", lambda: True)
    gate = threading.Event()
    player = ScriptedPlayer(moves=[PASS], gate=gate)
    game = GameController(player, GameSettings(human=WHITE), FAST, games_dir=tmp_path,
                          make_player=lambda size: player)
    app = App(game, MIN_WINDOW)
    seen = []
    try:
        app.step()
        assert game.compiling and "first run only" in game.message
        seen.append(status_line(game))
        gate.set()
        settle(app)
        assert not game.compiling and game.human_to_move
        seen.append(status_line(game))
        player.error = RuntimeError("broken")
        click(app, V("C3"))
        settle(app)
        assert game.engine_failed
        seen.append(status_line(game))
        game.set_position(Position.new(game.settings.rules()).play(PASS).play(PASS))
        settle(app)
        seen.append(status_line(game))
        game.accept_score()
        seen.append(status_line(game))
    finally:
        app.close()
    assert seen[0] == "Compiling, first run only"
    room = app.layout.info.width - STATUS_ROOM
    assert all(app.panel.bold.size(line)[0] <= room for line in seen), seen


class AnalysingPlayer(ScriptedPlayer):
    """Reports one candidate with a fixed win rate (for the player to move) when analysing."""

    def __init__(self, analysis_winrate: float, **kwargs):
        super().__init__(**kwargs)
        self.analysis_winrate = analysis_winrate

    def analyze(self, position, report, stop, interval):
        report([MoveInfo(V("C3"), 40, self.analysis_winrate, 0.1, 0.4)])
        stop.wait()


def test_header_list_and_graph_show_one_win_rate(make_app):
    """The header's win rate is the analysis list's first line (there for the mover) and the
    graph's last point, once analysis of the current position has a candidate; before, it is
    the engine's last search. Before the fix the header kept the engine's older 49%."""
    app = make_app(AnalysingPlayer(0.52, moves=[V("E5")], winrate=0.51), human=WHITE)
    game = app.game
    game.wait_engine()
    assert game.black_winrate() == pytest.approx(0.51)  # the engine (Black) as it moved
    assert PanelView._winrate_line(game) == "Win rate: B 51%, W 49%"
    press(app, pygame.K_a)
    deadline = time.monotonic() + 5
    while not game.candidates() and time.monotonic() < deadline:
        app.step()
    app.step()
    assert game.candidates()[0].winrate == 0.52  # White's, the player to move
    assert game.black_winrate() == pytest.approx(0.48)
    assert PanelView._winrate_line(game) == "Win rate: B 48%, W 52%"
    worst = "Win rate: B 100%, W 100%"  # whole in the smallest window's panel
    assert app.panel.font.size(worst)[0] <= Layout(*MIN_WINDOW, 19).info.width
    assert game.winrate_history[-1] == (game.position.move_number, pytest.approx(0.48))


@pytest.mark.parametrize("window", [MIN_WINDOW, WINDOW])
def test_winrate_graph_has_labelled_axes(tmp_path, window):
    """0%, 50%, 100% and the move numbers are drawn inside the graph, none over another,
    down to the smallest window; the curve is drawn too."""
    game = GameController(ScriptedPlayer(), GameSettings(), FAST, games_dir=tmp_path)
    game.winrate_history = [(0, 0.5), (1, 0.56), (2, 0.47), (3, 0.62), (4, 0.58)]
    app = App(game, window)
    try:
        app.step()
        rect = app.layout.graph
        labels = app.panel._graph(app.screen, rect, game)
        app.screenshot(tmp_path / "graph.png")
        frame = app.screen.copy()
    finally:
        app.close()
    assert {"0%", "50%", "100%", "move 0", "move last"} <= labels.keys()
    boxes = list(labels.values())
    assert all(rect.contains(box) for box in boxes), (rect, labels)
    assert not any(a.colliderect(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    background = frame.map_rgb((24, 25, 30))
    pixels = pygame.PixelArray(frame)
    try:
        for box in boxes:  # something drawn in each label's box
            assert any(pixels[x, y] != background for x in range(box.left, box.right)
                       for y in range(box.top, box.bottom)), box
    finally:
        pixels.close()
