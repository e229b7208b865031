"""Teacher games: GNU Go against itself on real local Ray, SGF files, resume, the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go import DEFAULT_KOMI
from envs.go.sgf import position_from_record
from envs.go.sgf_files import load_sgf_file
from rlgo.cli import main
from selfplay.go.teacher import (
    TEACHER_RUNTIME,
    TeacherSettings,
    parse_levels,
    parse_range,
    random_opening,
    run_generation,
)
from selfplay.runtime import make_backend


def test_levels_parse_ranges_and_weights():
    assert parse_levels("6-10") == (6, 7, 8, 9, 10)
    assert parse_levels("8,10,10") == (8, 10, 10)
    assert parse_levels("") == ()
    with pytest.raises(ValueError):
        parse_levels("ten")
    with pytest.raises(ValueError):
        TeacherSettings(command="gnugo --mode gtp --level 5", levels=(1, 2))
    assert parse_range("1-4") == (1, 4) and parse_range("0") == (0, 0)
    with pytest.raises(ValueError, match="range"):
        parse_range("a-b")
    with pytest.raises(ValueError, match="opening_moves"):
        TeacherSettings(opening_moves=(3, 1))


def test_random_openings_stay_off_the_edge():
    from envs.go import Position, Rules

    rng = np.random.default_rng(3)
    for _ in range(20):
        position = random_opening(Position.new(Rules(size=9)), 4, rng)
        for _, move in position.moves():
            row, col = divmod(move, 9)
            assert 1 <= row <= 7 and 1 <= col <= 7


def _check_games(out, count, level):
    files = sorted(out.glob("game-*.sgf"))
    assert [f.name for f in files] == [f"game-{i:06d}.sgf" for i in range(1, count + 1)]
    for path in files:
        record = load_sgf_file(path)
        final = position_from_record(record)  # every move legal under our rules
        assert record.size == 9 and record.rules.komi == DEFAULT_KOMI
        assert record.result and record.result[0] in "BW0"
        assert record.player_black == f"gnugo level {level}"
        assert final.move_number >= 2
        assert final.is_game_over() or "move cap" in record.extra["GC"][0]
    return files


def test_gen_data_on_ray_writes_games_and_resumes(ray_session, gnugo_path, tmp_path):
    settings = TeacherSettings(command=f"{gnugo_path} --mode gtp", levels=(1,), seed=1)
    lines = []
    summary = run_generation(settings, tmp_path, 2,
                             backend=make_backend(TEACHER_RUNTIME, learner=False),
                             progress=lines.append, progress_every=0.0)
    assert summary["games"] == 2 and summary["new_games"] == 2
    assert lines and "games 2/2" in lines[-1] and "games/s" in lines[-1]
    first = _check_games(tmp_path, 2, 1)[0].read_bytes()
    # a rerun with a larger target plays only the missing game and keeps the old ones
    summary = run_generation(settings, tmp_path, 3,
                             backend=make_backend(TEACHER_RUNTIME, learner=False),
                             progress=None)
    assert summary["games"] == 3 and summary["new_games"] == 1
    _check_games(tmp_path, 3, 1)
    assert (tmp_path / "game-000001.sgf").read_bytes() == first
    # and one with nothing left to do returns at once
    assert run_generation(settings, tmp_path, 3, progress=None)["new_games"] == 0


def test_gen_data_cli_in_process(gnugo_path, tmp_path, capsys):
    args = ["go", "gen-data", "--teacher", f"{gnugo_path} --mode gtp", "--levels", "1",
            "--games", "1", "--out", str(tmp_path), "--local", "--max-moves", "20", "--quiet",
            "--opening-moves", "0"]
    assert main(args) == 0
    assert "1 games" in capsys.readouterr().out
    record = load_sgf_file(tmp_path / "game-000001.sgf")
    assert len(record.moves) <= 20
    assert record.extra["GC"][0].startswith("rlgo teacher game: 0 random opening moves")
    assert main(args) == 0
    assert "nothing to do" in capsys.readouterr().out


@pytest.mark.parametrize("option", [["--levels", "x"], ["--opening-moves", "4-1"]])
def test_gen_data_cli_bad_levels_is_one_line(option, tmp_path, capsys):
    assert main(["go", "gen-data", *option, "--games", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlgo: error:") and err.count("\n") == 1


def test_gen_data_cli_engine_that_cannot_start_is_one_line(tmp_path, capsys):
    assert main(["go", "gen-data", "--teacher", str(tmp_path / "no-such-engine"),
                 "--games", "1", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlgo: error:") and "cannot start" in err and err.count("\n") == 1
