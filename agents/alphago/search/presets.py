"""The one source of search settings: the presets the Go players start from.

    mcts   the network-free engine (`--player mcts`, and the alphago player where no policy
           net exists for the board size): MCTSConfig's defaults. A small c_puct (1) and
           virtual loss (1), batches of 16 leaves, RAVE (equivalence 1000) over the heavy
           playouts' moves, the heuristic priors of the leaf evaluation, resignation below a
           5% win rate after 200 visits.
    play   the zero player (evaluators.playnet: one play net, optionally mixed with rollouts):
           the play net's priors at every leaf, so a larger c_puct (1.5) lets them lead, and
           RAVE only where rollouts report their moves (lambda > 0); resignation at 10%.
    apv    the alphago player (evaluators.apv): the same search, with the policy net's priors
           replacing the heuristic ones at every node visited 8 times (policy_threshold), the
           estimate of a value net (where one is given) for the same nodes counted as 16
           visits of the edge into each (value_visits), and resignation as in the paper
           (Q < -0.8, a 10% win rate).

Why the alphago player keeps the network-free search instead of the paper's (c_puct 5, virtual
loss 3, RAVE off, the policy net at every leaf): on a CPU the net costs about four batches of
rollouts, so asked at every leaf it cuts the search to a fifth. AlphaGo asked it after n_thr =
40 visits with thousands of simulations a second on 48 CPUs; 8 suits a few thousand on 2 cores.
A value net is asked for the same nodes as the policy net. The paper mixed its estimate into
each playout's result below the node, (1 - lambda) v + lambda z; here each estimate counts as
16 prior visits (MoGo's prior knowledge): it steers a node while its playouts are few and
fades as they accumulate. With the distilled value net it measured stronger than the mix,
which pulls every playout below the node towards the net, however many there are (at 0.3 s a
move; docs/results/alphago-9x9.md, the value network). value_visits 0 gives the paper's
mix; at policy_threshold 0 both nets judge every leaf in the Python search, the paper's way.

A user changes a preset with `rlgo go gtp --set key=value` (repeatable) or `--config FILE`, a
YAML mapping of just the keys to change; both apply on top of the player's preset. This module
holds values only; rlgo.players picks the preset for a player and applies the changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from agents.alphago.search.mcts import MCTSConfig

_NETWORK_FREE = MCTSConfig()

PRESETS: Mapping[str, MCTSConfig] = MappingProxyType({
    "mcts": _NETWORK_FREE,
    "apv": dataclasses.replace(_NETWORK_FREE, resign_threshold=0.1, policy_threshold=8,
                               value_visits=16.0),
    "play": dataclasses.replace(_NETWORK_FREE, c_puct=1.5, resign_threshold=0.1),
})


def preset(name: str) -> MCTSConfig:
    """The search settings called `name` (KeyError naming the presets when there is none)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"no search preset {name!r} (presets: {', '.join(PRESETS)})") from None
