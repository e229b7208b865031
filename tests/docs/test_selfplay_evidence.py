"""The self-play figures in the docs, checked against the committed ladder, gates and games.

docs/results/selfplay-9x9/ holds what the loop's runs wrote (ladder.csv, gates.csv, ladder.png)
and the direct matches between its networks (`rlgo go gate ... --json NAME.json --sgf-dir
NAME/`). Here: the ladder is a chain (consecutive versions, each gain the Elo of its gate's
score, the Elo their sum), every promotion is a gate that promoted, the shipped play net is the
ladder's last version, every match JSON recounts from its SGFs, and every page line that links a
match states its record and score as recounted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agents.alphago.nets.networks import default_weights, load_network
from envs.go.board import winner_from_result
from envs.go.rules import BLACK, WHITE
from envs.go.sgf_files import load_sgf_file
from selfplay.go.ladder import PROMOTE, Gates, Ladder, gain_interval
from selfplay.stats import WinRate

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "results" / "selfplay-9x9"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\([\w./-]*?selfplay-9x9/([\w.-]+)\.json\)")


def test_the_ladder_is_a_chain_of_promoting_gates():
    rows, gates = Ladder(RESULTS).rows(), Gates(RESULTS).rows()
    assert rows, "ladder.csv is empty"
    promoted = [g for g in gates if g.decision == PROMOTE]
    assert len(promoted) == len(rows) - 1
    for previous, row, gate in zip(rows, rows[1:], promoted, strict=False):
        assert row.version == previous.version + 1
        assert (row.games, row.wins, row.learner_steps) == (gate.games, gate.wins,
                                                            gate.learner_steps)
        assert row.elo_gain == pytest.approx(gain_interval(row.wins, row.games)[1])
        assert row.elo == pytest.approx(previous.elo + row.elo_gain)
    assert (RESULTS / "ladder.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_shipped_play_net_is_the_ladders_last_version():
    path = default_weights("play", 9)
    assert path is not None, "no play net ships for 9x9"
    meta = load_network(path, "play", 9).meta
    last = Ladder(RESULTS).rows()[-1]
    assert meta["version"] == last.version
    assert meta["elo"] == pytest.approx(last.elo)


def _recount(name: str) -> WinRate:
    """A's wins, draws and losses from the SGFs of match NAME (A's colour is in the root
    comment that `rlgo go gate` writes)."""
    wins = draws = losses = 0
    for path in sorted((RESULTS / name).glob("game-*.sgf")):
        record = load_sgf_file(path)
        a_colour = BLACK if record.extra["GC"][0].endswith("as Black") else WHITE
        winner = winner_from_result(record.result)
        if winner is None:
            draws += 1
        elif winner == a_colour:
            wins += 1
        else:
            losses += 1
    return WinRate(wins, draws, losses)


def match_names() -> list[str]:
    return sorted(p.stem for p in RESULTS.glob("*.json"))


@pytest.mark.parametrize("name", match_names())
def test_a_match_json_recounts_from_its_games(name):
    result = json.loads((RESULTS / f"{name}.json").read_text())
    rate = _recount(name)
    assert (result["wins"], result["draws"], result["losses"]) == (rate.wins, rate.draws,
                                                                   rate.losses)
    assert result["games"] == rate.games
    assert result["score"] == pytest.approx(rate.rate)


def test_every_linked_match_is_stated_as_recounted():
    linked = 0
    for page in PAGES:
        for line in page.read_text().splitlines():
            for name in LINK.findall(line):
                linked += 1
                rate = _recount(name)
                record = f"{rate.wins}-{rate.losses}" + (f"-{rate.draws}" if rate.draws else "")
                assert record in line, (page.name, name, record, line)
                assert f"{100 * rate.rate:.0f}%" in line, (page.name, name, line)
    assert linked >= len(match_names()), "a match backs no figure"
