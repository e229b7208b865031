"""Where things go in the window, for a window size and a board size: pure geometry.

The board is the largest square that fits left of the side panel and above the message bar;
a resize (VIDEORESIZE) just builds a new Layout. Board points map to pixels and back here,
so the drawing code and the click handling (and the tests that click) agree on them.

    +-------------------------+-----------+
    |  A B C ...              |  status   |
    | 9 +--+--+--   board     |  buttons  |
    | 8 +--+--+--   (square)  |  analysis |
    |   ...                   |  graph    |
    +-------------------------+-----------+
    | message bar                         |
    +-------------------------------------+

Sizes that hold text (lines, buttons, the message bar, the panel's width) grow with the
window by `ui_scale`, so the panel's fonts (sized from the same scale) grow with them; below
the base window the scale stops at MIN_SCALE, where the smallest window still fits every line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pygame

MIN_WINDOW = (640, 480)
BASE_WINDOW = (900, 660)  # the window the sizes below are for (scale 1)
MIN_SCALE, MAX_SCALE = 0.85, 2.0
MESSAGE_HEIGHT = 34
LINE_HEIGHT = 21
SMALL_LINE_HEIGHT = 16
BUTTON_HEIGHT = 32
GRAPH_MIN_HEIGHT = 44  # room for the graph's 0%, 50% and 100% labels one above another

# (id, default label) of the panel buttons, two to a row; the panel may relabel some.
BUTTONS = (
    ("pass", "Pass (p)"), ("resign", "Resign"),
    ("undo", "Undo (u)"), ("new", "New game (n)"),
    ("save", "Save SGF (s)"), ("load", "Load SGF (l)"),
    ("analysis", "Analysis (a)"), ("time", "Time"),
    ("back", "< Back"), ("forward", "Forward >"),  # review: step through the game
)
# rows of the new-game dialog: (id, label); each row gets a '-' / '+' pair or a value cycle
DIALOG_ROWS = (("size", "Board size"), ("color", "You play"), ("komi", "Komi"),
               ("handicap", "Handicap"))


def ui_scale(width: int, height: int) -> float:
    """How much larger than at BASE_WINDOW the text and its boxes are drawn in a window of
    width x height: the smaller of the two ratios, so text grows only where both room across
    (the panel) and room down (the lines) grow."""
    ratio = min(width / BASE_WINDOW[0], height / BASE_WINDOW[1])
    return max(MIN_SCALE, min(MAX_SCALE, ratio))


@dataclass(frozen=True)
class BoardGeometry:
    """The grid of a size x size board: point p = row * size + col sits at (x, y)."""

    size: int
    left: float  # x of column 0
    top: float  # y of row 0
    cell: float  # pixels between neighbouring lines

    def point_xy(self, p: int) -> tuple[int, int]:
        row, col = divmod(p, self.size)
        return round(self.left + col * self.cell), round(self.top + row * self.cell)

    def point_at(self, x: float, y: float) -> int | None:
        """The point under pixel (x, y), if within half a cell of it."""
        col = round((x - self.left) / self.cell)
        row = round((y - self.top) / self.cell)
        if not (0 <= row < self.size and 0 <= col < self.size):
            return None
        px, py = self.left + col * self.cell, self.top + row * self.cell
        if abs(x - px) > self.cell / 2 or abs(y - py) > self.cell / 2:
            return None
        return row * self.size + col

    @property
    def stone_radius(self) -> int:
        return max(3, int(self.cell * 0.47))


@dataclass
class Layout:
    """All rectangles for one window size and board size."""

    width: int
    height: int
    size: int
    scale: float = field(init=False)  # ui_scale of the window: fonts are their base size x this
    line: int = field(init=False)  # pixels per line of panel text
    small_line: int = field(init=False)  # pixels per line of the small font (the footer)
    board: pygame.Rect = field(init=False)
    grid: BoardGeometry = field(init=False)
    panel: pygame.Rect = field(init=False)
    message: pygame.Rect = field(init=False)
    buttons: dict[str, pygame.Rect] = field(init=False)
    info: pygame.Rect = field(init=False)  # status lines above the buttons
    analysis: pygame.Rect = field(init=False)  # candidate list below the buttons
    graph: pygame.Rect = field(init=False)
    footer: pygame.Rect = field(init=False)  # two small lines: the games folder, the keys
    dialog: pygame.Rect = field(init=False)
    dialog_buttons: dict[str, pygame.Rect] = field(init=False)

    def __post_init__(self):
        w, h = max(self.width, 200), max(self.height, 200)
        s = self.scale = ui_scale(w, h)
        self.line, self.small_line = round(LINE_HEIGHT * s), round(SMALL_LINE_HEIGHT * s)
        message_h = round(MESSAGE_HEIGHT * s)
        # 270 px at the base window; as wide as the text grows (300 s), within 30% of the width
        panel_w = max(230, min(int(300 * s), int(w * 0.3)))
        side = max(100, min(w - panel_w, h - message_h))
        self.board = pygame.Rect(0, 0, side, side)
        self.board.centery = (h - message_h) // 2
        self.board.top = max(0, self.board.top)
        margin = 0.95  # cells between the outer line and the board's edge (labels go there)
        cell = side / (self.size - 1 + 2 * margin)
        self.grid = BoardGeometry(self.size, self.board.left + margin * cell,
                                  self.board.top + margin * cell, cell)
        self.panel = pygame.Rect(side, 0, w - side, h - message_h)
        self.message = pygame.Rect(0, h - message_h, w, message_h)
        self._panel_parts()
        self._dialog_parts()

    def _panel_parts(self) -> None:
        """Top down: 7 status lines, the buttons two to a row, then the candidate list and
        the graph share what is left above the footer (the list up to 6 lines; the graph
        keeps at least GRAPH_MIN_HEIGHT), so nothing overlaps down to MIN_WINDOW."""
        s, line = self.scale, self.line
        pad, gap = round(10 * s), round(6 * s)
        x, inner = self.panel.left + pad, self.panel.width - 2 * pad
        self.info = pygame.Rect(x, pad, inner, 7 * line)
        self.buttons = {}
        y = self.info.bottom + gap
        half = (inner - gap) // 2
        button_h = round(BUTTON_HEIGHT * s)
        for i, (name, _) in enumerate(BUTTONS):
            row, col = divmod(i, 2)
            self.buttons[name] = pygame.Rect(x + col * (half + gap), y + row * (button_h + gap),
                                             half, button_h)
        y = max(r.bottom for r in self.buttons.values()) + gap
        self.footer = pygame.Rect(x, self.panel.bottom - 2 * self.small_line - pad // 2, inner,
                                  2 * self.small_line)
        room = self.footer.top - gap - y  # for the candidate list and the graph
        graph_min = round(GRAPH_MIN_HEIGHT * s)
        self.analysis = pygame.Rect(x, y, inner,
                                    max(2 * line, min(6 * line, room - graph_min - gap)))
        graph_top = self.analysis.bottom + gap
        self.graph = pygame.Rect(x, graph_top, inner,
                                 max(graph_min, self.footer.top - gap - graph_top))

    def _dialog_parts(self) -> None:
        """The new-game dialog, centred on the board: a row per setting, then Start/Cancel,
        its sizes grown with the fonts (by the scale)."""
        s = self.scale
        rows, row_h = len(DIALOG_ROWS), round(44 * s)
        dw = min(self.board.width - 20, round(340 * s))
        dh = round(50 * s) + rows * row_h + round(50 * s)
        self.dialog = pygame.Rect(0, 0, max(dw, 200), dh)
        self.dialog.center = self.board.center
        self.dialog_buttons = {}
        button_w, button_h = round(36 * s), round(32 * s)
        for i, (name, _) in enumerate(DIALOG_ROWS):
            y = self.dialog.top + round(46 * s) + i * row_h
            self.dialog_buttons[f"{name}-"] = pygame.Rect(self.dialog.right - round(130 * s), y,
                                                          button_w, button_h)
            self.dialog_buttons[f"{name}+"] = pygame.Rect(self.dialog.right - round(10 * s)
                                                          - button_w, y, button_w, button_h)
        y = self.dialog.bottom - round(44 * s)
        half = (self.dialog.width - 30) // 2
        self.dialog_buttons["start"] = pygame.Rect(self.dialog.left + 10, y, half,
                                                   round(34 * s))
        self.dialog_buttons["cancel"] = pygame.Rect(self.dialog.left + 20 + half, y, half,
                                                    round(34 * s))
