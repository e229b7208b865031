"""Denormal floats flushed to zero on every torch thread when flush_denormals() runs first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# two threads, a tensor of denormals times one: zero only where a thread flushes
PROGRAM = """
import sys, torch
from agents.cpu import flush_denormals
if sys.argv[1] == "flush":
    assert flush_denormals()
torch.set_num_threads(2)
y = torch.full((1 << 22,), 1e-39) * 1.0
print((y == 0).float().mean().item())
"""


def _flushed_fraction(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROGRAM, mode], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    return float(out.stdout)


def test_flush_denormals_reaches_torch_threads_when_called_first():
    assert _flushed_fraction("keep") == 0.0  # torch's default: denormals kept (and slow)
    assert _flushed_fraction("flush") == 1.0
