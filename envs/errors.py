"""UserError: the one base of every error a user can cause and fix.

A bad config, a missing or damaged file, an illegal move, an unknown env id, a cluster that
cannot be reached: each layer raises its own subclass (GoError, WeightsError, RunDirError,
ConfigError, ...) with a message written for the user. `rlgo.cli.main` is the one place that
turns any UserError into the line "rlgo: error: <message>" and exit status 2; anything else
is a bug and keeps its traceback. It lives here, in the lowest layer, so every layer can
subclass it without importing upward.
"""

from __future__ import annotations


class UserError(Exception):
    """An error the user caused; str() is a one-line message that says what to change."""


def quoted(text: str | bytes, limit: int = 60) -> str:
    """A user's text (a file name, a value read from a file) as an error message may show it:
    quoted and escaped the way repr() does, so control characters, newlines and terminal
    escape sequences print as harmless backslash codes, and cut after `limit` characters, so a
    hostile value cannot flood the terminal. Bytes are shown as decoded UTF-8."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    shown = repr(text[:limit])
    return shown + "..." if len(text) > limit else shown
