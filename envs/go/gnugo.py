"""Finding the GNU Go binary, the project's rules oracle and reference opponent."""

from __future__ import annotations

import os
import shutil

# Debian installs games under /usr/games, which is often not on PATH.
_SEARCH_DIRS = ("/usr/games", "/usr/local/games", "/usr/local/bin", "/opt/homebrew/bin")


def find_gnugo(explicit: str | None = None) -> str | None:
    """Path of the gnugo binary: `explicit` (or $RLGO_GNUGO) if given, else PATH, else the
    usual game directories. None when it is not installed."""
    explicit = explicit or os.environ.get("RLGO_GNUGO")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("gnugo")
    if found:
        return found
    for directory in _SEARCH_DIRS:
        candidate = os.path.join(directory, "gnugo")
        if os.access(candidate, os.X_OK):
            return candidate
    return None
