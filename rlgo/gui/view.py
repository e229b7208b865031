"""Drawing the board: wood, grid, star points, GTP coordinates, shaded stones and the marks on
them (last move, hover preview, dead stones and territory when scoring, the search's ownership
when the territory overlay is on, analysis candidates).

Everything that only changes with the window or board size (the wood and grid, the stone
images) is drawn once into cached surfaces; a frame blits those and draws the marks. Stones
are rendered at 4x with a radial gradient and scaled down smoothly, which anti-aliases them.
"""

from __future__ import annotations

import numpy as np
import pygame

from agents.alphago.search.player import MoveInfo
from envs.go import BLACK, PASS, WHITE, star_points
from envs.go.coords import GTP_COLUMNS

from .controller import OVER, SCORING, GameController
from .layout import BoardGeometry, Layout

WOOD = (219, 178, 105)
LINE = (45, 32, 18)
BLACK_EDGE, BLACK_LIGHT = (12, 12, 14), (105, 105, 110)
WHITE_EDGE, WHITE_LIGHT = (188, 186, 178), (255, 255, 255)
CANDIDATE_BEST, CANDIDATE_OTHER = (40, 120, 220), (40, 170, 110)
OWNERSHIP_MIN = 0.15  # |ownership| below this is an open point: no square


def wood_surface(width: int, height: int, seed: int = 7) -> pygame.Surface:
    """A wood-tone texture: the base colour with soft, wavy grain (numpy, drawn once)."""
    rng = np.random.default_rng(seed)
    x = np.arange(width)[:, None]
    y = np.arange(height)[None, :]
    phase = rng.uniform(0, 6.3, 3)
    grain = (np.sin(y * 0.11 + 2.2 * np.sin(x * 0.006 + phase[0]) + phase[1]) * 0.6
             + np.sin(y * 0.031 + x * 0.002 + phase[2]) * 0.4)
    shade = grain * 9.0
    rgb = np.clip(np.array(WOOD, np.float64)[None, None, :] + shade[..., None] * [1, 0.85, 0.6],
                  0, 255).astype(np.uint8)
    return pygame.surfarray.make_surface(rgb)


