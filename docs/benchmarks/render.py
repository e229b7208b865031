"""Fill the figures of docs/benchmarks.md from the JSON that `make bench` writes beside it.

The page has one section per benchmark, headed "## `rlgo bench NAME`"; in that section a table
row whose first cell is a JSON key in backquotes (`sims_per_s_9x9`, or `machine.cpus` for a
nested one) shows docs/benchmarks/NAME.json's value for it, formatted as the bench prints it.
So the page states no figure that the committed JSON does not hold:

    make bench                                   # writes docs/benchmarks/*.json, then this
    .venv/bin/python docs/benchmarks/render.py   # rewrite the page's figures from the JSON

tests/docs/test_benchmark_evidence.py fails when rendering would change the page.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = HERE.parent / "benchmarks.md"
SECTION = re.compile(r"^## `rlgo bench (\w+)")
ROW = re.compile(r"^\| `(?P<key>[\w.]+)` \| (?P<value>[^|]*?) \|")


def shown(value: object) -> str:
    """A figure as `rlgo bench` prints it: 1,234 from 100 up, else 3 significant digits."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def lookup(figures: dict, key: str) -> object:
    """figures["machine"]["cpus"] for "machine.cpus"; KeyError names the missing key."""
    value: object = figures
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(key)
        value = value[part]
    return value


def render(text: str, directory: Path = HERE) -> str:
    """The page with every keyed row's value taken from its section's JSON.

    Raises FileNotFoundError for a section whose JSON is missing and KeyError for a row whose
    key the JSON lacks: a figure without its evidence is an error, not a blank."""
    figures: dict | None = None
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            figures = None
        if heading := SECTION.match(line):
            path = directory / f"{heading[1]}.json"
            if not path.exists():
                raise FileNotFoundError(f"{path} is missing: run `make bench`")
            figures = json.loads(path.read_text())
        elif figures is not None and (row := ROW.match(line)):
            value = shown(lookup(figures, row["key"]))
            line = line[:row.start("value")] + value + line[row.end("value"):]
        lines.append(line)
    return "".join(lines)


def main() -> int:
    try:
        PAGE.write_text(render(PAGE.read_text()))
    except (FileNotFoundError, KeyError) as err:
        print(f"render: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
