"""Checks at the edges: config values in their ranges, archive files intact before they load.

A value out of range or a damaged file must be refused where it enters, in one line that
names it, not half-accepted: a negative temperature that the search quietly reads as 0, or a
weight file whose bytes were damaged after it was written (torch.load does not check the zip
CRCs, so such a file loads with wrong weights and exit status 0).

    check_ranges(config, at_least_1=("games",), probability=("dirichlet_weight",))
    if problem := archive_problem(path): raise WeightsError(f"{path}: not readable: {problem}")

Both only report (ValueError; a phrase): each caller raises its own error type. rlgo.config
turns a ValueError from a config's __post_init__ into a ConfigError naming the source. They
live in the lowest layer because every layer has configs and reads files.
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# rule name -> (test, what the message says a value must be)
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "at_least_1": (lambda v: v >= 1, "at least 1"),
    "at_least_0": (lambda v: v >= 0, "0 or more"),
    "positive": (lambda v: v > 0, "above 0"),
    "probability": (lambda v: 0 <= v <= 1, "in [0, 1]"),
}


def check_ranges(config: Any, prefix: str = "", **rules: Iterable[str]) -> None:
    """ValueError naming the first field of `config` that breaks its rule (a name of RULES ->
    the fields it covers). None is left to the field's type (an optional value); NaN and
    infinities break every rule. `prefix` is the section ("runtime.") for the message."""
    for rule, names in rules.items():
        test, wording = RULES[rule]
        for name in names:
            value = getattr(config, name)
            if value is None:
                continue
            if isinstance(value, float) and not math.isfinite(value):
                wording = f"a finite number ({wording})"
            elif test(value):
                continue
            shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:40]}..."
            raise ValueError(f"{prefix}{name} must be {wording}, got {shown}")


def archive_problem(path: str | os.PathLike) -> str | None:
    """What is wrong with the zip archive at `path` (a torch .pt file or a numpy .npz), or
    None when it is a regular file whose every member reads back with its CRC intact.
    Reads the whole file once (a few ms for a weight file)."""
    path = Path(path)
    try:
        if not path.exists():
            return "no such file"
        if not path.is_file():
            return "not a regular file"
        if path.stat().st_size == 0:
            return "empty (0 bytes)"
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except OSError as err:
        return f"cannot be read ({err.strerror or type(err).__name__})"
    except zipfile.BadZipFile as err:
        return f"truncated, or not a zip archive ({err or 'BadZipFile'})"
    except Exception as err:  # noqa: BLE001 -- zipfile raises many kinds for damaged bytes
        return f"damaged ({type(err).__name__}: {str(err)[:80]})"
    if bad is not None:
        return f"damaged (member {bad!r} fails its CRC check)"
    return None
