"""Dataset shards against a hand-checked game, the by-game split, skipped files, the CLI."""

from __future__ import annotations

import json

import numpy as np

from agents.alphago.nets.features import features
from envs.go import BLACK, WHITE, Position, Rules
from rlgo.cli import main
from selfplay.go.dataset import (
    build_dataset,
    is_validation,
    load_meta,
    load_shard,
    shard_paths,
)

# B E5, W C7, B pass, W G3 on 9x9; White won. Flat index = row * 9 + col, row 0 on top:
# E5 = ee = (4, 4) -> 40, C7 = cc = (2, 2) -> 20, pass -> 81, G3 = gg = (6, 6) -> 60.
HAND_GAME = "(;GM[1]FF[4]SZ[9]KM[7]RE[W+3.5];B[ee];W[cc];B[];W[gg])"


def _write(directory, name, text):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_shard_arrays_match_a_hand_checked_game(tmp_path):
    sgf = tmp_path / "sgf"
    _write(sgf, "a-hand.sgf", HAND_GAME)
    _write(sgf, "b-illegal.sgf", "(;GM[1]SZ[9];B[ee];W[ee])")       # occupied point
    _write(sgf, "c-garbage.sgf", "this is not SGF")
    _write(sgf, "d-big.sgf", "(;GM[1]SZ[19]KM[6.5];B[pd];W[dd])")  # another size
    meta = build_dataset(sgf, tmp_path / "data", planes="simple", val_fraction=0.0,
                         workers=1, progress=None)
    counts = meta["counts"]
    assert counts["skipped_files"] == 2 and counts["other_size_games"] == 1
    assert counts["train_games"] == 1 and counts["train_positions"] == 4
    assert counts["val_games"] == 0 and counts["val_positions"] == 0
    assert meta["sources"]["files"][0] == "a-hand.sgf"
    assert load_meta(tmp_path / "data") == json.loads((tmp_path / "data/meta.json").read_text())

    shard = load_shard(shard_paths(tmp_path / "data", "train")[0])
    assert shard["move"].tolist() == [40, 20, 81, 60] and shard["move"].dtype == np.int16
    assert shard["to_play"].tolist() == [BLACK, WHITE, BLACK, WHITE]
    assert shard["outcome"].tolist() == [-1, 1, -1, 1]  # White won
    assert shard["last_move"].tolist() == [-1, 40, 20, -1]  # nothing, E5, C7, a pass
    assert shard["ko"].tolist() == [-1, -1, -1, -1]
    assert shard["game"].tolist() == [0, 0, 0, 0]
    assert shard["planes"].shape == (4, 16, 9, 9) and shard["planes"].dtype == np.uint8
    assert shard["board"].shape == (4, 81) and shard["board"][1, 40] == BLACK
    assert shard["board"][3, 20] == WHITE and shard["board"][0].sum() == 0
    # planes are features.py's for the player to move: White sees E5 as an opponent stone
    position = Position.new(Rules(size=9, komi=7)).play(40)
    assert np.array_equal(shard["planes"][1], features(position, "simple"))
    assert shard["planes"][1, 1, 4, 4] == 1 and shard["planes"][1, 0, 4, 4] == 0


def test_split_is_by_game_and_stable(tmp_path):
    sgf = tmp_path / "sgf"
    for i in range(40):
        moves = ";B[ee];W[cc]" if i % 2 else ";B[dd];W[ff];B[ec]"
        _write(sgf, f"games/g{i:02d}.sgf", f"(;GM[1]SZ[9]KM[7]RE[B+R]{moves})")
    meta = build_dataset(sgf, tmp_path / "data", planes="simple", val_fraction=0.25,
                         shard_positions=10, workers=2, progress=None)
    names = meta["sources"]["files"]
    splits = {}
    for split in ("train", "val"):
        paths = shard_paths(tmp_path / "data", split)
        assert len(paths) == meta["counts"][f"{split}_shards"] >= 1
        games = np.concatenate([load_shard(p)["game"] for p in paths])
        splits[split] = set(games.tolist())
        assert len(games) == meta["counts"][f"{split}_positions"]
        assert all(is_validation(names[g], 0.25) == (split == "val") for g in splits[split])
    assert not splits["train"] & splits["val"]
    assert len(splits["train"]) + len(splits["val"]) == 40 and splits["val"]
    again = build_dataset(sgf, tmp_path / "data2", planes="simple", val_fraction=0.25,
                          workers=1, progress=None)
    assert again["counts"]["val_games"] == meta["counts"]["val_games"]


def test_dataset_cli(tmp_path, capsys):
    _write(tmp_path / "sgf", "one.sgf", HAND_GAME)
    assert main(["go", "dataset", str(tmp_path / "sgf"), "--out", str(tmp_path / "d"),
                 "--val-fraction", "0", "--workers", "1", "--quiet"]) == 0
    assert "4 train / 0 val positions" in capsys.readouterr().out
    assert load_meta(tmp_path / "d")["planes"] == "alphago"
    assert main(["go", "dataset", str(tmp_path / "missing"), "--out",
                 str(tmp_path / "d2")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlgo: error:") and err.count("\n") == 1


def test_every_game_of_a_collection_is_used(tmp_path):
    """A file holding several games gives each (named PATH#N); a broken one is counted alone."""
    sgf = tmp_path / "sgf"
    _write(sgf, "a-pair.sgf", HAND_GAME + "\n" + "(;GM[1]SZ[9]KM[7]RE[B+R];B[dd];W[ff];B[ec])"
           + "(;GM[1]SZ[9];B[ee];W[ee])")  # the third game plays onto a stone
    _write(sgf, "b-single.sgf", HAND_GAME)
    lines: list[str] = []
    meta = build_dataset(sgf, tmp_path / "data", planes="simple", val_fraction=0.0,
                         workers=1, progress=lines.append)
    counts = meta["counts"]
    assert counts["train_games"] == 3 and counts["train_positions"] == 4 + 3 + 4
    assert counts["skipped_files"] == 1 and counts["multi_game_files"] == 1
    assert counts["sgf_files"] == 2
    assert meta["sources"]["files"] == ["a-pair.sgf#1", "a-pair.sgf#2", "a-pair.sgf#3",
                                        "b-single.sgf"]
    games = load_shard(shard_paths(tmp_path / "data", "train")[0])["game"]
    assert games.tolist() == [0] * 4 + [1] * 3 + [3] * 4
    assert "1 of 2 files held several games (collections): 3 games read from them" in lines
