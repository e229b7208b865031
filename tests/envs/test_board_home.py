"""Board geometry lives in envs.go (board.py, rules.py), not above it.

Copies of the board helpers had grown in the GTP engine, the GUI, the random player, the search
and self-play, each a little different. import-linter cannot say "do not write this function
again", so this test reads the source of the layers above envs/ and fails on what a copy looks
like: a module-level function named like a board helper, a flood fill (a loop over a stack that
walks each point's neighbours), or a table of the steps to a point's four neighbours.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ABOVE_ENVS = ("agents", "selfplay", "rlgo")
BOARD_HELPERS = {
    "neighbours", "neighbors", "neighbour", "neighbor", "chain", "chains", "chain_at", "group",
    "groups", "liberties", "fills_own_eye", "is_eye", "eye", "winner", "winner_of",
    "winner_from_result", "dead_stones", "without_stones", "fixed_handicap",
    "free_handicap_points", "handicap_points", "star_points", "hoshi",
}


def sources() -> list[Path]:
    return sorted(p for top in ABOVE_ENVS for p in (ROOT / top).rglob("*.py"))


def _walks_neighbours(loop: ast.For) -> bool:
    """`for q in neighbours(p, size)` (any spelling)."""
    call = loop.iter
    if not isinstance(call, ast.Call):
        return False
    name = getattr(call.func, "id", None) or getattr(call.func, "attr", "")
    return "neighbo" in name.lower()


def _is_step(node: ast.AST) -> bool:
    """0, 1, -1, or a name plus or minus 1 (row - 1)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    if isinstance(node, ast.Constant):
        return node.value in (0, 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return isinstance(node.right, ast.Constant) and node.right.value == 1
    return isinstance(node, ast.Name)


def _neighbour_steps(node: ast.AST) -> bool:
    """A literal of four (row, col) steps such as ((-1, 0), (1, 0), (0, -1), (0, 1)) or
    ((row - 1, col), ...), orthogonal or diagonal."""
    if not isinstance(node, (ast.Tuple, ast.List)) or len(node.elts) != 4:
        return False
    pairs = [e.elts for e in node.elts if isinstance(e, (ast.Tuple, ast.List))]
    return len(pairs) == 4 and all(len(p) == 2 and all(map(_is_step, p)) for p in pairs) and any(
        not isinstance(x, ast.Name) for p in pairs for x in p)


def geometry_in(source: str) -> list[str]:
    """What in `source` looks like a copy of a board helper (empty when nothing does)."""
    tree = ast.parse(source)
    found = [f"def {node.name}" for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
             and node.name.lstrip("_") in BOARD_HELPERS]
    for node in ast.walk(tree):
        if isinstance(node, ast.While) and any(
                isinstance(inner, ast.For) and _walks_neighbours(inner)
                for inner in ast.walk(node)):
            found.append(f"a flood fill at line {node.lineno}")
        if _neighbour_steps(node):
            found.append(f"a table of neighbour steps at line {node.lineno}")
    return found


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_board_geometry_above_envs(path):
    found = geometry_in(path.read_text())
    assert not found, f"{path.relative_to(ROOT)}: {found}; use envs.go (board.py, rules.py)"


OLD_COPIES = {
    "a helper by name": '''
def fills_own_eye(position, p, color):
    return all(position.board[q] == color for q in neighbours(p, position.rules.size))
''',
    "a flood fill": '''
def chain_under_click(board, size, point):
    seen, stack = {point}, [point]
    while stack:
        for q in neighbours(stack.pop(), size):
            if q not in seen and board[q] == board[point]:
                seen.add(q)
                stack.append(q)
    return sorted(seen)
''',
    "steps": '''
def surrounded(board, size, row, col, me):
    return all(board[r * size + c] == me
               for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1))
               if 0 <= r < size and 0 <= c < size)
''',
}


@pytest.mark.parametrize("what", OLD_COPIES)
def test_the_guard_finds_the_copies_it_replaced(what):
    assert geometry_in(OLD_COPIES[what])


def test_the_guard_lets_players_and_kernels_be():
    assert not geometry_in('''
class Player:
    def dead_stones(self, position):
        return dead_stones(position, 200, rng)

def scan(nbr, p):
    for k in range(4):
        q = nbr[p, k]
''')
