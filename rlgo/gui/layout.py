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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pygame

MIN_WINDOW = (640, 480)
MESSAGE_HEIGHT = 34
LINE_HEIGHT = 21
BUTTON_HEIGHT = 32

# (id, default label) of the panel buttons, two to a row; the panel may relabel some.
BUTTONS = (
    ("pass", "Pass (p)"), ("resign", "Resign"),
    ("undo", "Undo (u)"), ("new", "New game (n)"),
    ("save", "Save SGF (s)"), ("load", "Load SGF (l)"),
    ("analysis", "Analysis (a)"), ("time", "Time"),
)
# rows of the new-game dialog: (id, label); each row gets a '-' / '+' pair or a value cycle
DIALOG_ROWS = (("size", "Board size"), ("color", "You play"), ("komi", "Komi"),
               ("handicap", "Handicap"))


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
    board: pygame.Rect = field(init=False)
    grid: BoardGeometry = field(init=False)
    panel: pygame.Rect = field(init=False)
    message: pygame.Rect = field(init=False)
    buttons: dict[str, pygame.Rect] = field(init=False)
    info: pygame.Rect = field(init=False)  # status lines above the buttons
    analysis: pygame.Rect = field(init=False)  # candidate list below the buttons
    graph: pygame.Rect = field(init=False)
    dialog: pygame.Rect = field(init=False)
    dialog_buttons: dict[str, pygame.Rect] = field(init=False)

    def __post_init__(self):
        w, h = max(self.width, 200), max(self.height, 200)
        panel_w = max(230, min(380, int(w * 0.3)))
        side = max(100, min(w - panel_w, h - MESSAGE_HEIGHT))
        self.board = pygame.Rect(0, 0, side, side)
        self.board.centery = (h - MESSAGE_HEIGHT) // 2
        self.board.top = max(0, self.board.top)
        margin = 0.95  # cells between the outer line and the board's edge (labels go there)
        cell = side / (self.size - 1 + 2 * margin)
        self.grid = BoardGeometry(self.size, self.board.left + margin * cell,
                                  self.board.top + margin * cell, cell)
        self.panel = pygame.Rect(side, 0, w - side, h - MESSAGE_HEIGHT)
        self.message = pygame.Rect(0, h - MESSAGE_HEIGHT, w, MESSAGE_HEIGHT)
        self._panel_parts()
        self._dialog_parts()

    def _panel_parts(self) -> None:
        pad = 10
        x, inner = self.panel.left + pad, self.panel.width - 2 * pad
        self.info = pygame.Rect(x, pad, inner, 7 * LINE_HEIGHT)
        self.buttons = {}
        y = self.info.bottom + 6
        half = (inner - 8) // 2
        for i, (name, _) in enumerate(BUTTONS):
            row, col = divmod(i, 2)
            self.buttons[name] = pygame.Rect(x + col * (half + 8), y + row * (BUTTON_HEIGHT + 6),
                                             half, BUTTON_HEIGHT)
        y = max(r.bottom for r in self.buttons.values()) + 8
        footer = 2 * LINE_HEIGHT + pad
        room = self.panel.bottom - footer - y  # for the candidate list and the graph
        self.analysis = pygame.Rect(x, y, inner,
                                    max(2 * LINE_HEIGHT, min(6 * LINE_HEIGHT, room - 64)))
        graph_top = self.analysis.bottom + 4
        self.graph = pygame.Rect(x, graph_top, inner,
                                 max(40, self.panel.bottom - footer - graph_top))

    def _dialog_parts(self) -> None:
        """The new-game dialog, centred on the board: a row per setting, then Start/Cancel."""
        rows = len(DIALOG_ROWS)
        dw = min(self.board.width - 20, 340)
        dh = 50 + rows * 44 + 50
        self.dialog = pygame.Rect(0, 0, max(dw, 200), dh)
        self.dialog.center = self.board.center
        self.dialog_buttons = {}
        for i, (name, _) in enumerate(DIALOG_ROWS):
            y = self.dialog.top + 46 + i * 44
            self.dialog_buttons[f"{name}-"] = pygame.Rect(self.dialog.right - 130, y, 36, 32)
            self.dialog_buttons[f"{name}+"] = pygame.Rect(self.dialog.right - 46, y, 36, 32)
        y = self.dialog.bottom - 44
        half = (self.dialog.width - 30) // 2
        self.dialog_buttons["start"] = pygame.Rect(self.dialog.left + 10, y, half, 34)
        self.dialog_buttons["cancel"] = pygame.Rect(self.dialog.left + 20 + half, y, half, 34)
