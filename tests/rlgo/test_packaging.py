"""The shipped configs and weights travel with the package: a wheel built from this tree holds
every file of configs/ as rlgo/configs/, and an installed wheel finds them and the shipped Pong
network with the working directory outside any clone (no fallback to the dataclass defaults)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "rlgo", "agents", "envs", "selfplay",
           "configs")
FIND = """
import rlgo.config as c
from rlgo.commands.atari import _default_config
print(c.__file__)
print(c.shipped_config("atari/pong"))
print(c.config_file("configs/go/sl_9x9.yaml"))
print(_default_config("Pong", None, False))
from selfplay.atari.policy_file import shipped_policy
print(shipped_policy("Pong"))
"""


def _copy_sources(tmp_path: Path) -> Path:
    """A copy of the tree to build from (a build leaves nothing in the clone)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, src / name)
    return src


def _build_wheel(tmp_path: Path) -> Path:
    """A wheel of a copy of the tree."""
    src = _copy_sources(tmp_path)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-index",
                    "--no-build-isolation", "-q", "-w", str(tmp_path / "dist")],
                   check=True, capture_output=True)
    return next((tmp_path / "dist").glob("rlgo-*.whl"))


def test_an_installed_wheel_finds_the_shipped_configs(tmp_path):
    wheel = _build_wheel(tmp_path)
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "configs").rglob("*.yaml")}
    with zipfile.ZipFile(wheel) as archive:
        packed = {n.removeprefix("rlgo/") for n in archive.namelist() if n.endswith(".yaml")}
    assert shipped and packed == shipped

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", str(site), str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}  # before the clone's editable install
    out = subprocess.run([sys.executable, "-c", FIND], cwd=elsewhere, env=env, text=True,
                         capture_output=True, check=True).stdout.split()
    assert out[0] == str(site / "rlgo" / "config.py")
    assert out[1:4] == [str(site / "rlgo" / "configs" / name) for name in
                        ("atari/pong.yaml", "go/sl_9x9.yaml", "atari/dqn_nature.yaml")]
    assert out[4] == str(site / "agents" / "dqn" / "weights" / "pong.pt")
    helptext = subprocess.run([sys.executable, "-m", "rlgo.cli", "atari", "train", "--help"],
                              cwd=elsewhere, env=env, text=True, capture_output=True,
                              check=True).stdout
    assert "atari/pong" in " ".join(helptext.split())


def test_an_editable_install_builds_without_warnings(tmp_path):
    """`pip install -e .` shows no BuildBackendWarning: setuptools' note about folders named
    like the packages does not apply, as those folders are the packages (setup.py)."""
    from pip._vendor.pyproject_hooks import BuildBackendHookCaller, BuildBackendWarning

    src = _copy_sources(tmp_path)
    hooks = BuildBackendHookCaller(str(src), "setuptools.build_meta",
                                   runner=_quiet_subprocess)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hooks.build_editable(str(tmp_path / "dist"))
    assert [str(w.message) for w in caught if w.category is BuildBackendWarning] == []
    assert next((tmp_path / "dist").glob("rlgo-*.whl"))


def _quiet_subprocess(cmd, cwd=None, extra_environ=None) -> None:
    subprocess.run(cmd, cwd=cwd, env={**os.environ, **(extra_environ or {})}, check=True,
                   capture_output=True)
