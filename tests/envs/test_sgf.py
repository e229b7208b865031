"""SGF records: round trips, hand-written files, broken files, directories, a real corpus."""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path

import numpy as np
import pytest

from envs.go.coords import PASS, from_gtp, from_sgf
from envs.go.errors import GoError, SgfError
from envs.go.position import Position
from envs.go.rules import BLACK, RULE_SETS, WHITE, Rules, fixed_handicap
from envs.go.sgf import GameRecord, position_from_record, read_sgf, record_from_position, write_sgf
from envs.go.sgf_files import MAX_SGF_BYTES, load_sgf_file, read_sgf_dir, save_sgf_file
from tests.conftest import require

# Debian package goban-original-games: 143 *.sgf and 453 *.mgt (old SGF) professional games.
GOBAN_DIR = Path("/usr/share/goban")


def random_game(rules: Rules, seed: int, moves: int, handicap=()) -> Position:
    """A seeded random game with a few passes, not ending early."""
    rng = random.Random(seed)
    pos = Position.new(rules, handicap=handicap)
    for _ in range(moves):
        legal = np.flatnonzero(pos.legal_moves()[:-1])
        move = PASS if rng.random() < 0.05 or len(legal) == 0 else int(rng.choice(legal))
        if move == PASS and pos.passes == 1:
            continue  # keep the game going
        pos = pos.play(move)
    return pos


def assert_same_game(a: Position, b: Position) -> None:
    assert a.moves() == b.moves()
    assert np.array_equal(a.root().board, b.root().board)
    assert a.root().to_play == b.root().to_play
    assert np.array_equal(a.board, b.board)
    assert a.prisoners == b.prisoners
    assert a.to_play == b.to_play
    assert a.rules == b.rules


