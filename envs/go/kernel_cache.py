"""Where numba caches the compiled kernels: a folder named by a hash of their sources.

numba marks each cached function with its own file's timestamp only. After an update that
changes one kernel file, a function in another file that calls into it still loads its old
machine code, with the old callee compiled in: a playout changed in envs/go/playout.py kept
running in the search until the cache was deleted by hand. Naming the cache folder by a hash
of every source file under the packages that hold kernels makes any change there start a fresh
cache (compiled once again, about a minute; `make warmup` does it ahead of the first move).

The folder is ~/.cache/rlgo/numba/HASH (under $XDG_CACHE_HOME where set); folders of other
sources unused for a week are removed. A NUMBA_CACHE_DIR the user set is left as it is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the folder holding the envs and agents packages
KERNEL_PACKAGES = ("envs/go", "agents/alphago")  # every numba kernel that calls across files
UNUSED_DAYS = 7


def source_key(root: Path = ROOT) -> str:
    """A hash of the path and bytes of every .py file under KERNEL_PACKAGES."""
    digest = hashlib.sha1()
    for package in KERNEL_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rlgo" / "numba"


def use_source_keyed_cache() -> str:
    """Point numba's cache at cache_root()/source_key() unless NUMBA_CACHE_DIR is set (also
    for the processes this one starts: Ray workers, engines); returns the folder in use."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    root = cache_root()
    folder = root / source_key()
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # in use: not pruned by another version's process
        _prune(root, folder)
    except OSError:
        pass  # numba falls back to a cache beside the sources
    import numba  # after the variable: a numba imported earlier is told directly

    numba.config.CACHE_DIR = str(folder)
    return str(folder)


def _prune(root: Path, keep: Path) -> None:
    too_old = time.time() - UNUSED_DAYS * 86400
    for folder in root.iterdir():
        if folder != keep and folder.is_dir() and folder.stat().st_mtime < too_old:
            shutil.rmtree(folder, ignore_errors=True)


use_source_keyed_cache()  # on import: envs.go imports this module before any kernel module
