"""The GTP v2 engine (Go Text Protocol): how GUIs, servers and arenas talk to an rlgo player.

    from rlgo.gtp import GtpEngine
    GtpEngine(player_factory=lambda size: RandomPlayer(seed=1)).run()   # stdin -> stdout
"""

from .engine import COMMANDS, GtpEngine
from .protocol import GtpFailure

__all__ = ["COMMANDS", "GtpEngine", "GtpFailure"]
