"""Timing helpers and the table/JSON output every benchmark shares."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def rate(work: Callable[[], int], seconds: float, rounds: int) -> float:
    """Median over `rounds` of (units of work per second), each round running `work` (which
    returns the units it did) repeatedly for about `seconds`."""
    rates = []
    for _ in range(rounds):
        done = 0
        start = time.perf_counter()
        while True:
            done += work()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        rates.append(done / elapsed)
    return statistics.median(rates)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import numba
    import numpy

    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "numpy": numpy.__version__, "numba": numba.__version__}


def emit(title: str, rows: list[tuple[str, float, str]], json_path: str | None,
         extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Print rows of (key, value, unit) as a table; write them as JSON to `json_path`."""
    width = max(len(key) for key, _, _ in rows)
    print(f"\n{title}")
    print(f"{'metric'.ljust(width)}  {'value':>12}  unit")
    print(f"{'-' * width}  {'-' * 12}  ----")
    for key, value, unit in rows:
        shown = f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
        print(f"{key.ljust(width)}  {shown:>12}  {unit}")
    result: dict[str, Any] = {key: value for key, value, _ in rows}
    result["machine"] = machine()
    if extra:
        result.update(extra)
    if json_path:
        path = Path(json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        os.replace(tmp, path)
        print(f"wrote {path}", file=sys.stderr)
    return result
