"""TYGEM kifu lines -> SGF collections -> a 19x19 dataset; the same pipeline on real pro records."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np

from envs.go import BLACK, PASS, WHITE
from envs.go.sgf_files import load_sgf_games
from rlgo.cli import main
from selfplay.go.dataset import build_dataset, load_shard, shard_paths
from selfplay.go.tygem import convert, read_index
from tests.envs.test_sgf import _goban_files

# Two games in TYGEM's kifu format and their index lines (white, black, result, as TYGEM has
# them; the index's names here are made up).
KIFU = ("101\t;B[pd];W[dp];B[pq];W[dd];B[fc]\n"
        "102\tnot moves at all\n"
        "103\t;B[qd];W[];B[dc]\n")
INDEX = ("101\tC2006.01.02 10:48\tw1\twhite one\t0\tb1\tblack one\t1\tW+Resign\t220\t30/3 5m\n"
         "103\tC2006.01.03 11:12\tw2\twhite two\t2\tb2\tblack two\t0\tB+3.5\t175\t10/3 1m\n")


def _zip(path, member, text):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, text)
    return path


def test_kifu_lines_become_sgf_games_with_the_index_facts(tmp_path):
    kifu = _zip(tmp_path / "2006-01.zip", "2006-01", KIFU)
    index = read_index([_zip(tmp_path / "Kifu2006.zip", "Kifu2006.index", INDEX)])
    counts = convert([kifu], tmp_path / "sgf", index=index, games_per_file=1, progress=None)
    assert counts == {"games": 2, "files": 2, "skipped": 1}
    first, second = (load_sgf_games(p)[0] for p in sorted((tmp_path / "sgf").rglob("*.sgf")))
    assert first.size == 19 and first.rules.komi == 6.5
    assert (first.result, first.player_black, first.player_white, first.date) == \
        ("W+R", "black one", "white one", "2006-01-02")
    # pd = column p (15), row d (3); passes stay passes
    assert first.moves[0] == (BLACK, 3 * 19 + 15) and first.moves[1] == (WHITE, 15 * 19 + 3)
    assert second.result == "B+3.5" and second.moves[1] == (WHITE, PASS)


def test_the_cli_converts_and_the_dataset_reads_every_move(tmp_path, capsys):
    kifu = _zip(tmp_path / "2006-01.zip", "2006-01", KIFU)
    assert main(["go", "import-tygem", str(kifu), "--out", str(tmp_path / "sgf"), "--quiet"]) == 0
    assert "2 games in 1 SGF files (1 lines skipped, no index" in capsys.readouterr().out
    meta = build_dataset(tmp_path / "sgf", tmp_path / "data", planes="simple", size=19,
                         val_fraction=0.0, workers=1, progress=None)
    assert meta["counts"]["train_positions"] == 8 and meta["counts"]["train_games"] == 2
    shard = load_shard(shard_paths(tmp_path / "data", "train")[0])
    assert shard["planes"].shape == (8, 16, 19, 19) and shard["move"][6] == 361
    assert main(["go", "import-tygem", str(tmp_path / "missing.zip"), "--out",
                 str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlgo: error:") and err.count("\n") == 1


def test_real_professional_records_make_a_19x19_dataset(tmp_path):
    """A few of Debian's professional records (goban-original-games) through the dataset: every
    move of the games that replay becomes a position, in both splits."""
    files = _goban_files("*.sgf")[:6]
    for path in files:
        shutil.copy(path, tmp_path / path.name)
    meta = build_dataset(tmp_path, tmp_path / "data", planes="alphago", size=19,
                         val_fraction=0.3, workers=1, progress=None)
    counts = meta["counts"]
    assert counts["train_games"] + counts["val_games"] + counts["skipped_files"] == 6
    assert counts["train_positions"] > 500
    shard = load_shard(shard_paths(tmp_path / "data", "train")[0])
    assert shard["planes"].shape[1:] == (48, 19, 19)
    # the mover's stones plane counts the stones of the colour to move
    board, to_play = shard["board"][100], shard["to_play"][100]
    assert shard["planes"][100, 0].sum() == np.count_nonzero(board == to_play)
