"""SGF collections (several games in one file), comments and variations (issue 20).

Round trips are checked on the parsed tree (sgfmill's nodes, their moves and comments), not on
bytes: write_sgf is free to order properties and escape text its own way."""

from __future__ import annotations

from pathlib import Path

import pytest
from sgfmill import sgf

from envs.go.coords import PASS, from_sgf
from envs.go.errors import SgfError
from envs.go.rules import BLACK, WHITE
from envs.go.sgf import (
    position_from_record,
    read_sgf,
    read_sgf_collection,
    read_sgf_games,
    write_sgf,
)
from envs.go.sgf_files import load_sgf_collection, load_sgf_file, load_sgf_games, read_sgf_dir
from envs.go.sgf_tree import Variation
from tests.conftest import require

GAME_1 = "(;GM[1]FF[4]SZ[9]KM[7]PB[first];B[ee];W[cc])"
GAME_2 = "(;GM[1]FF[4]SZ[9]KM[6]PB[second];B[gg];W[cg];B[])"
BROKEN = "(;GM[1]SZ[9];B[zz])"  # a point off the board

# Main line B ee, W cc, B gg, W cg; at move 2 the alternative W dd, with a fork at its reply.
# Comments on main-line moves, on variation moves, on a comment-only node, with SGF escapes.
VARIED = r"""(;GM[1]FF[4]SZ[9]KM[7]C[root comment]GC[game comment]
;B[ee]C[the centre]
(;W[cc]C[main: approach];B[gg];W[cg]C[last])
(;W[dd]C[a variation \] with a bracket \\ and a backslash]
  (;B[dc];W[cd])
  (;B[cd]C[other reply];C[comment-only node]))
)"""


def _tree(node: sgf.Tree_node) -> tuple:
    """A node and everything below it as nested tuples: (move, comment, children)."""
    return (node.get_raw_move(), node.get("C") if node.has_property("C") else None,
            tuple(_tree(child) for child in node))


def _parsed(data: bytes | str) -> tuple:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    root = sgf.Sgf_game.from_bytes(raw).get_root()
    return _tree(root)


def test_a_collection_gives_each_game_and_says_how_many():
    text = GAME_1 + "\n" + GAME_2
    first = read_sgf(text)  # the default stays the first game, now with the count
    assert first.player_black == "first" and first.games_in_file == 2
    second = read_sgf(text, game=2)
    assert second.player_black == "second" and second.rules.komi == 6.0
    assert second.moves == [(BLACK, from_sgf("gg", 9)), (WHITE, from_sgf("cg", 9)),
                            (BLACK, PASS)]
    assert read_sgf_games(text) == [first, second]
    assert read_sgf(GAME_1).games_in_file == 1
    for bad in (0, 3):
        with pytest.raises(SgfError, match="no game .*holds 2 games"):
            read_sgf(text, game=bad)


def test_one_broken_game_of_a_collection_spoils_only_itself():
    text = GAME_1 + BROKEN + GAME_2
    games = read_sgf_collection(text)
    assert [type(g).__name__ for g in games] == ["GameRecord", "SgfError", "GameRecord"]
    assert games[2].player_black == "second"
    with pytest.raises(SgfError, match="game 2 of 3: .*no point"):
        read_sgf_games(text)
    with pytest.raises(SgfError, match="not an SGF game"):
        read_sgf_collection("no SGF here")


def test_collection_files(tmp_path):
    path = tmp_path / "two.sgf"
    path.write_text(GAME_1 + GAME_2 + BROKEN)
    assert load_sgf_file(path).games_in_file == 3
    assert load_sgf_file(path, 2).player_black == "second"
    with pytest.raises(SgfError, match="two.sgf.*game 3 of 3"):
        load_sgf_games(path)
    games = load_sgf_collection(path)
    assert isinstance(games[2], SgfError) and "two.sgf" in str(games[2])
    assert [g.player_black for g in games[:2]] == ["first", "second"]


