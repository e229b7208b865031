"""AlphaGo-style Go players: tree search, evaluators, features and networks."""

import envs.go  # noqa: F401  (numba's cache folder is chosen there, before any kernel here)
