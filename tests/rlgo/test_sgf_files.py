"""Every front end that reads SGF files reads them safely (issue 22, finding 8): `rlgo go show`
on a FIFO or /dev/zero gives one error line at once, and neither its errors nor its output let
a record's bytes write escape sequences or newlines to the terminal; GTP loadsgf and the GUI
go through the same reader (envs.go.sgf.load_sgf_file)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from envs.go.errors import SgfError
from rlgo.gui.game import load_game
from tests.rlgo.test_gtp_engine import fails, make

ESCAPE = "\x1b[2J\x1b[31m\x07\r\nrlgo: error: fake"


def _show(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rlgo.cli", "go", "show", *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.sgf"
    os.mkfifo(path)  # nobody writes: a blocking open for reading would never return
    return path


def test_go_show_refuses_a_fifo_and_dev_zero_at_once(fifo):
    for path in (str(fifo), "/dev/zero"):
        run = _show(path)
        assert (run.returncode, run.stdout) == (2, "")
        assert run.stderr == f"rlgo: error: {path!r}: not a regular file\n"


def test_go_show_never_prints_a_records_control_characters(tmp_path):
    bad = tmp_path / "bad.sgf"
    bad.write_text(f"(;GM[1]SZ[9];B[ee];W[{ESCAPE}])", encoding="latin-1")
    run = _show(str(bad))
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    assert "\x1b" not in run.stderr and "\r" not in run.stderr and "\\x1b[2J" in run.stderr
    shown = tmp_path / "result.sgf"
    shown.write_text(f"(;GM[1]SZ[9]RE[{ESCAPE}];B[ee])", encoding="latin-1")
    run = _show(str(shown))
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stdout and "\r" not in run.stdout and "\\x1b[2J" in run.stdout


def test_gtp_loadsgf_and_the_gui_use_the_same_safe_reader(tmp_path, fifo):
    engine = make()
    assert fails(engine, f"loadsgf {fifo}") == (
        f"cannot open or parse {str(fifo)!r}: not a regular file")
    assert fails(engine, "loadsgf /dev/zero") == (
        "cannot open or parse '/dev/zero': not a regular file")
    huge = tmp_path / "huge.sgf"
    with open(huge, "wb") as file:
        file.truncate(64 << 20)
    assert fails(engine, f"loadsgf {huge}").endswith("larger than 8 MB, the limit for an SGF file")
    with pytest.raises(SgfError, match="not a regular file"):
        load_game(fifo)
    illegal = tmp_path / "illegal.sgf"
    illegal.write_bytes(b"(;GM[1]SZ[9];B[ee];W[ee])")
    with pytest.raises(SgfError, match=r"illegal\.sgf': move 2"):  # replay errors name it too
        load_game(illegal)


def test_go_dataset_skips_pipes_devices_and_oversized_files(tmp_path):
    from selfplay.go.dataset import build_dataset

    sgf = tmp_path / "sgf"
    sgf.mkdir()
    (sgf / "a-game.sgf").write_text("(;GM[1]SZ[9]KM[7]RE[W+3.5];B[ee];W[cc])")
    os.mkfifo(sgf / "b-pipe.sgf")
    (sgf / "c-zero.sgf").symlink_to("/dev/zero")
    with open(sgf / "d-huge.sgf", "wb") as file:
        file.truncate(64 << 20)
    meta = build_dataset(sgf, tmp_path / "data", planes="simple", val_fraction=0.0, workers=1,
                         progress=None)
    assert meta["counts"]["train_games"] == 1 and meta["counts"]["skipped_files"] == 1


def test_go_show_says_a_file_holds_several_games_and_shows_any(tmp_path):
    """A collection: game 1 by default with a note on stderr, --game N for another."""
    both = tmp_path / "both.sgf"
    both.write_text("(;GM[1]SZ[9]KM[7];B[ee])\n(;GM[1]SZ[9]KM[7];B[cc];W[gg];B[cg])")
    first = _show(str(both))
    assert first.returncode == 0, first.stderr
    assert first.stderr == (f"{str(both)!r} holds 2 games; showing game 1 (--game N for "
                            "another)\n")
    assert first.stdout.splitlines()[-1].startswith("move 1;")
    second = _show(str(both), "--game", "2")
    assert second.returncode == 0 and "showing game 2" in second.stderr
    assert second.stdout.splitlines()[-1].startswith("move 3;")
    missing = _show(str(both), "--game", "3")
    assert missing.returncode == 2 and "no game 3: the file holds 2 games" in missing.stderr
    single = tmp_path / "one.sgf"
    single.write_text("(;GM[1]SZ[9]KM[7];B[ee])")
    quiet = _show(str(single))
    assert quiet.returncode == 0 and quiet.stderr == ""