# ---- round trips --------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [5, 9, 19, 25])
def test_round_trip_random_game(size):
    rules = Rules(size=size, komi=6.5)
    pos = random_game(rules, seed=size, moves=3 * size * size // 2)
    record = record_from_position(pos, result="W+12.5", player_black="Alpha", player_white="Bee",
                                  date="2024-05-01")
    data = write_sgf(record)
    back = read_sgf(data)
    assert back == record
    assert back.rules == rules
    assert (back.result, back.player_black, back.player_white, back.date) == (
        "W+12.5", "Alpha", "Bee", "2024-05-01")
    assert_same_game(position_from_record(back), pos)
    assert write_sgf(back) == data


def test_round_trip_handicap_game():
    rules = Rules(size=19, komi=0.5)
    pos = random_game(rules, seed=7, moves=60, handicap=fixed_handicap(19, 4))
    record = record_from_position(pos)
    assert record.handicap == 4 and record.first_player == WHITE
    assert sorted(record.black_setup) == sorted(fixed_handicap(19, 4))
    data = write_sgf(record)
    assert b"HA[4]" in data and b"PL[W]" in data and b"AB[dd][dp][pd][pp]" in data
    back = read_sgf(data)
    assert back == record
    assert_same_game(position_from_record(back), pos)


def test_round_trip_setup_stones_and_rules():
    diagram = """
        . X O . .
        X . X O .
        . X O . .
        . . . . .
        . . . . .
    """
    for ko in ("simple", "positional"):
        for suicide in (False, True):
            rules = Rules(size=5, komi=-3, ko=ko, suicide=suicide)
            pos = Position.from_ascii(diagram, rules=rules, to_play=WHITE)
            pos = pos.play(from_gtp("B4", 5)).play(from_gtp("E1", 5))
            back = position_from_record(read_sgf(write_sgf(record_from_position(pos))))
            assert_same_game(back, pos)


def test_result_of_a_finished_game_and_resignation():
    rules = Rules(size=5, komi=0.5)
    over = Position.new(rules).play(from_gtp("C3", 5)).play(PASS).play(PASS)
    assert record_from_position(over).result == "B+24.5"
    resigned = Position.new(rules).play(from_gtp("C3", 5)).play(-2)  # RESIGN
    record = record_from_position(resigned)
    assert record.result == "B+R" and record.moves == [(BLACK, from_gtp("C3", 5))]
    assert record_from_position(Position.new(rules).play(0)).result is None


def test_pass_encoding():
    pos = Position.new(Rules(size=9)).play(PASS).play(from_gtp("E5", 9)).play(PASS)
    data = write_sgf(record_from_position(pos))
    assert b";B[];W[ee];B[]" in data.replace(b"\n", b"")
    for size, text in ((19, "tt"), (19, ""), (9, "tt"), (21, "")):
        record = read_sgf(f"(;SZ[{size}];B[{text}];W[])")
        assert record.moves == [(BLACK, PASS), (WHITE, PASS)]
    assert read_sgf("(;SZ[21];B[tt])").moves == [(BLACK, from_sgf("tt", 21))]  # a point


# ---- hand-written files -------------------------------------------------------------------------

HAND_WRITTEN = rb"""Some text before the game is ignored.
(;GM[1]FF[4]CA[UTF-8]SZ[9]KM[5.5]RU[Japanese]HA[2]PL[W]
PB[Black \] player]PW[White]DT[2001-02-03]RE[W+3.5]C[A comment \] with escapes]
AB[cc][gg]AW[ce:de]XY[private]
;W[ee]C[Variation follows]
(;B[tt];W[dc];B[]
 (;W[ec]C[main line end])
 (;W[ed]))
(;B[ef];W[ff]))
"""


def test_hand_written_file():
    record = read_sgf(HAND_WRITTEN)
    assert record.rules == Rules(size=9, komi=5.5, ko="simple", suicide=False,
                                 scoring="territory")
    assert record.ruleset == "Japanese"
    assert (record.handicap, record.first_player) == (2, WHITE)
    assert record.player_black == "Black ] player"
    assert (record.player_white, record.date, record.result) == ("White", "2001-02-03", "W+3.5")
    assert record.black_setup == sorted([from_gtp("C7", 9), from_gtp("G3", 9)])
    assert record.white_setup == sorted([from_gtp("C5", 9), from_gtp("D5", 9)])
    assert record.moves == [(WHITE, from_gtp("E5", 9)), (BLACK, PASS), (WHITE, from_gtp("D7", 9)),
                            (BLACK, PASS), (WHITE, from_gtp("E7", 9))]
    assert record.extra == {"C": [r"A comment \] with escapes"], "XY": ["private"]}
    pos = position_from_record(record)
    assert pos.move_number == 5 and pos.to_play == BLACK
    # Everything survives a write and a read, the raw escapes in `extra` included.
    again = read_sgf(write_sgf(record))
    assert again == record


def test_str_input_and_latin1_bytes():
    latin = "(;CA[ISO-8859-1]SZ[9]PB[Jos\xe9];B[ee])".encode("latin-1")
    assert read_sgf(latin).player_black == "Jos\xe9"
    assert read_sgf("(;SZ[9]PB[Jos\xe9];B[ee])").player_black == "Jos\xe9"
    # An unknown charset falls back on ISO-8859-1 instead of failing the whole file.
    assert read_sgf(b"(;CA[klingon]SZ[9];B[ee])").moves == [(BLACK, from_gtp("E5", 9))]
    # Bytes that do not decode are replaced, not fatal.
    assert read_sgf(b"(;CA[UTF-8]SZ[9]PB[\xff\xfe];B[ee])").player_black == "\ufffd\ufffd"


def test_defaults_when_properties_are_missing():
    record = read_sgf("(;;B[pd])")
    assert record.rules == Rules(size=19, komi=0.0)  # no KM: komi 0, as in old records
    assert record.result is None and record.player_black is None and record.handicap == 0
    assert record.first_player is None


@pytest.mark.parametrize(("ru", "scoring", "ko", "suicide"), [
    ("Chinese", "area", "positional", False), ("AGA", "area", "positional", False),
    ("Japanese", "territory", "simple", False), ("korean", "territory", "simple", False),
    ("NZ", "area", "positional", True), ("Tromp-Taylor", "area", "positional", True),
    ("GOE", "area", "positional", True),
    ("koSIMPLEscoreAREAtaxNONEsui1", "area", "simple", True),
    ("koPOSITIONALscoreTERRITORYtaxSEKIsui0", "territory", "positional", False),
    ("something else", "area", "positional", False), (None, "area", "positional", False),
])
def test_ruleset_mapping(ru, scoring, ko, suicide):
    text = f"(;SZ[9]KM[7]{'' if ru is None else f'RU[{ru}]'};B[ee])"
    record = read_sgf(text)
    assert (record.rules.scoring, record.rules.ko, record.rules.suicide) == (scoring, ko, suicide)
    assert record.ruleset == ru
    assert read_sgf(write_sgf(record)).ruleset == ru  # written back unchanged


@pytest.mark.parametrize("name", sorted(RULE_SETS))
@pytest.mark.parametrize("ko", ["positional", "simple"])
def test_every_rule_set_round_trips_from_a_position(name, ko):
    """A game played under a rule set (with either ko rule) is written with an RU that reads
    back as the same rules: a common name where one fits, else KataGo's spelled-out string."""
    scoring, _, suicide = RULE_SETS[name]
    rules = Rules(size=9, komi=6.5, ko=ko, suicide=suicide, scoring=scoring)
    record = record_from_position(Position.new(rules).play(from_gtp("E5", 9)))
    back = read_sgf(write_sgf(record))
    assert back.rules == rules
    assert position_from_record(back).rules == rules  # the record's rules are the game's
    expected = {("area", "positional", False): "Chinese",
                ("area", "positional", True): "Tromp-Taylor",
                ("territory", "simple", False): "Japanese"}.get((scoring, ko, suicide))
    assert back.ruleset == (expected or back.ruleset)
    assert back.ruleset.startswith("ko") or expected


def test_ruleset_written_for_rules_without_a_name():
    record = GameRecord(rules=Rules(size=9, ko="simple", suicide=True), ruleset="Chinese")
    back = read_sgf(write_sgf(record))  # "Chinese" no longer describes these rules
    assert back.rules == record.rules and back.ruleset != "Chinese"


# ---- broken files -------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"", b"   \n", b"not sgf at all", b"(;SZ[19];B[pd];W[dp]", b"(;SZ[19];B[pd]W", b"(B[pd])",
    bytes(range(256)) * 4, b"(;SZ[40];B[aa])", b"(;SZ[1])", b"(;SZ[26])", b"(;SZ[19:13])",
    b"(;SZ[nine])", b"(;GM[2]SZ[8])", b"(;SZ[9];B[zz])", b"(;SZ[9];B[jj])", b"(;SZ[9];B[e])",
    b"(;SZ[9]KM[six])", b"(;SZ[9]KM[1e9])", b"(;SZ[9]HA[two])", b"(;SZ[9]PL[X])",
    b"(;SZ[9]AB[ee]AW[ee])", b"(;SZ[9]AB[zz])", b"(;SZ[9];B[ee];AB[aa];W[cc])",
    b"(;SZ[9];B[ee]W[cc])",
], ids=lambda d: repr(d[:24]))
def test_broken_files_raise_sgf_error(data):
    with pytest.raises(SgfError):
        read_sgf(data)


