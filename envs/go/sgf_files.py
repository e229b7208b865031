"""SGF files on disk: reading them safely, writing them atomically, reading a folder of them.

Every reader of SGF files (go show, go dataset, the GUI, GTP loadsgf, read_sgf_dir) goes
through read_sgf_bytes (load_sgf_file and its siblings), which reads regular files only (a
FIFO would block forever, /dev/zero never end) and at most MAX_SGF_BYTES. Error messages
show the file's own bytes only through envs.errors.quoted: escaped and cut, so a record
cannot write escape sequences or newlines to the user's terminal.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from envs.atomic import atomic_write_bytes
from envs.errors import quoted

from .errors import SgfError
from .sgf import (
    GameRecord,
    error_text,
    position_from_record,
    read_sgf,
    read_sgf_collection,
    read_sgf_games,
    write_sgf,
)

logger = logging.getLogger(__name__)

# A game record is kilobytes; even a large commented collection is a few MB.
MAX_SGF_BYTES = 8 << 20


def read_sgf_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of the file at `path`, which must be a regular file of at most MAX_SGF_BYTES;
    SgfError (naming the file) otherwise, or when it cannot be read.

    The file is opened non-blocking, so a FIFO cannot hang the open, and checked through the
    open descriptor, so nothing can be swapped in between the check and the read."""
    shown = _shown_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise SgfError(f"{shown}: not a regular file")
            with os.fdopen(fd, "rb", closefd=False) as file:
                data = file.read(MAX_SGF_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as err:
        raise SgfError(f"{shown}: {err.strerror or error_text(err)}") from None
    if len(data) > MAX_SGF_BYTES:
        raise SgfError(f"{shown}: larger than {MAX_SGF_BYTES >> 20} MB, the limit for an SGF "
                       "file")
    return data


def load_sgf_file(path: str | os.PathLike, game: int = 1) -> GameRecord:
    """read_sgf on a file read by read_sgf_bytes (game `game` of a collection, the first by
    default; record.games_in_file says how many there are); an SgfError names the file."""
    data = read_sgf_bytes(path)
    try:
        return read_sgf(data, game)
    except SgfError as err:
        raise SgfError(f"{_shown_path(path)}: {err}") from err


def load_sgf_games(path: str | os.PathLike) -> list[GameRecord]:
    """Every game of the file (a collection holds several); SgfError naming the file if any
    game is unreadable. load_sgf_collection keeps the good games of a partly broken file."""
    data = read_sgf_bytes(path)
    try:
        return read_sgf_games(data)
    except SgfError as err:
        raise SgfError(f"{_shown_path(path)}: {err}") from err


def load_sgf_collection(path: str | os.PathLike) -> list[GameRecord | SgfError]:
    """read_sgf_collection on the file: each game's record or its error (naming the file)."""
    data = read_sgf_bytes(path)
    try:
        games = read_sgf_collection(data)
    except SgfError as err:
        raise SgfError(f"{_shown_path(path)}: {err}") from err
    where = [f"game {n}: " if len(games) > 1 else "" for n in range(1, len(games) + 1)]
    return [SgfError(f"{_shown_path(path)}: {at}{g}") if isinstance(g, SgfError) else g
            for at, g in zip(where, games, strict=True)]


def _shown_path(path: str | os.PathLike) -> str:
    return quoted(os.fsdecode(path), 300)  # names may hold anything; real paths fit


def save_sgf_file(path: str | os.PathLike, record: GameRecord) -> None:
    """Write atomically (a temporary file in the same directory, then os.replace), so a
    reader, or a crash mid-write, never sees half a record."""
    path = Path(path)
    data = write_sgf(record)
    atomic_write_bytes(path, data)


def read_sgf_dir(directory: str | os.PathLike, recursive: bool = True,
                 replay: bool = True) -> tuple[list[GameRecord], int]:
    """Every game of every .sgf file under `directory` (sorted by path; a collection gives all
    its games, in order) -> (records, number skipped).

    A file that cannot be read, or a game that cannot be parsed or (with replay) replayed, is
    skipped with one warning line and counted once; nothing in one file or game can stop the
    rest from loading."""
    base = Path(directory)
    files = sorted(p for p in (base.rglob("*") if recursive else base.glob("*"))
                   if p.suffix.lower() == ".sgf" and p.is_file())
    records, skipped = [], 0
    for path in files:
        try:
            games = load_sgf_collection(path)  # its errors name the file (and the game)
        except SgfError as err:
            games = [err]
        for number, record in enumerate(games, 1):
            if isinstance(record, SgfError):
                skipped += 1
                logger.warning("skipping SGF file %s", record)
                continue
            try:
                if replay:
                    position_from_record(record)
            except Exception as err:  # skip and count, whatever went wrong
                skipped += 1
                where = f" game {number}" if len(games) > 1 else ""
                logger.warning("skipping SGF file %s%s: %s", _shown_path(path), where,
                               error_text(err))
                continue
            records.append(record)
    return records, skipped
