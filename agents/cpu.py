"""The CPU floating-point mode for training: denormal numbers are flushed to zero.

Why: when a weight's gradient dies away, Adam's moments decay geometrically (m by 0.9, v by
0.999 an update) into the denormal range below 1.2e-38, and there, rounding to nearest, they
stay at the smallest denormal for ever. x86 CPUs do arithmetic on denormals about 100x slower
than on normal numbers. A Pong DQN had 28% of its Adam moments denormal after 25k agent steps
(12% at 2M), and each Adam step took 10x as long as with them flushed (22.8 ms against 2.1 ms
on one thread): 40% of the whole training loop. Flushing changes only values below 1e-38.

The mode lives in each thread's floating-point control register, and torch's OpenMP worker
threads take it from the thread that starts them, so `flush_denormals()` runs before a
process's first parallel torch operation: first thing in each training entry point (DQN,
Ape-X, the Go trainers and self-play) and in the Ray hosts of actors and learners, before they
build them. Called after torch has started its threads it may not reach them (measured with
2 threads: 11.6 ms per Adam step when called late, 1.2 ms when called first).
"""

from __future__ import annotations

import torch


def flush_denormals() -> bool:
    """Flush denormal floats to zero on this CPU; False where the CPU cannot (it then stays
    correct, only slower)."""
    return torch.set_flush_denormal(True)
