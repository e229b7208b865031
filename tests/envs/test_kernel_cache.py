"""numba's cache folder is named by a hash of the kernel sources (envs/go/kernel_cache.py), so a
changed kernel file can never leave a stale compiled caller in another file behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from envs.go import kernel_cache

ROOT = Path(__file__).resolve().parents[2]


def _copy_sources(dst: Path) -> Path:
    for package in kernel_cache.KERNEL_PACKAGES:
        shutil.copytree(ROOT / package, dst / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pt", "*.npz"))
    return dst


def test_the_key_follows_every_kernel_source(tmp_path):
    root = _copy_sources(tmp_path)
    key = kernel_cache.source_key(root)
    assert kernel_cache.source_key(root) == key
    playout = root / "envs/go/playout.py"
    playout.write_text(playout.read_text() + "\n# changed\n")
    changed = kernel_cache.source_key(root)
    assert changed != key
    (root / "agents/alphago/search/tree.py").write_text("# another change\n")
    assert kernel_cache.source_key(root) not in (key, changed)


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_kernels_compile_into_the_folder_of_their_sources(tmp_path):
    # a kernel module of agents/ imported first, before envs.go: its kernels cache there too
    env = {"XDG_CACHE_HOME": str(tmp_path), "NUMBA_CACHE_DIR": None}
    code = ("import numpy as np\n"
            "from agents.alphago.search import tree\n"
            "from envs.go import kernels\n"
            "tree.backup(np.zeros(1, np.int64), np.zeros(1, np.int64), 0, -1, 1.0, 1.0,"
            " np.zeros(1), np.zeros(1), np.zeros(1))\n"
            "kernels.group_info(np.ones(4, np.int8), kernels.neighbour_table(2), 0,"
            " np.zeros(4, np.int32), np.zeros(4, np.int32), 1)\n"
            "import os; print(os.environ['NUMBA_CACHE_DIR'])\n")
    done = _run(code, env)
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder == tmp_path / "rlgo" / "numba" / kernel_cache.source_key()
    cached = {p.name.split(".")[0] for p in folder.rglob("*.nbi")}
    assert {"tree", "kernels"} <= {name.split("-")[0] for name in cached}, cached


def test_a_cache_folder_the_user_set_is_kept(tmp_path):
    done = _run("import envs.go, numba; print(numba.config.CACHE_DIR)",
                {"NUMBA_CACHE_DIR": str(tmp_path / "mine")})
    assert done.stdout.strip() == str(tmp_path / "mine"), done.stderr


def test_folders_of_other_sources_go_after_a_week_unused(tmp_path):
    old, recent, current = (tmp_path / name for name in ("old", "recent", "current"))
    for folder in (old, recent, current):
        folder.mkdir()
    week_ago = time.time() - 8 * 86400
    os.utime(old, (week_ago, week_ago))
    os.utime(current, (week_ago, week_ago))
    kernel_cache._prune(tmp_path, current)
    assert not old.exists() and recent.exists() and current.exists()