def stone_image(radius: int, color: int) -> pygame.Surface:
    """A shaded stone of `radius` px (per-pixel alpha): a radial gradient lit from the top
    left, with a soft shadow to the bottom right. The image is 2 * radius + 4 px square, with
    the stone's centre at (radius + 1, radius + 1)."""
    scale = 4
    big_r = radius * scale
    side = 2 * big_r + 4 * scale
    big = pygame.Surface((side, side), pygame.SRCALPHA)
    c = side // 2 - scale
    pygame.draw.circle(big, (0, 0, 0, 70), (c + 2 * scale, c + 2 * scale), big_r)
    edge, light = (BLACK_EDGE, BLACK_LIGHT) if color == BLACK else (WHITE_EDGE, WHITE_LIGHT)
    steps = 24
    for i in range(steps):
        t = i / steps
        mix = t ** 2 if color == BLACK else t ** 0.8
        rgb = tuple(int(e + (li - e) * mix) for e, li in zip(edge, light, strict=True))
        offset = -0.38 * big_r * t
        pygame.draw.circle(big, rgb, (c + offset, c + offset), big_r * (1 - 0.85 * t))
    return pygame.transform.smoothscale(big, (side // scale, side // scale))


def faded(image: pygame.Surface, alpha: int) -> pygame.Surface:
    """A copy of `image` with its alpha multiplied by alpha/255."""
    out = image.copy()
    out.fill((255, 255, 255, alpha), special_flags=pygame.BLEND_RGBA_MULT)
    return out


class BoardView:
    """Draws the board part of the window; caches what only depends on the layout."""

    def __init__(self):
        self._key: tuple | None = None
        self._board: pygame.Surface | None = None
        self._stones: dict[tuple[int, str], pygame.Surface] = {}
        self._fonts: dict[int, pygame.font.Font] = {}

    def font(self, px: int) -> pygame.font.Font:
        px = max(8, px)
        if px not in self._fonts:
            self._fonts[px] = pygame.font.Font(None, px)
        return self._fonts[px]

    def _prepare(self, layout: Layout) -> None:
        key = (layout.board.size, layout.size)
        if key == self._key:
            return
        self._key = key
        self._stones.clear()
        radius = layout.grid.stone_radius
        for color in (BLACK, WHITE):
            image = stone_image(radius, color)
            self._stones[(color, "")] = image
            self._stones[(color, "hover")] = faded(image, 110)
            self._stones[(color, "dead")] = faded(image, 120)
        self._board = self._draw_board(layout)

    def _draw_board(self, layout: Layout) -> pygame.Surface:
        surface = wood_surface(layout.board.width, layout.board.height)
        g = layout.grid
        size = g.size
        # the grid in board-surface coordinates
        local = BoardGeometry(size, g.left - layout.board.left, g.top - layout.board.top, g.cell)
        far = size - 1
        thick = 2 if g.cell >= 24 else 1
        for i in range(size):
            width = thick if i in (0, far) else 1
            x0, y0 = local.point_xy(i)
            x1, y1 = local.point_xy(far * size + i)
            pygame.draw.line(surface, LINE, (x0, y0), (x1, y1), width)
            x0, y0 = local.point_xy(i * size)
            x1, y1 = local.point_xy(i * size + far)
            pygame.draw.line(surface, LINE, (x0, y0), (x1, y1), width)
        star = max(2, int(g.cell * 0.11))
        for p in star_points(size):
            pygame.draw.circle(surface, LINE, local.point_xy(p), star)
        font = self.font(max(13, int(g.cell * 0.5)))
        for i in range(size):
            letter = font.render(GTP_COLUMNS[i], True, LINE)
            number = font.render(str(size - i), True, LINE)
            x, _ = local.point_xy(i)
            _, y = local.point_xy(i * size)
            gap = g.cell * 0.55
            surface.blit(letter, letter.get_rect(center=(x, local.top - gap)))
            surface.blit(letter, letter.get_rect(center=(x, local.top + far * g.cell + gap)))
            surface.blit(number, number.get_rect(center=(local.left - gap, y)))
            surface.blit(number, number.get_rect(center=(local.left + far * g.cell + gap, y)))
        return surface

    # ---- one frame -----------------------------------------------------------------------------

    def draw(self, screen: pygame.Surface, layout: Layout, game: GameController,
             hover: int | None) -> None:
        self._prepare(layout)
        screen.blit(self._board, layout.board.topleft)
        g, position = layout.grid, game.shown  # while reviewing, the earlier position
        scoring = not game.reviewing and (game.phase == SCORING
                                          or (game.phase == OVER and position.winner is None))
        if scoring and not game.busy:
            self._draw_territory(screen, g, game)
        for p in np.flatnonzero(position.board):
            p = int(p)
            color = int(position.board[p])
            dead = scoring and p in game.dead
            self._blit_stone(screen, g, p, color, "dead" if dead else "")
            if dead:
                self._cross(screen, g, p, WHITE_LIGHT if color == BLACK else BLACK_EDGE)
        owned = game.ownership()
        if owned is not None and not scoring:
            self._draw_ownership(screen, g, position.board, owned)
        last = position.last_move
        if last is not None and last >= 0 and position.board[last]:
            ring = WHITE_LIGHT if position.board[last] == BLACK else BLACK_EDGE
            pygame.draw.circle(screen, ring, g.point_xy(last), max(3, int(g.cell * 0.17)), 2)
        if hover is not None and game.is_legal(hover):
            self._blit_stone(screen, g, hover, game.human, "hover")
        if game.analysis_on or game.reviewing:
            self._draw_candidates(screen, g, game.candidates())

    def _blit_stone(self, screen, g: BoardGeometry, p: int, color: int, kind: str) -> None:
        x, y = g.point_xy(p)
        anchor = g.stone_radius + 1  # the stone's centre in its image (see stone_image)
        screen.blit(self._stones[(color, kind)], (x - anchor, y - anchor))

    def _cross(self, screen, g: BoardGeometry, p: int, color) -> None:
        x, y = g.point_xy(p)
        d = int(g.cell * 0.2)
        pygame.draw.line(screen, color, (x - d, y - d), (x + d, y + d), 2)
        pygame.draw.line(screen, color, (x - d, y + d), (x + d, y - d), 2)

    def _draw_territory(self, screen, g: BoardGeometry, game: GameController) -> None:
        owner = game.scored_position().ownership()
        board = game.position.board
        half = max(2, int(g.cell * 0.16))
        for p in np.flatnonzero(owner):
            p = int(p)
            if board[p] and p not in game.dead:
                continue  # a living stone is its own marker
            x, y = g.point_xy(p)
            color = BLACK_EDGE if owner[p] == BLACK else WHITE_LIGHT
            pygame.draw.rect(screen, color, (x - half, y - half, 2 * half, 2 * half))

    def _draw_ownership(self, screen, g: BoardGeometry, board: np.ndarray,
                        owned: np.ndarray) -> None:
        """The search's ownership (+1 Black, -1 White) as a square per point, its side growing
        with the certainty: on empty points, and on stones the other side owns (dead, as the
        search sees it); nothing under OWNERSHIP_MIN."""
        most = g.cell * 0.2  # half the side of a sure point's square: under a stone's radius
        for p in np.flatnonzero(np.abs(owned) >= OWNERSHIP_MIN):
            p = int(p)
            owner = BLACK if owned[p] > 0 else WHITE
            if board[p] == owner:
                continue  # a stone its own side owns is its own marker
            half = max(1, round(most * min(1.0, abs(float(owned[p])))))
            x, y = g.point_xy(p)
            color = BLACK_EDGE if owner == BLACK else WHITE_LIGHT
            pygame.draw.rect(screen, color, (x - half, y - half, 2 * half, 2 * half))

    def _draw_candidates(self, screen, g: BoardGeometry, candidates: list[MoveInfo]) -> None:
        """The top candidates as numbered discs, the best in blue; win rate below the number."""
        r = max(6, int(g.cell * 0.42))
        overlay = pygame.Surface(screen.get_size(), pygame.SRCALPHA)
        shown = [c for c in candidates if c.move != PASS and c.visits > 0][:5]
        labels = []
        for rank, info in enumerate(shown, 1):
            x, y = g.point_xy(info.move)
            color = CANDIDATE_BEST if rank == 1 else CANDIDATE_OTHER
            pygame.draw.circle(overlay, (*color, 190), (x, y), r)
            labels.append((rank, info, x, y))
        screen.blit(overlay, (0, 0))
        big, small = self.font(int(r * 1.1)), self.font(int(r * 0.75))
        for rank, info, x, y in labels:
            text = big.render(str(rank), True, (255, 255, 255))
            screen.blit(text, text.get_rect(center=(x, y - r * 0.22)))
            pct = small.render(f"{100 * info.winrate:.0f}", True, (255, 255, 255))
            screen.blit(pct, pct.get_rect(center=(x, y + r * 0.5)))
