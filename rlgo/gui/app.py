"""The window and its event loop.

`App.step()` is one frame: handle the queued events, let the controller poll the engine, draw,
flip. `run()` repeats it at a steady frame rate until the window closes. Tests post real pygame
events (with SDL_VIDEODRIVER=dummy) and call step() themselves, or call handle(event).

Mouse: click a point to play (or, when scoring, to mark a group dead or alive), click the
panel's buttons; right-click "Time" for less time. Keys: p pass, u undo, n new game, s save,
l load, a analysis, o pondering (thinking on your time), e territory (the search's
ownership), t / T more / less time, Enter accept the score, q or Escape quit.
Review (any time, also after the game or for a loaded one): Left / Right a move back /
forward (the < Back and Forward > buttons), Home the first position, End the live game.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import pygame

from envs.errors import UserError
from envs.go import max_fixed_handicap

from .controller import SCORING, GameController
from .game import SIZES, GameSettings
from .layout import MIN_WINDOW, Layout
from .panel import PanelView
from .view import BoardView

DEFAULT_WINDOW = (1060, 760)


class DisplayUnavailable(UserError):
    """No window can be opened (no X/Wayland display, or SDL found no video device)."""


def open_window(size: tuple[int, int]) -> pygame.Surface:
    """Initialise pygame's display and open a resizable window; DisplayUnavailable when there
    is no display. SDL_VIDEODRIVER=dummy (tests) draws into memory without one."""
    if (not os.environ.get("SDL_VIDEODRIVER") and sys.platform.startswith("linux")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))):
        raise DisplayUnavailable("no display: DISPLAY is not set (run it on a desktop, "
                                 "with ssh -X, or under xvfb-run)")
    try:
        pygame.display.init()
        pygame.font.init()
        screen = pygame.display.set_mode(size, pygame.RESIZABLE)
    except pygame.error as err:
        raise DisplayUnavailable(f"cannot open a window: {err}") from None
    pygame.display.set_caption("rlgo: play Go")
    return screen


class App:
    """One window playing one GameController."""

    def __init__(self, game: GameController, size: tuple[int, int] = DEFAULT_WINDOW):
        self.game = game
        self.screen = open_window(size)
        self.layout = Layout(*self.screen.get_size(), game.position.rules.size)
        self.board_view = BoardView()
        self.panel = PanelView()
        self.running = True
        self.dialog: GameSettings | None = None  # the new-game dialog's settings, when open
        self.mouse: tuple[int, int] | None = None
        self.frames = 0

    # ---- the loop ------------------------------------------------------------------------------

    def run(self, fps: int = 30) -> None:
        clock = pygame.time.Clock()
        while self.step():
            clock.tick(fps)

    def step(self, events: list[pygame.event.Event] | None = None) -> bool:
        """One frame; False once the user quit."""
        for event in pygame.event.get() if events is None else events:
            self.handle(event)
        self.game.poll()
        if self.layout.size != self.game.position.rules.size:
            self.relayout()
        self.draw()
        pygame.display.flip()
        self.frames += 1
        return self.running

    def draw(self) -> None:
        self.screen.fill((30, 30, 34))
        hover = None
        if self.mouse is not None and self.dialog is None:
            hover = self.layout.grid.point_at(*self.mouse)
        self.board_view.draw(self.screen, self.layout, self.game, hover)
        self.panel.draw(self.screen, self.layout, self.game, self.mouse)
        self.panel.draw_message(self.screen, self.layout, self.game)
        if self.dialog is not None:
            self.panel.draw_dialog(self.screen, self.layout, self.dialog, self.mouse)

    def relayout(self, size: tuple[int, int] | None = None) -> None:
        if size is not None:
            size = (max(size[0], MIN_WINDOW[0]), max(size[1], MIN_WINDOW[1]))
            if size != self.screen.get_size():
                self.screen = pygame.display.set_mode(size, pygame.RESIZABLE)
        self.layout = Layout(*self.screen.get_size(), self.game.position.rules.size)

    def screenshot(self, path: str | Path) -> Path:
        """Save the current frame as an image (PNG by the suffix)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.screen, str(path))
        return path

    def point_pixel(self, point: int) -> tuple[int, int]:
        """Where board point `point` is on screen (for scripted clicks)."""
        return self.layout.grid.point_xy(point)

    def close(self) -> None:
        self.game.close()
        with contextlib.suppress(pygame.error):
            pygame.display.quit()

    # ---- events --------------------------------------------------------------------------------

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.VIDEORESIZE:
            self.relayout(event.size)
        elif event.type == pygame.MOUSEMOTION:
            self.mouse = event.pos
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button in (1, 3):
            self.mouse = event.pos
            self._click(event.pos, event.button)
        elif event.type == pygame.KEYDOWN:
            self._key(event)

    def _key(self, event: pygame.event.Event) -> None:
        key, game = event.key, self.game
        enter = key in (pygame.K_RETURN, pygame.K_KP_ENTER)
        if self.dialog is not None:
            if enter:
                self._dialog_action("start")
            elif key == pygame.K_ESCAPE:
                self.dialog = None
            return
        shift = bool(getattr(event, "mod", 0) & pygame.KMOD_SHIFT)
        actions = {pygame.K_p: "pass", pygame.K_u: "undo", pygame.K_n: "new",
                   pygame.K_s: "save", pygame.K_l: "load", pygame.K_a: "analysis",
                   pygame.K_o: "ponder", pygame.K_e: "territory"}
        if key in (pygame.K_q, pygame.K_ESCAPE):
            self.running = False
        elif enter and game.phase == SCORING:
            game.accept_score()
        elif key == pygame.K_t:
            game.cycle_seconds(-1 if shift else 1)
        elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            game.cycle_seconds(1)
        elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
            game.cycle_seconds(-1)
        elif key == pygame.K_LEFT:
            game.review_step(-1)
        elif key == pygame.K_RIGHT:
            game.review_step(1)
        elif key == pygame.K_HOME:
            game.review_first()
        elif key == pygame.K_END:
            game.leave_review()
        elif key in actions:
            self.action(actions[key])

    def _click(self, pos: tuple[int, int], button: int) -> None:
        if self.dialog is not None:
            for name, rect in self.layout.dialog_buttons.items():
                if rect.collidepoint(pos):
                    self._dialog_action(name)
            return
        for name, rect in self.layout.buttons.items():
            if rect.collidepoint(pos):
                if name == "time":
                    self.game.cycle_seconds(-1 if button == 3 else 1)
                else:
                    self.action(name)
                return
        point = self.layout.grid.point_at(*pos)
        if point is not None and button == 1:
            self.game.click(point)

    def action(self, name: str) -> None:
        """A panel button or its key."""
        game = self.game
        if name == "pass":
            if game.phase == SCORING:
                game.accept_score()
            else:
                game.pass_move()
        elif name == "resign":
            game.resign()
        elif name == "undo":
            game.undo()
        elif name == "new":
            self.dialog = game.settings
        elif name == "save":
            game.save_sgf()
        elif name == "load":
            game.load_sgf()
        elif name == "analysis":
            game.toggle_analysis()
        elif name == "ponder":
            game.toggle_ponder()
        elif name == "territory":
            game.toggle_territory()
        elif name == "time":
            game.cycle_seconds(1)
        elif name == "back":
            game.review_step(-1)
        elif name == "forward":
            game.review_step(1)

    def _dialog_action(self, name: str) -> None:
        s = self.dialog
        if name == "start":
            self.dialog = None
            self.game.new_game(s)
            return
        if name == "cancel":
            self.dialog = None
            return
        field, sign = name[:-1], 1 if name.endswith("+") else -1
        if field == "size":
            size = SIZES[(SIZES.index(s.size) + sign) % len(SIZES)] if s.size in SIZES else 9
            s = GameSettings(size, s.human, s.komi, min(s.handicap, max_fixed_handicap(size)),
                             s.ko)
        elif field == "color":
            s = GameSettings(s.size, 3 - s.human, s.komi, s.handicap, s.ko)
        elif field == "komi":
            s = GameSettings(s.size, s.human, s.komi + sign, s.handicap, s.ko)
        elif field == "handicap":
            choices = [0, *range(2, max_fixed_handicap(s.size) + 1)]
            now = choices.index(s.handicap) if s.handicap in choices else 0
            handicap = choices[(now + sign) % len(choices)]
            s = GameSettings(s.size, s.human, 0.5 if handicap else 7.5, handicap, s.ko)
        self.dialog = s
