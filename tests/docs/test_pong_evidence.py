"""The Pong evaluation table in docs/results/pong.md is the committed CSV, row for row.

docs/results/pong/pong-fast-evals.csv holds each 30-game protocol evaluation (`rlgo atari eval
--episodes 30 --points`) of the from-scratch run; the page's table must show exactly those
rows, in order, so neither can change without the other.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"
ROW = re.compile(r"^\| \d+k \| \d+ \| [+-]")


def table_row(r: dict[str, str]) -> str:
    """One evaluation as the page writes it."""
    return (f"| {int(r['agent_steps']) // 1000}k | {r['seed']} | {float(r['mean']):+.2f} | "
            f"{float(r['std']):.2f} | {float(r['min']):+.0f} | {r['first_lost']}/{r['first']} | "
            f"{r['lost_after_won']}/{r['after_won']} | {r['lost_after_lost']}/{r['after_lost']} |")


def test_pong_table_is_the_csv():
    with open(RESULTS / "pong" / "pong-fast-evals.csv", newline="") as f:
        expected = [table_row(r) for r in csv.DictReader(f)]
    page = (RESULTS / "pong.md").read_text().splitlines()
    assert [line for line in page if ROW.match(line)] == expected
