"""Pondering and the territory overlay: two uses of the search the GUI runs on the human's turn.

Analysis mode (a) already searches the current position in the background while the human
thinks (worker.AnalysisWorker, on the engine's own Player). Two switches use that search too:

- Pondering (o): the search runs on the human's turn even with analysis off, unseen. The
  built-in engines keep their tree between searches (MCTS tree reuse), so when the human
  moves, the engine's search starts from the subtree of that move, with the visits the
  pondering gave it: a stronger move in the same time. It stops when the human moves (the
  controller stops the worker before the engine's turn) and when the tree nears the size at
  which MCTS would start afresh (rlgo.gtp.ponder.tree_full), and after the controller's
  analysis_seconds, as analysis does.
- Territory (e): the search's ownership (MCTS.ownership(): +1 Black owns a point, -1 White)
  drawn as black and white squares sized by it (view.py). A player without a search (an
  external GTP engine) gives none, and nothing is drawn.

A mixin of GameController, which holds `player`, `position`, `analysis_on`, `_analysis`,
`_clear_pending`, `shown`, `human_to_move` and say().
"""

from __future__ import annotations

import numpy as np

from rlgo.gtp.ponder import tree_full

PONDER_ON = ("Pondering on: the engine thinks on your time, and its next move starts from "
             "that search.")
TERRITORY_ON = "Territory on: squares show who owns each point, as the engine's search sees it."


class PonderMixin:
    """The pondering and territory switches (see the module docstring)."""

    ponder_on: bool = False
    territory_on: bool = False

    @property
    def searching_on_your_turn(self) -> bool:
        """Whether the engine searches the position while it is the human's turn."""
        return self.analysis_on or self.ponder_on or self.territory_on

    @property
    def pondering(self) -> bool:
        """Whether the engine is pondering now (searching on the human's turn)."""
        a = self._analysis
        return (self.ponder_on and self.human_to_move and a is not None
                and a.position is self.position and a.running)

    def toggle_ponder(self) -> None:
        self.ponder_on = not self.ponder_on
        self._search_switched()
        self.say(PONDER_ON if self.ponder_on else "Pondering off.")

    def toggle_territory(self) -> None:
        self.territory_on = not self.territory_on
        self._search_switched()
        if self.territory_on and getattr(self.player, "mcts", None) is None:
            self.say("Territory on, but this engine reports no ownership.")
        else:
            self.say(TERRITORY_ON if self.territory_on else "Territory off.")

    def _search_switched(self) -> None:
        if not self.searching_on_your_turn:
            self._stop_analysis()

    def ownership(self) -> np.ndarray | None:
        """float32 [size*size]: the search's ownership of the shown position while the
        territory overlay is on (+1 Black, -1 White); None when off or there is none yet."""
        a = self._analysis
        if not self.territory_on or a is None or a.position is not self.shown:
            return None
        return a.ownership

    def worker_options(self) -> dict:
        """AnalysisWorker's prepare/enough for the search on the human's turn: a new game's
        tree is cleared before it (so the engine's first move reuses it, instead of clearing
        it then), and an unseen search stops before the tree must start afresh."""
        return {"prepare": self._clear_if_pending,
                "enough": None if self.analysis_on else lambda: tree_full(self.player)}

    def _clear_if_pending(self) -> None:
        if self._clear_pending:
            self._clear_pending = False
            self.player.clear()
