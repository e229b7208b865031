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
    assert err == f"rlgo: error: '{tmp_path / 'nope.sgf'}': No such file or directory"


def test_atari_games_lists_bundled_roms(capsys):
    assert main(["atari", "games"]) == 0
    names = capsys.readouterr().out.split()
    assert "Pong" in names and "Breakout" in names and len(names) > 50


def test_go_show_prints_a_record_and_its_score(tmp_path, capsys):
    from envs.go import Position, Rules, from_gtp
    from envs.go.sgf import record_from_position
    from envs.go.sgf_files import save_sgf_file

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


def test_a_user_error_deep_in_a_command_is_one_line_and_exit_2(monkeypatch, capsys):
    """rlgo.cli.main is the one place a UserError of any layer becomes the one-line error."""
    from envs.errors import UserError
    from rlgo.bench import go

    class DeepError(UserError):
        pass

    def deep(*_):
        raise DeepError("the run cannot go on: change X")

    monkeypatch.setattr(go, "run", deep)
    assert main(["bench", "go"]) == 2
    assert capsys.readouterr().err == "rlgo: error: the run cannot go on: change X\n"

    def bug(*_):
        raise RuntimeError("a bug")

    monkeypatch.setattr(go, "run", bug)
    with pytest.raises(RuntimeError, match="a bug"):  # a bug keeps its traceback
        main(["bench", "go"])


def test_a_bad_dataset_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "meta.json").write_text("{not json")
    assert main(["go", "train-sl", "--data", str(tmp_path / "data"), "--run-dir",
                 str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlgo: error:") and "not an rlgo dataset" in err
    assert err.count("\n") == 1


def test_atari_train_without_its_shipped_config_is_an_error(monkeypatch, tmp_path, capsys):
    """No silent fallback to the dataclass defaults when the default config is not there."""
    monkeypatch.setattr("rlgo.config._shipped_files", dict)
    assert main(["atari", "train", "--env", "Pong", "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlgo: error: no shipped configs") and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_malformed_override_is_one_line_and_exit_2(capsys):
    assert main(["bench", "go", "--set", "seconds=[1,"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlgo: error: --set 'seconds=[1,' is not valid YAML")
    assert err.count("\n") == 1


@pytest.mark.parametrize("argv, prog, says", [
    (["go", "selfplay", "--bogus"], "rlgo go selfplay", "unrecognized arguments: --bogus"),
    (["go", "selfplay", "--actors", "0"], "rlgo go selfplay", "must be at least 1"),
    (["go", "show"], "rlgo go show", "required: sgf"),
    (["go", "frob"], "rlgo go", "invalid choice: 'frob'"),
    ([], "rlgo", "required"),
])
def test_a_usage_error_is_one_line_and_exit_2(argv, prog, says, capsys):
    """argparse's usage block (7 lines for `go selfplay`) would bury the one line that matters."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"{prog}: error: ") and says in captured.err
    assert captured.err.endswith(f"(see {prog} --help)\n") and captured.err.count("\n") == 1


def test_help_still_prints_the_usage_block(capsys):
    assert main(["go", "selfplay", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: rlgo go selfplay")


@pytest.mark.parametrize("content", [b"seconds: [1,\n", b"seconds: \xff\xfe\n",
                                     b"seconds: !!python/object/apply:os.system [ls]\n",
                                     b"\tseconds: 1\n", b"- 1\n"])
def test_a_bad_config_file_is_one_line_and_exit_2(content, tmp_path, capsys):
    """Malformed YAML, bytes that are not UTF-8, a Python tag, a tab, a list: one line each."""
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    assert main(["bench", "go", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlgo: error: {path}") and err.count("\n") == 1


def test_a_python_tag_in_an_override_is_one_line_and_exit_2(capsys):
    assert main(["bench", "go", "--set", "seconds=!!python/object/apply:os.system [ls]"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlgo: error: --set") and "not valid YAML" in err
    assert err.count("\n") == 1