def test_comments_and_variations_are_read():
    record = read_sgf(VARIED)
    ee, cc, gg, cg, dd, dc, cd = (from_sgf(p, 9) for p in ("ee", "cc", "gg", "cg", "dd", "dc",
                                                           "cd"))
    assert record.moves == [(BLACK, ee), (WHITE, cc), (BLACK, gg), (WHITE, cg)]
    assert record.move_comments == {0: "the centre", 1: "main: approach", 3: "last"}
    assert record.extra["C"] == ["root comment"] and record.extra["GC"] == ["game comment"]
    assert record.variations == {
        1: [Variation(moves=[(WHITE, dd), (BLACK, dc), (WHITE, cd)],
                      comments={0: "a variation ] with a bracket \\ and a backslash"},
                      variations={1: [Variation(moves=[(BLACK, cd), (None, None)],
                                                comments={0: "other reply",
                                                          1: "comment-only node"})]})],
    }
    # B dc W cd continues the W dd branch; B cd (and its comment-only node) forks off it
    replayed = position_from_record(record)  # the main line, not a branch
    assert replayed.move_number == 4 and replayed.last_move == cg


def test_variations_and_comments_survive_a_round_trip():
    record = read_sgf(VARIED)
    written = write_sgf(record)
    assert read_sgf(written) == record
    assert _parsed(written) == _parsed(VARIED)  # same tree: moves, comments, branch order


def test_branches_after_the_last_move_stay_branches():
    """Past the main line's last move (here a comment-only node follows it), a single
    written child would read back as the main line; write_sgf keeps them side branches."""
    text = "(;GM[1]SZ[9];B[ee];W[cc](;C[game over])(;B[dd]C[after the end])(;B[gg]))"
    record = read_sgf(text)
    dd, gg = from_sgf("dd", 9), from_sgf("gg", 9)
    assert len(record.moves) == 2 and record.variations == {
        2: [Variation(moves=[(BLACK, dd)], comments={0: "after the end"}),
            Variation(moves=[(BLACK, gg)])]}
    assert read_sgf(write_sgf(record)) == record


def test_written_records_without_variations_are_unchanged():
    record = read_sgf(GAME_2)
    assert record.variations == {} and record.move_comments == {}
    assert _parsed(write_sgf(record)) == _parsed(GAME_2)


GOBAN_DIR = Path("/usr/share/goban")


def test_a_professional_record_with_variations_round_trips():
    """Hon-76-2 (goban-original-games): 266 moves, two side branches late in the game and a
    closing comment; all of it comes back from a write."""
    path = GOBAN_DIR / "Hon-76-2.sgf"
    require("goban-original-games (apt-get install --no-install-recommends goban-original-games)",
            path.is_file())
    record = load_sgf_file(path)
    assert len(record.moves) == 266 and sorted(record.variations) == [242, 243]
    assert record.move_comments == {265: "266 moves complete."}
    original = path.read_bytes()
    written = write_sgf(record)
    assert read_sgf(written) == record
    # everything below the root: every node's move and comment, every branch in its place
    assert _parsed(written)[2] == _parsed(original)[2]
    assert position_from_record(read_sgf(written)).move_number == 266


def test_read_sgf_dir_takes_every_game_of_a_collection(tmp_path):
    (tmp_path / "a.sgf").write_text(GAME_1 + BROKEN + GAME_2)
    (tmp_path / "b.sgf").write_text(GAME_2)
    records, skipped = read_sgf_dir(tmp_path)
    assert [r.player_black for r in records] == ["first", "second", "second"]
    assert skipped == 1


def test_hostile_nesting_is_an_sgf_error():
    """Forks nested thousands deep (each one a Python call to read) fail as SgfError, never
    as RecursionError."""
    deep = "(;GM[1]SZ[9];B[aa]" + "(;W[bb])(;W[cc]" * 3000 + ")" * 3000 + ")"
    with pytest.raises(SgfError):
        read_sgf(deep)
    shallow = "(;GM[1]SZ[9];B[aa]" + "(;W[bb])(;W[cc]" * 50 + ")" * 50 + ")"
    record = read_sgf(shallow)
    assert read_sgf(write_sgf(record)) == record
