"""The pygame GUI: play Go against an engine (`rlgo go play`).

Split so that the game logic is testable without a window:
  controller.py  the game (moves, undo, passes, scoring, SGF) and the engine's background work
  worker.py      EngineWorker / AnalysisWorker: engine calls in daemon threads
  external.py    ExternalGtpPlayer: any GTP engine (GNU Go, KataGo, ...) as a Player
  layout.py      where the board, the panel and the buttons go for a window size (pure math)
  view.py        drawing the board, stones and analysis marks (pygame)
  panel.py       drawing the side panel: status, buttons, win-rate graph (pygame)
  review.py      stepping back and forth through the game, the engine's view of each position
  app.py         the event loop; step()/handle(event) let tests drive it frame by frame

Only this package imports pygame (an import-linter contract in pyproject.toml).
"""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no banner on stdout at import
