"""Drawing everything but the board: the side panel (status, captures, komi and rules, the
buttons, the engine's candidates, the win-rate graph), the message bar, and the new-game
dialog. Reads the GameController; changes nothing.

Fonts are sized by the layout's scale (they grow with the window). Every line drawn is kept
in `drawn` for the frame (its area, rectangle and whether it was shortened), so the tests can
check that panel text stays whole, inside its area and off other text at any window size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pygame

from envs.go import BLACK, WHITE, to_gtp
from envs.go.rules import COLOR_NAMES

from .controller import OVER, PLAY, SCORING, GameController
from .game import GameSettings
from .layout import BUTTONS, DIALOG_ROWS, Layout

BACKGROUND = (34, 36, 42)
TEXT = (232, 232, 228)
DIM = (150, 150, 150)
BUTTON, BUTTON_HOVER, BUTTON_ON = (62, 66, 78), (84, 90, 106), (50, 110, 170)
MESSAGE_COLORS = {"info": (48, 52, 62), "error": (160, 44, 44), "result": (36, 118, 64)}
GRAPH_BLACK = (240, 240, 240)
MARKER = (250, 170, 60)  # the reviewed move on the graph
STATUS_ROOM = 24  # pixels right of the status line: the thinking indicator (8 + 16)
FONT_SIZES = {"font": 22, "bold": 24, "small": 18}  # pixels at scale 1


@dataclass(frozen=True)
class Drawn:
    """One line of text drawn this frame: where, in which area, and whether it lost its end
    (or its beginning) to fit."""

    area: str  # info, button, analysis, graph, footer, message, dialog
    text: str
    rect: pygame.Rect
    shortened: bool


def button_labels(game: GameController) -> dict[str, tuple[str, bool, bool]]:
    """id -> (label, enabled, switched on) for the panel buttons in the current state."""
    labels = {name: (label, True, False) for name, label in BUTTONS}
    if game.phase == SCORING:
        labels["pass"] = ("Done (Enter)", not game.busy, False)
    else:
        labels["pass"] = ("Pass (p)", game.human_to_move, False)
    labels["resign"] = ("Resign", game.phase != OVER, False)
    labels["back"] = ("< Back", game.shown.parent is not None, False)
    labels["forward"] = ("Forward >", game.reviewing, game.reviewing)  # blue while reviewing
    labels["analysis"] = ("Analysis (a)", True, game.analysis_on)  # blue when on
    limits = game.limits
    time_label = (f"Time {limits.seconds:g} s (t)" if limits.seconds is not None
                  else f"{limits.visits} visits (t)")
    labels["time"] = (time_label, True, False)
    return labels


def status_line(game: GameController) -> str:
    """One short line about whose turn it is, in the bold font within the smallest window's
    panel (the message bar below the board says more)."""
    if game.reviewing:
        return f"Reviewing move {game.shown.move_number} of {game.position.move_number}"
    if game.phase == OVER:
        return f"Game over: {game.result}"
    if game.phase == SCORING:
        return "Marking dead stones..." if game.busy else "Mark dead stones"
    if game.thinking:
        return ("Compiling, first run only" if game.compiling
                else f"Engine ({COLOR_NAMES[game.engine]}) thinks...")
    if game.engine_failed:
        return "The engine failed"
    if game.pondering:  # the engine's next move will start from this search (ponder.py)
        return f"Your move ({COLOR_NAMES[game.human]}), it ponders"
    return f"Your move ({COLOR_NAMES[game.human]})"


class PanelView:
    def __init__(self):
        self._fonts: dict[int, pygame.font.Font] = {}
        self.scale = 0.0
        self.drawn: list[Drawn] = []
        self.use_scale(1.0)

    def use_scale(self, scale: float) -> None:
        """Size the fonts (font, bold, small) for a layout's scale."""
        if scale == self.scale:
            return
        self.scale = scale
        for name, px in FONT_SIZES.items():
            px = round(px * scale)
            key = px if name != "bold" else -px
            if key not in self._fonts:
                self._fonts[key] = pygame.font.Font(None, px)
                self._fonts[key].set_bold(name == "bold")
            setattr(self, name, self._fonts[key])

    def text(self, screen, text: str, pos, color=TEXT, font=None, width: int | None = None,
             area: str = "info", **anchor) -> pygame.Rect:
        """Draw one line at `pos` (top left) or at an anchor (center=..., midleft=...);
        with `width`, a line too long loses its end (or, if it starts with '...', its
        beginning: paths)."""
        font = font or self.font
        whole = text
        if width is not None and font.size(text)[0] > width:
            keep_end = text.startswith("...")
            body = text[3:] if keep_end else text
            while body and font.size("..." + body if keep_end else body + "...")[0] > width:
                body = body[1:] if keep_end else body[:-1]
            text = "..." + body if keep_end else body + "..."
        image = font.render(text, True, color)
        rect = image.get_rect(**anchor) if anchor else image.get_rect(topleft=pos)
        screen.blit(image, rect)
        self.drawn.append(Drawn(area, whole, rect, text != whole))
        return rect

    def button(self, screen, rect: pygame.Rect, label: str, enabled=True, on=False,
               mouse=None) -> None:
        color = BUTTON_ON if on else BUTTON
        if enabled and mouse is not None and rect.collidepoint(mouse):
            color = BUTTON_HOVER
        pygame.draw.rect(screen, color, rect, border_radius=6)
        self.text(screen, label, None, TEXT if enabled else DIM, width=rect.width - 6,
                  area="button", center=rect.center)

    # ---- the panel -----------------------------------------------------------------------------

    def draw(self, screen, layout: Layout, game: GameController, mouse=None) -> None:
        self.use_scale(layout.scale)
        self.drawn = []
        pygame.draw.rect(screen, BACKGROUND, layout.panel)
        self._info(screen, layout, game)
        for name, (label, enabled, on) in button_labels(game).items():
            self.button(screen, layout.buttons[name], label, enabled, on, mouse)
        self._analysis(screen, layout, game)
        self._graph(screen, layout.graph, game)
        (x, y), width = layout.footer.topleft, layout.footer.width
        folder = f"{game.games_dir}/"
        if self.small.size(f"Games: {folder}")[0] > width:
            folder = "..." + folder
        self.text(screen, f"Games: {folder}", (x, y), DIM, self.small, width, "footer")
        keys = ("Left/Right, Home, End: the game" if game.reviewing
                else "keys p u n s l a o e t q, Left: review")
        self.text(screen, keys, (x, y + layout.small_line), DIM, self.small, width, "footer")

    def _info(self, screen, layout: Layout, game: GameController) -> None:
        x, y = layout.info.topleft
        pos, rules = game.shown, game.position.rules
        text, room = status_line(game), layout.info.width - STATUS_ROOM
        font = self.bold if self.bold.size(text)[0] <= room else self.font
        status = self.text(screen, text, (x, y), TEXT, font, room)
        if game.busy:  # the thinking indicator: a turning arc
            angle = (pygame.time.get_ticks() / 180.0) % (2 * math.pi)
            arc = pygame.Rect(0, 0, 16, 16)
            arc.midleft = (status.right + 8, status.centery)
            pygame.draw.arc(screen, (120, 190, 255), arc, angle, angle + 4.2, 3)
        names = {game.human: "You", game.engine: getattr(game.player, "name", "engine")}
        lines = [
            f"Black: {names[BLACK]}    White: {names[WHITE]}",
            # scoring is always by area; superko is the default and the ko message names it
            f"{rules.size}x{rules.size}, komi {rules.komi:g}, "
            f"{'area scoring' if rules.ko == 'positional' else 'simple ko'}",
            f"Captures: Black {pos.prisoners[0]}   White {pos.prisoners[1]}",
            self._move_line(game),
            self._winrate_line(game),
        ]
        if not game.reviewing and (game.phase == SCORING
                                   or (game.phase == OVER and pos.winner is None)):
            black, white, _ = game.score()
            lines.append(f"Area: Black {black}, White {white} + {rules.komi:g}")
        for i, line in enumerate(lines, 1):
            self.text(screen, line, (x, y + i * layout.line + 2), width=layout.info.width)

    @staticmethod
    def _move_line(game: GameController) -> str:
        pos = game.shown
        if pos.last_move is None:
            return f"Move {pos.move_number}"
        last = to_gtp(pos.last_move, pos.rules.size)
        return f"Move {pos.move_number}: {COLOR_NAMES[pos.last_color]} {last}"

    @staticmethod
    def _winrate_line(game: GameController) -> str:
        wr = game.winrate_at(game.shown.move_number) if game.reviewing else game.black_winrate()
        if wr is None:
            return "Win rate: not yet known"
        black = round(100 * wr)  # both sides' shares, so the list's number (the mover's) is here
        return f"Win rate: B {black}%, W {100 - black}%"  # B/W as in results: fits 640x480

    def _analysis(self, screen, layout: Layout, game: GameController) -> None:
        """The candidates: the engine's view of the reviewed position while reviewing, the
        analysis for the human's move when on, else what the engine weighed for its last
        move."""
        x, y = layout.analysis.topleft
        size, width, line = game.position.rules.size, layout.analysis.width, layout.line
        rows = max(1, layout.analysis.height // line - 1)
        color = TEXT

        def note(text: str) -> None:
            self.text(screen, text, (x, y + line), DIM, width=width, area="analysis")

        if game.reviewing:
            head = f"Candidates for {COLOR_NAMES[game.shown.to_play].capitalize()} here:"
            shown = [c for c in game.candidates() if c.visits > 0]
            if not shown:
                note("waiting for the engine..." if game.busy else "searching...")
        elif game.analysis_on and game.phase == PLAY:
            head = ("Candidates for you:" if game.human_to_move
                    else "Analysis waits for your turn")
            shown = [c for c in game.candidates() if c.visits > 0]
            if game.human_to_move and not shown:
                note("searching...")
        elif game.decision is not None and game.decision.candidates:
            head, color, shown = "The engine weighed:", DIM, list(game.decision.candidates)
        else:
            self.text(screen, "Analysis (a) shows the engine's", (x, y), DIM, width=width,
                      area="analysis")
            note("best moves for you on the board.")
            return
        self.text(screen, head, (x, y), TEXT, self.bold, width, "analysis")
        for i, c in enumerate(shown[:min(5, rows)], 1):
            self.text(screen, f"{i}. {to_gtp(c.move, size):>5}  {round(100 * c.winrate):3d}%  "
                      f"{c.visits} visits", (x, y + i * line), color, width=width,
                      area="analysis")

    def _graph(self, screen, rect: pygame.Rect, game: GameController) -> dict[str, pygame.Rect]:
        """Black's win rate (the engine's estimate) against the move number, with its axes:
        0%, 50% and 100% in a left gutter, the 50% line across, the move numbers along the
        bottom; while reviewing, a marker (a vertical line, and a ring on the curve) at the
        reviewed move. Everything sits inside `rect` with no label over another down to the
        graph of the smallest window. Returns the labels' rectangles (for the tests)."""
        pygame.draw.rect(screen, (24, 25, 30), rect, border_radius=4)
        small = self.small

        def label(text: str, pos=None, **anchor) -> pygame.Rect:
            return self.text(screen, text, pos, DIM, small, area="graph", **anchor)

        gutter = small.size("100%")[0] + 8
        plot = pygame.Rect(rect.left + gutter, rect.top + 2, rect.width - gutter - 6,
                           rect.height - 4)
        history = game.winrate_history
        last = max(game.position.move_number, history[-1][0] if history else 0, 10)

        def xy(n: int, w: float) -> tuple[float, float]:
            return plot.left + plot.width * n / last, plot.bottom - plot.height * w

        if game.reviewing:  # the reviewed move's line, under the labels
            x = round(xy(game.shown.move_number, 0)[0])
            pygame.draw.line(screen, MARKER, (x, plot.top), (x, plot.bottom), 2)
        labels = {
            "100%": label("100%", topright=(plot.left - 4, plot.top)),
            "50%": label("50%", midright=(plot.left - 4, plot.centery)),
            "0%": label("0%", bottomright=(plot.left - 4, plot.bottom)),
        }
        pygame.draw.line(screen, (80, 80, 90), plot.topleft, plot.bottomleft)
        pygame.draw.line(screen, (80, 80, 90), (plot.left, plot.centery),
                         (plot.right, plot.centery))
        labels["title"] = label("Black's win rate", (plot.left + 4, plot.top))
        labels["move 0"] = label("0", bottomleft=(plot.left + 3, plot.bottom))
        labels["move last"] = label(f"move {last}", bottomright=(plot.right - 2, plot.bottom))

        if game.reviewing:  # a ring on the curve at the reviewed move
            w = game.winrate_at(game.shown.move_number)
            if w is not None:
                pygame.draw.circle(screen, MARKER, xy(game.shown.move_number, w), 5, 2)
        if not history:
            return labels
        points = [xy(n, w) for n, w in history]
        if len(points) > 1:
            pygame.draw.lines(screen, GRAPH_BLACK, False, points, 2)
        pygame.draw.circle(screen, (120, 190, 255), points[-1], 3)
        return labels

    # ---- message bar and dialog ----------------------------------------------------------------

    def draw_message(self, screen, layout: Layout, game: GameController) -> None:
        pygame.draw.rect(screen, MESSAGE_COLORS.get(game.message_kind, BACKGROUND),
                         layout.message)
        self.text(screen, game.message, None, TEXT, self.font, layout.message.width - 20,
                  "message", midleft=(layout.message.left + 10, layout.message.centery))

    def draw_dialog(self, screen, layout: Layout, pending: GameSettings, mouse=None) -> None:
        shade = pygame.Surface(layout.board.size, pygame.SRCALPHA)
        shade.fill((0, 0, 0, 120))
        screen.blit(shade, layout.board.topleft)
        box = layout.dialog
        pygame.draw.rect(screen, BACKGROUND, box, border_radius=8)
        pygame.draw.rect(screen, (110, 110, 120), box, 2, border_radius=8)
        self.text(screen, "New game", None, TEXT, self.bold, area="dialog",
                  midtop=(box.centerx, box.top + round(12 * layout.scale)))
        values = {"size": f"{pending.size}x{pending.size}",
                  "color": COLOR_NAMES[pending.human].capitalize(),
                  "komi": f"{pending.komi:g}", "handicap": str(pending.handicap or "none")}
        buttons = layout.dialog_buttons
        for name, label in DIALOG_ROWS:
            minus, plus = buttons[f"{name}-"], buttons[f"{name}+"]
            self.text(screen, label, None, TEXT, area="dialog",
                      midleft=(box.left + 14, minus.centery))
            self.text(screen, values[name], None, TEXT, area="dialog",
                      center=((minus.right + plus.left) // 2, minus.centery))
            self.button(screen, minus, "<", mouse=mouse)
            self.button(screen, plus, ">", mouse=mouse)
        self.button(screen, buttons["start"], "Start (Enter)", mouse=mouse)
        self.button(screen, buttons["cancel"], "Cancel (Esc)", mouse=mouse)
