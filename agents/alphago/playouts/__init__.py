"""Playout policies: MoGo-style heuristic playouts and priors (mogo), the trained linear
rollout policy (linear), and ladder reading (ladders)."""
