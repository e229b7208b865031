"""Shared fixtures. With CI=true, a test that needs GNU Go fails instead of skipping."""

from __future__ import annotations

import os

import pytest

from envs.go.gnugo import find_gnugo

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(what: str, available: bool) -> None:
    """Skip a test whose real component is missing, but fail it in CI where it must run."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but missing")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def gnugo_path() -> str:
    """Path of the GNU Go binary (apt-get install gnugo)."""
    path = find_gnugo()
    require("GNU Go (apt-get install gnugo)", path is not None)
    return path
