"""loadsgf and printsgf: SGF game records in and out of the GTP engine (via envs.go.sgf).

Every way a record can fail (missing file, unreadable SGF, an illegal move in it, a directory
we cannot write) becomes one GtpFailure line, so a bad file never stops the engine.
"""

from __future__ import annotations

import dataclasses
import os

from envs.errors import quoted
from envs.go import GoError, Position
from envs.go.sgf import position_from_record, record_from_position, write_sgf
from envs.go.sgf_files import load_sgf_file, save_sgf_file

from .protocol import GtpFailure


def load(path: str, move_number: int | None = None) -> Position:
    """The position of the SGF file at `path`, with the game as its history. GTP's
    `move_number` is the number of the move to be played next: replay the moves before it."""
    if move_number is not None and move_number < 1:
        raise GtpFailure("invalid move number")
    try:  # regular files of sane size only: not /dev/stdin (our own commands), not /dev/zero
        record = load_sgf_file(path)
    except GoError as err:  # its message names the file
        raise GtpFailure(f"cannot open or parse {_one_line(err)}") from None
    if move_number is not None:
        record = dataclasses.replace(record, moves=record.moves[:move_number - 1])
    try:
        return position_from_record(record)
    except GoError as err:
        raise GtpFailure(f"cannot replay {quoted(path, 300)}: {_one_line(err)}") from None


def dump(position: Position, program: str = "rlgo", version: str = "") -> str:
    """The game that led to `position` as SGF text."""
    try:
        return write_sgf(_record(position, program, version)).decode("utf-8")
    except GoError as err:
        raise GtpFailure(f"cannot write SGF: {_one_line(err)}") from None


def save(path: str, position: Position, program: str = "rlgo", version: str = "") -> None:
    """Write the game to `path` (atomically; never over a device, pipe or directory)."""
    if os.path.exists(path) and not os.path.isfile(path):
        raise GtpFailure(f"cannot write '{path}': not a regular file")
    try:
        save_sgf_file(path, _record(position, program, version))
    except OSError as err:
        raise GtpFailure(f"cannot write '{path}': {err.strerror or err}") from None
    except GoError as err:
        raise GtpFailure(f"cannot write '{path}': {_one_line(err)}") from None


def _record(position: Position, program: str, version: str):
    record = record_from_position(position)
    app = _escape(program) + (":" + _escape(version) if version else "")
    record.extra["AP"] = [app]  # extra holds raw SGF values: escaped here
    return record


def _escape(text: str) -> str:
    """An SGF SimpleText half of a composed value: backslash, ']' and ':' escaped."""
    return "".join("\\" + c if c in "\\]:" else c for c in text)


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())