def test_size_error_message_is_clear():
    with pytest.raises(SgfError, match=r"board size 40 .*2x2 to 25x25"):
        read_sgf("(;SZ[40])")


def test_illegal_move_names_the_move_number():
    record = read_sgf("(;SZ[9];B[ee];W[dd];B[ee])")
    with pytest.raises(SgfError, match=r"move 3 \(B E5\) is illegal: occupied"):
        position_from_record(record)
    # Ko: White retakes at once.
    ko = "(;SZ[9]AB[bb][ac][cc][bd]AW[cb][dc][cd];W[bc];B[cc])"
    with pytest.raises(SgfError, match=r"move 2 .*ko"):
        position_from_record(read_sgf(ko))


def test_mutated_files_never_raise_anything_but_sgf_error():
    good = write_sgf(record_from_position(random_game(Rules(size=9), seed=3, moves=60),
                                          player_black="x", result="B+R"))
    rng = random.Random(0)
    outcomes = {"read": 0, "replayed": 0, "SgfError": 0}
    for _ in range(600):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            op = rng.random()
            if op < 0.4:
                data[i] = rng.choice(b"()[];\\:ABWSZKMaszt9 \xff")
            elif op < 0.7:
                del data[i:i + rng.randint(1, 20)]
            else:
                data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 5)))
        try:
            record = read_sgf(bytes(data))
            outcomes["read"] += 1
            position_from_record(record)
            outcomes["replayed"] += 1
            assert read_sgf(write_sgf(record)) == record
        except SgfError:
            outcomes["SgfError"] += 1
    assert outcomes["SgfError"] > 50 and outcomes["replayed"] > 50


