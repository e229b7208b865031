"""The Pong figures in docs/results/pong.md are the committed records: the evaluation table
is the CSV, row for row, and the shipped network's score is its evaluation JSON.

docs/results/pong/pong-fast-evals.csv holds each 30-game protocol evaluation (`rlgo atari eval
--episodes 30 --points`) of the from-scratch run; the page's table must show exactly those
rows, in order, so neither can change without the other.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import torch

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


def test_the_shipped_networks_figure_is_its_committed_evaluation():
    """The page's score for agents/dqn/weights/pong.pt is the mean of the committed record
    of 30 protocol games played by that very file, at the agent steps the file holds."""
    root = RESULTS.parents[1]
    record = json.loads((RESULTS / "pong" / "shipped-eval.json").read_text())
    shipped = torch.load(root / "agents" / "dqn" / "weights" / "pong.pt", weights_only=True)
    assert record["checkpoint"].endswith("agents/dqn/weights/pong.pt")
    assert (record["episodes"], record["eps"], record["agent_steps"]) == \
        (30, 0.05, shipped["step"])
    assert abs(sum(record["returns"]) / 30 - record["mean"]) < 1e-9
    page = (RESULTS / "pong.md").read_text()
    assert f"scores **{record['mean']:+.2f}** over 30 games" in page
    assert f"at {shipped['step'] // 1000}k agent steps" in page
