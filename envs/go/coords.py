"""Move coordinates: the one place where board points change representation.

Inside rlgo a move is a flat index ``p = row * size + col`` (an ``int``), or one of the
constants ``PASS`` and ``RESIGN``. Row 0 is the *top* line of the board, as printed and as in
SGF; column 0 is the left edge. GTP vertices and SGF points exist only at the edges (GTP engine,
GUI, SGF files) and convert here.

=================  ======================  =========================  =====================
representation     top-left corner         bottom-left corner         pass
=================  ======================  =========================  =====================
flat index         ``0``                   ``(size-1) * size``        ``PASS`` (-1)
(row, col)         ``(0, 0)``              ``(size-1, 0)``            --
GTP vertex         ``A19`` (on 19x19)      ``A1``                     ``pass``
SGF point          ``aa``                  ``as`` (on 19x19)          ``""``, ``tt`` (<=19)
=================  ======================  =========================  =====================

GTP columns are the letters A-Z without I (so at most 25 columns), case-insensitive; GTP rows
count from 1 at the bottom. SGF columns and rows are lower-case letters from 'a' at the top-left;
"tt" means pass only on boards up to 19x19, where it is not a point.

``PASS == -1`` on purpose: an array of length ``size*size + 1`` (a legal-move mask, a policy)
keeps the pass entry last, so ``mask[PASS]`` reads it on every board size.
"""

from __future__ import annotations

from .errors import BadSize, BadVertex

PASS = -1
RESIGN = -2

MIN_SIZE = 2
MAX_SIZE = 25  # the most GTP vertices can name

GTP_COLUMNS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
_SGF_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def check_size(size: int) -> int:
    """Return `size` if it is a supported board size, else raise BadSize."""
    if not isinstance(size, int) or isinstance(size, bool) or not MIN_SIZE <= size <= MAX_SIZE:
        raise BadSize(f"board size must be an integer from {MIN_SIZE} to {MAX_SIZE}, got {size!r}")
    return size


def to_rowcol(move: int, size: int) -> tuple[int, int]:
    """Flat index -> (row, col), row 0 at the top."""
    if not 0 <= move < size * size:
        raise BadVertex(f"move {move} is not a point on a {size}x{size} board")
    return divmod(move, size)


def from_rowcol(row: int, col: int, size: int) -> int:
    """(row, col) -> flat index."""
    if not (0 <= row < size and 0 <= col < size):
        raise BadVertex(f"({row}, {col}) is off a {size}x{size} board")
    return row * size + col


def to_gtp(move: int, size: int) -> str:
    """Flat index, PASS or RESIGN -> GTP vertex such as 'D4', 'pass' or 'resign'."""
    if move == PASS:
        return "pass"
    if move == RESIGN:
        return "resign"
    row, col = to_rowcol(move, size)
    return f"{GTP_COLUMNS[col]}{size - row}"


def from_gtp(vertex: str, size: int) -> int:
    """GTP vertex ('d4', 'D4', 'pass', 'resign') -> flat index, PASS or RESIGN."""
    text = vertex.strip().upper()
    if text == "PASS":
        return PASS
    if text == "RESIGN":
        return RESIGN
    digits = text[1:]
    if len(text) < 2 or text[0] not in GTP_COLUMNS or not (digits.isascii() and digits.isdigit()):
        raise BadVertex(f"malformed vertex {vertex!r} (expected a letter A-Z without I and a "
                        f"number, such as D4, or 'pass')")
    col = GTP_COLUMNS.index(text[0])
    number = int(digits)
    if col >= size or not 1 <= number <= size:
        raise BadVertex(f"vertex {vertex!r} is off the {size}x{size} board")
    return (size - number) * size + col


def to_sgf(move: int, size: int) -> str:
    """Flat index or PASS -> SGF point ('dd'; pass is '')."""
    if move == PASS:
        return ""
    row, col = to_rowcol(move, size)
    return _SGF_LETTERS[col] + _SGF_LETTERS[row]


def from_sgf(point: str, size: int) -> int:
    """SGF point ('dd', '' or 'tt' for pass on boards up to 19x19) -> flat index or PASS."""
    if point == "" or (point == "tt" and size <= 19):
        return PASS
    if len(point) != 2 or any(c not in _SGF_LETTERS for c in point):
        raise BadVertex(f"malformed SGF point {point!r}")
    col, row = _SGF_LETTERS.index(point[0]), _SGF_LETTERS.index(point[1])
    if col >= size or row >= size:
        raise BadVertex(f"SGF point {point!r} is off the {size}x{size} board")
    return row * size + col
