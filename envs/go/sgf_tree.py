"""Side branches of an SGF game tree: read into small Variation trees and written back.

rlgo replays only the main line (each node's first child, as the SGF spec defines it), but a
reviewed or commented record carries alternatives that a read -> write round trip must not
lose. A Variation keeps what a reader of the branch needs: the move, its comment, and what
follows. Other properties on branch nodes (markup such as LB/TR, setup stones) are not kept.

Branches hang off the main line by move index: record.variations[i] holds the alternatives to
record.moves[i], i.e. the other children of the node that holds move i - 1 (the root for
i = 0). Points are flat indices as everywhere in rlgo (coords.py), passes PASS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sgfmill import sgf

from envs.errors import quoted

from .coords import from_sgf, to_sgf
from .errors import GoError, SgfError
from .rules import BLACK, WHITE

_LETTER_COLOR = {"b": BLACK, "w": WHITE}
_COLOR_LETTER = {BLACK: "B", WHITE: "W"}


@dataclass
class Variation:
    """A side branch: a line of nodes (each node's first child) and the forks off it.

    moves:      [(colour, move)] per node of the line; (None, None) for a node without a
                move (a comment-only node), so comments stay on their node.
    comments:   C[] by index into `moves`.
    variations: alternatives to moves[i] (i >= 1) inside this branch, as in GameRecord.
    The same shape as a GameRecord's main line, and only real forks nest, so a long branch
    is a list, not a deep chain of objects."""

    moves: list[tuple[int | None, int | None]] = field(default_factory=list)
    comments: dict[int, str] = field(default_factory=dict)
    variations: dict[int, list[Variation]] = field(default_factory=dict)


def node_move(node: sgf.Tree_node, size: int, where: str) -> tuple[int, int] | None:
    """(colour, flat point) of a node's B or W, None when it has neither; SgfError for a node
    holding both or a point off the board. `where` names the node in the message."""
    if node.has_property("B") and node.has_property("W"):
        raise SgfError(f"one node holds both B and W {where}")
    letter, raw = node.get_raw_move()
    if letter is None:
        return None
    point = raw.decode("latin-1").strip()
    try:
        return _LETTER_COLOR[letter], from_sgf(point, size)
    except GoError:
        raise SgfError(f"{letter.upper()} {quoted(point)} {where} is no point of the "
                       f"{size}x{size} board") from None


def node_comment(node: sgf.Tree_node) -> str | None:
    """The node's C[] as text (escapes undone, in the file's charset), None without one."""
    return node.get("C") if node.has_property("C") else None


def read_variation(node: sgf.Tree_node, size: int, depth: int = 0) -> Variation:
    """The branch that starts at `node`, with everything below it. `depth` counts nested
    forks, against a hostile file's nesting (each fork is one Python call deeper)."""
    if depth > 200:
        raise SgfError("variations nested more than 200 deep")
    branch = Variation()
    while node is not None:
        branch.moves.append(node_move(node, size, "in a variation") or (None, None))
        comment = node_comment(node)
        if comment is not None:
            branch.comments[len(branch.moves) - 1] = comment
        children = list(node)
        if len(children) > 1:
            branch.variations[len(branch.moves)] = [
                read_variation(other, size, depth + 1) for other in children[1:]]
        node = children[0] if children else None
    return branch


def write_variation(parent: sgf.Tree_node, branch: Variation, size: int) -> None:
    """Append `branch` (and all below it) as a new child of `parent`, after its existing
    children: the main line, or the branch's own continuation, stays first."""
    for index, (color, move) in enumerate(branch.moves):
        forks = branch.variations.get(index, []) if index else []
        node = parent.new_child()
        if color is not None and move is not None:
            node.set_raw(_COLOR_LETTER[color], to_sgf(move, size).encode("ascii"))
        if index in branch.comments:
            node.set("C", branch.comments[index])
        for fork in forks:
            write_variation(parent, fork, size)
        parent = node
