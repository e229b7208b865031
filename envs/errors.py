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
