"""The `rlgo` command line as a user meets it: help, version, benchmarks, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rlgo import __version__
from rlgo.cli import main


def test_version_and_help_from_the_installed_entry_point():
    out = subprocess.run([sys.executable, "-m", "rlgo.cli", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == f"rlgo {__version__}"
    helptext = subprocess.run([sys.executable, "-m", "rlgo.cli", "--help"], capture_output=True,
                              text=True, check=True).stdout
    for group in ("go", "atari", "bench"):
        assert group in helptext


@pytest.mark.parametrize("group", ["go", "atari", "bench"])
def test_each_group_has_help(group, capsys):
    assert main([group, "--help"]) == 0
    assert "COMMAND" in capsys.readouterr().out


def test_bench_go_writes_json(tmp_path, capsys):
    out = tmp_path / "go.json"
    code = main(["bench", "go", "--json", str(out), "--set", "seconds=0.05", "--set", "rounds=1",
                 "--set", "cold_start_runs=1"])
    assert code == 0
    figures = json.loads(out.read_text())
    for key in ("playouts_per_s_9x9", "playouts_per_s_19x19", "cold_start_s"):
        assert figures[key] > 0
    assert "playouts_per_s_9x9" in capsys.readouterr().out


def test_bad_config_key_is_one_line_and_exit_2(capsys):
    assert main(["bench", "go", "--set", "secnds=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rlgo: error:") and "secnds" in err and "\n" not in err


def test_missing_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["go", "show", str(tmp_path / "nope.sgf")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rlgo: error:") and "\n" not in err


def test_atari_games_lists_bundled_roms(capsys):
    assert main(["atari", "games"]) == 0
    names = capsys.readouterr().out.split()
    assert "Pong" in names and "Breakout" in names and len(names) > 50


def test_go_show_prints_a_record_and_its_score(tmp_path, capsys):
    from envs.go import Position, Rules, from_gtp
    from envs.go.sgf import record_from_position, save_sgf_file

    pos = Position.new(Rules(size=9, komi=7))
    for vertex in ("E5", "C3", "D4", "pass", "pass"):
        pos = pos.play(from_gtp(vertex, 9))
    path = tmp_path / "game.sgf"
    save_sgf_file(path, record_from_position(pos, result=pos.result()))
    assert main(["go", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Tromp-Taylor area result W+6" in out and "move 5" in out
    assert main(["go", "show", str(path), "--move", "1"]) == 0
    assert "move 1;" in capsys.readouterr().out


def test_go_show_broken_record_is_one_line(tmp_path, capsys):
    path = tmp_path / "broken.sgf"
    path.write_bytes(b"(;GM[1]SZ[9];B[ee];W[ee])")  # W plays on an occupied point
    assert main(["go", "show", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rlgo: error:") and "\n" not in err
