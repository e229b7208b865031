"""Writing files atomically: a reader, or a run killed at any instant, sees the old file or the
whole new one, never a part.

Game records, weight files, dataset shards, replay snapshots and checkpoints are all written
through `atomic_file`: a temporary file beside the target (same filesystem, so the rename is
atomic), flushed and fsynced, renamed over the target, then the directory fsynced so the
rename itself survives a power cut. It lives in the lowest layer because every layer writes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file to write that replaces `path` when the block ends without an error (and
    is removed, leaving `path` untouched, when it raises)."""
    path = Path(path)  # its folder must exist: a missing one is the caller's error to report
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; these files are for everyone
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_file(path) as f:
        f.write(data)


def remove_partial_files(root: str | os.PathLike) -> None:
    """Delete the temporary files that writers killed mid-write (SIGKILL, a power cut) left
    under `root`; their targets are untouched. A resumed run calls this before it writes."""
    for tmp in Path(root).rglob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