# ---- files and directories ----------------------------------------------------------------------

def test_save_and_load_file(tmp_path):
    record = record_from_position(random_game(Rules(size=9), seed=1, moves=40))
    path = tmp_path / "game.sgf"
    save_sgf_file(path, record)
    save_sgf_file(path, record)  # overwriting is fine too
    assert load_sgf_file(path) == record
    assert [p.name for p in tmp_path.iterdir()] == ["game.sgf"]  # no temporary files left


def test_save_failure_leaves_no_temporary_file(tmp_path):
    with pytest.raises(IsADirectoryError):
        save_sgf_file(tmp_path, GameRecord())  # os.replace onto a directory fails
    assert list(tmp_path.iterdir()) == []


def test_load_error_names_the_file(tmp_path):
    path = tmp_path / "bad.sgf"
    path.write_bytes(b"(;SZ[9];B[")
    with pytest.raises(SgfError, match="bad.sgf"):
        load_sgf_file(path)


def test_read_sgf_dir_skips_and_counts_broken_files(tmp_path, caplog):
    good = record_from_position(random_game(Rules(size=9), seed=2, moves=30))
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    save_sgf_file(tmp_path / "a.sgf", good)
    save_sgf_file(tmp_path / "sub" / "b.SGF", good)
    save_sgf_file(tmp_path / "sub" / "deeper" / "c.sgf", good)
    (tmp_path / "truncated.sgf").write_bytes(write_sgf(good)[:40])
    (tmp_path / "garbage.sgf").write_bytes(bytes(range(256)))
    (tmp_path / "empty.sgf").write_bytes(b"")
    (tmp_path / "sub" / "huge.sgf").write_bytes(b"(;SZ[40];B[aa])")
    (tmp_path / "sub" / "illegal.sgf").write_bytes(b"(;SZ[9];B[ee];W[ee])")
    (tmp_path / "notes.txt").write_text("not a record")
    (tmp_path / "dir.sgf").mkdir()  # a directory with an SGF name is not a file

    with caplog.at_level(logging.WARNING, logger="envs.go.sgf"):
        records, skipped = read_sgf_dir(tmp_path)
    assert (len(records), skipped) == (3, 5)
    assert all(r == good for r in records)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 5
    assert all("\n" not in w for w in warnings)
    assert any("illegal.sgf" in w and "move 2" in w for w in warnings)

    assert read_sgf_dir(tmp_path, recursive=False)[1] == 3
    assert len(read_sgf_dir(tmp_path, recursive=False)[0]) == 1
    records, skipped = read_sgf_dir(tmp_path, replay=False)  # the illegal game parses
    assert (len(records), skipped) == (4, 4)


# ---- a real corpus ------------------------------------------------------------------------------

def _goban_files(pattern: str) -> list[Path]:
    require("goban-original-games (apt-get install --no-install-recommends goban-original-games)",
            GOBAN_DIR.is_dir() and any(GOBAN_DIR.glob("*.sgf")))
    return sorted(GOBAN_DIR.glob(pattern))


def test_goban_original_games_replay():
    """Professional games: nearly all replay (a few records hold a move onto a stone)."""
    files = _goban_files("*.sgf")
    records, skipped = read_sgf_dir(GOBAN_DIR)
    assert len(files) >= 140 and len(records) + skipped == len(files)
    assert len(records) >= 0.95 * len(files)
    # The same collection's *.mgt files are older SGF (FF[3]) under another name.
    mgt_ok = 0
    for path in _goban_files("*.mgt"):
        try:
            position_from_record(load_sgf_file(path))
            mgt_ok += 1
        except SgfError:
            pass
    assert mgt_ok >= 0.95 * len(_goban_files("*.mgt"))
    print(f"goban: {len(records)}/{len(files)} .sgf and {mgt_ok} .mgt games replayed")
    for record in records:
        assert record.size == 19 and len(record.moves) > 50
        assert read_sgf(write_sgf(record)) == record


