"""SGF game collections -> compressed numpy shards that the training loops read.

    rlgo go dataset runs/alphago/teacher9 --out runs/alphago/data9 --planes alphago

Every game of every .sgf file under the input directory (recursively, sorted by path) is
used: a collection file, `(;...)(;...)`, gives each of its games, named "PATH#N" (N from 1)
in meta's files list; a one-game file is named PATH. A game's id is its index in that list.
Games go to the validation split by a hash of their file's path relative to the input
directory (sha1, so the split is the same on every machine and does not move when other
files are added; all games of a collection land in the same split), the rest to train: no
game is in both.

Format (other tools rely on it):

    DIR/meta.json   {"format": "rlgo-go-dataset-1", "size", "planes", "num_planes",
                     "komi" (of the first game; "komis": every komi seen), "val_fraction",
                     "counts": {"train_positions", "val_positions", "train_games",
                     "val_games", "skipped_files", "other_size_games", "train_shards",
                     "val_shards", "sgf_files", "multi_game_files"},
                     "sources": {"dir", "files": [name of game id 0, 1, ...]}}
    skipped_files counts each file that cannot be read and each game that cannot be
    replayed (for one-game files, the files skipped); multi_game_files the collections.
    DIR/train/shard-00000.npz, DIR/val/shard-00000.npz, ...   (np.savez_compressed,
                     about `shard_positions` positions each, whole games per shard)

Arrays of a shard, N positions, one per move played (S = board size, n = S*S):

    planes     uint8 [N, C, S, S]  features.py planes of the position, player to move's view
    move       int16 [N]           the move played there: row*S+col, pass = n
    board      int8  [N, n]        Position.board (EMPTY 0 / BLACK 1 / WHITE 2, row 0 on top)
    to_play    int8  [N]           BLACK 1 or WHITE 2
    ko         int16 [N]           the simple-ko point the player may not retake, -1 none
    last_move  int16 [N]           the previous move's point, -1 for none or a pass
    outcome    int8  [N]           +1 the player to move won the game, -1 lost, 0 draw/unknown
    game       int32 [N]           game id (index into meta["sources"]["files"])

A move played out of turn (setup-like sequences) is played but not kept as a sample, since
the planes describe the position for the player to move. A file that cannot be read, or a
game that cannot be replayed, is skipped and counted; games of another board size are
counted and left out. Only each game's main line is used, not its variations.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from agents.alphago.nets.features import features, num_planes
from envs.atomic import atomic_file
from envs.errors import UserError
from envs.go import BLACK, PASS, Position, winner_from_result
from envs.go.sgf import GameRecord
from envs.go.sgf_files import load_sgf_collection

FORMAT = "rlgo-go-dataset-1"
SPLITS = ("train", "val")
FIELDS = ("planes", "move", "board", "to_play", "ko", "last_move", "outcome", "game")


def is_validation(name: str, val_fraction: float) -> bool:
    """Whether the games of the file at relative path `name` are held out (a stable hash of
    the name)."""
    digest = hashlib.sha1(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < val_fraction


def file_arrays(path: str, size: int, planes: str) -> list[dict[str, Any]]:
    """record_arrays for every game of the file, in order; [{"skip": "broken"}] for a file
    that cannot be read at all (it then counts as one broken game)."""
    try:
        games = load_sgf_collection(path)
    except Exception:  # any way a file can be broken: skip it and count it
        return [{"skip": "broken"}]
    return [{"skip": "broken"} if isinstance(record, Exception) else
            record_arrays(record, size, planes) for record in games]


def record_arrays(record: GameRecord, size: int, planes: str) -> dict[str, Any]:
    """One game's samples as the shard arrays (see the module docstring, all but "game")
    plus its "komi", or {"skip": reason} with reason "broken" or "size"."""
    try:
        if record.size != size:
            return {"skip": "size"}
        position = Position.new(record.rules).with_stones(
            record.black_setup, record.white_setup,
            to_play=record.first_player or (record.moves[0][0] if record.moves else BLACK))
        winner = winner_from_result(record.result)
        n = size * size
        rows: dict[str, list] = {name: [] for name in FIELDS}
        for colour, move in record.moves:
            if colour == position.to_play:
                rows["planes"].append(features(position, planes))
                rows["move"].append(n if move == PASS else move)
                rows["board"].append(position.board)
                rows["to_play"].append(colour)
                rows["ko"].append(position.ko)
                last = position.last_move
                rows["last_move"].append(-1 if last is None or last < 0 else last)
                rows["outcome"].append(0 if winner is None else (1 if winner == colour else -1))
            position = position.play(move, colour)
    except Exception:  # any way a file can be broken: skip it and count it
        return {"skip": "broken"}
    count = len(rows["move"])
    c = num_planes(planes)
    return {
        "planes": np.asarray(rows["planes"], np.uint8).reshape(count, c, size, size),
        "move": np.asarray(rows["move"], np.int16),
        "board": np.asarray(rows["board"], np.int8).reshape(count, n),
        "to_play": np.asarray(rows["to_play"], np.int8),
        "ko": np.asarray(rows["ko"], np.int16),
        "last_move": np.asarray(rows["last_move"], np.int16),
        "outcome": np.asarray(rows["outcome"], np.int8),
        "komi": record.rules.komi,
    }


def _job(args: tuple[str, int, str]) -> list[dict[str, Any]]:
    return file_arrays(*args)


class DatasetError(UserError, ValueError):
    """A dataset that cannot be built or used as asked; the message is for the user."""


class _ShardWriter:
    """Collects games of one split and writes a shard once `limit` positions are waiting."""

    def __init__(self, directory: Path, limit: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("shard-*.npz"):
            old.unlink()
        self.directory, self.limit = directory, limit
        self.pending: list[dict[str, np.ndarray]] = []
        self.waiting = self.positions = self.games = self.shards = 0

    def add(self, arrays: dict[str, np.ndarray]) -> None:
        self.pending.append({k: arrays[k] for k in FIELDS})
        self.waiting += len(arrays["move"])
        self.positions += len(arrays["move"])
        self.games += 1
        if self.waiting >= self.limit:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        merged = {k: np.concatenate([g[k] for g in self.pending]) for k in FIELDS}
        path = self.directory / f"shard-{self.shards:05d}.npz"
        with atomic_file(path) as f:
            np.savez_compressed(f, **merged)
        self.shards += 1
        self.pending, self.waiting = [], 0


def build_dataset(sgf_dir: str | Path, out: str | Path, planes: str = "alphago", size: int = 9,
                  val_fraction: float = 0.05, shard_positions: int = 50_000,
                  workers: int | None = None,
                  progress: Callable[[str], None] | None = print,
                  progress_every: float = 10.0) -> dict[str, Any]:
    """Turn every SGF file under `sgf_dir` into shards under `out`; returns the meta dict.

    workers: processes replaying games and computing planes (None: all cores; 1: this one).
    Shards already in `out` are replaced. OSError if `sgf_dir` is not a directory.
    """
    num_planes(planes)  # ValueError for an unknown set
    if not 0.0 <= val_fraction < 1.0:
        raise DatasetError(f"val_fraction must be in [0, 1), got {val_fraction}")
    base = Path(sgf_dir)
    if not base.is_dir():
        raise FileNotFoundError(f"{base}: not a directory of SGF files")
    files = sorted(p for p in base.rglob("*") if p.suffix.lower() == ".sgf" and p.is_file())
    names = [p.relative_to(base).as_posix() for p in files]
    out = Path(out)
    writers = {s: _ShardWriter(out / s, shard_positions) for s in SPLITS}
    skipped = {"broken": 0, "size": 0}
    komis: set[float] = set()
    game_names: list[str] = []  # by game id
    multi = multi_games = 0
    jobs = [(str(p), size, planes) for p in files]
    start = next_report = time.monotonic()
    for done, (name, games) in enumerate(zip(names, _results(jobs, workers), strict=True), 1):
        if len(games) > 1:
            multi, multi_games = multi + 1, multi_games + len(games)
        split = "val" if is_validation(name, val_fraction) else "train"
        for number, arrays in enumerate(games, 1):
            game_id = len(game_names)
            game_names.append(f"{name}#{number}" if len(games) > 1 else name)
            if "skip" in arrays:
                skipped[arrays["skip"]] += 1
                continue
            komis.add(float(arrays["komi"]))
            arrays["game"] = np.full(len(arrays["move"]), game_id, np.int32)
            writers[split].add(arrays)
        now = time.monotonic()
        if progress is not None and (now >= next_report or done == len(jobs)):
            next_report = now + progress_every
            made = writers["train"].positions + writers["val"].positions
            progress(f"files {done}/{len(jobs)}, games {len(game_names)} | {made} positions | "
                     f"{made / max(now - start, 1e-9):.0f} positions/s | "
                     f"{skipped['broken']} skipped")
    if progress is not None and multi:
        progress(f"{multi} of {len(files)} files held several games (collections): "
                 f"{multi_games} games read from them")
    for writer in writers.values():
        writer.flush()
    meta = {"format": FORMAT, "size": size, "planes": planes, "num_planes": num_planes(planes),
            "komi": sorted(komis)[0] if komis else None, "komis": sorted(komis),
            "val_fraction": val_fraction,
            "counts": {**{f"{s}_positions": writers[s].positions for s in SPLITS},
                       **{f"{s}_games": writers[s].games for s in SPLITS},
                       "skipped_files": skipped["broken"], "other_size_games": skipped["size"],
                       **{f"{s}_shards": writers[s].shards for s in SPLITS},
                       "sgf_files": len(files), "multi_game_files": multi},
            "sources": {"dir": str(base), "files": game_names}}
    tmp = out / ".meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=1))
    os.replace(tmp, out / "meta.json")
    return meta


def _results(jobs: list[tuple[str, int, str]], workers: int | None) -> Iterator[list[dict]]:
    """file_arrays for every job, in order: in this process or a pool of `workers`."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < 2:
        yield from map(_job, jobs)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_job, jobs, chunksize=8)


def load_meta(directory: str | Path) -> dict[str, Any]:
    """DIR/meta.json as a dict (FileNotFoundError / DatasetError when missing or not one)."""
    path = Path(directory) / "meta.json"
    try:
        meta = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError):
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DatasetError(f"{path}: not an rlgo dataset (expected format {FORMAT})")
    return meta


def shard_paths(directory: str | Path, split: str) -> list[Path]:
    """The shards of one split, in order."""
    return sorted((Path(directory) / split).glob("shard-*.npz"))


def load_shard(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of one shard, in memory."""
    with np.load(path) as data:
        return {k: data[k] for k in data.files}