@pytest.mark.gnugo
def test_goban_games_end_where_gnugo_says(gnugo_path):
    """GNU Go's own SGF reader and rules, on real games: the same final stones and captures.
    This checks our point conversion against an independent one, not just against itself."""
    from envs.go.gtp_client import GtpClient

    files = _goban_files("*.sgf")[::4]
    with GtpClient([gnugo_path, "--mode", "gtp"]) as gnugo:
        compared = 0
        for path in files:
            try:
                pos = position_from_record(load_sgf_file(path))
            except SgfError:
                continue
            try:
                gnugo.send(f"loadsgf {path}")
            except GoError:
                continue
            black, white, by_black, by_white = gnugo.send_many(
                ["list_stones black", "list_stones white", "captures black", "captures white"])
            assert {from_gtp(v, 19) for v in black.split()} == set(
                np.flatnonzero(pos.board == BLACK).tolist()), path
            assert {from_gtp(v, 19) for v in white.split()} == set(
                np.flatnonzero(pos.board == WHITE).tolist()), path
            assert (int(by_black), int(by_white)) == pos.prisoners, path
            compared += 1
    assert compared >= 0.9 * len(files)


# ---- reading files safely (issue 22, finding 8) ------------------------------------------------

def test_only_regular_files_are_read(tmp_path):
    """A FIFO used to block forever and /dev/zero to read without end; both are one error."""
    fifo = tmp_path / "pipe.sgf"
    os.mkfifo(fifo)  # nobody writes: opening it for a blocking read would never return
    for path, reason in [(fifo, "not a regular file"), (tmp_path, "not a regular file"),
                         (Path("/dev/zero"), "not a regular file"),
                         (tmp_path / "missing.sgf", "No such file or directory")]:
        with pytest.raises(SgfError) as caught:
            load_sgf_file(path)
        assert str(caught.value) == f"{str(path)!r}: {reason}"


def test_files_over_the_size_cap_are_refused_unread(tmp_path):
    path = tmp_path / "huge.sgf"
    with open(path, "wb") as file:
        file.truncate(MAX_SGF_BYTES + 1)  # sparse: no disk space used
    with pytest.raises(SgfError, match=r"larger than 8 MB, the limit for an SGF file"):
        load_sgf_file(path)


ESCAPE = "\x1b[2J\x1b[31m\x07\r\nrlgo: error: fake"  # no "]": it would end the value


@pytest.mark.parametrize("record", [
    f"(;GM[{ESCAPE}])", f"(;SZ[{ESCAPE}])", f"(;SZ[9]KM[{ESCAPE}])", f"(;SZ[9]HA[{ESCAPE}])",
    f"(;SZ[9];B[{ESCAPE}])", f"(;SZ[9];W[{ESCAPE * 1000}])", f"(;SZ[{'9' * 5000}])",
    f"(;SZ[9]HA[{'9' * 5000}])", f"(;SZ[9]CA[{ESCAPE}];B[{ESCAPE}])",
    f"(;SZ[9]PL[{ESCAPE}])", f"(;SZ[9]AB[{ESCAPE}])",
], ids=["GM", "SZ", "KM", "HA", "move", "long move", "huge SZ", "huge HA", "CA", "PL", "AB"])
def test_errors_quote_the_files_bytes_safely(tmp_path, record):
    """A record cannot write escape sequences, newlines or screenfuls to the terminal."""
    path = tmp_path / "bad\x1b[31m\nname.sgf"
    path.write_bytes(record.encode("latin-1"))
    with pytest.raises(SgfError) as caught:
        load_sgf_file(path)
    message = str(caught.value)
    assert message.isprintable() and len(message) < 400, message
    assert message.startswith("'") and "\\x1b[31m\\nname.sgf'" in message
    assert "fake" in message or "9999" in message  # the value is shown, escaped
