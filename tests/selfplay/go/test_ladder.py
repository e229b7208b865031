"""The gate rule (SPRT early stop + fixed threshold), ladder.csv / gates.csv and the ladder plot,
on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from envs.atomic import remove_partial_files
from selfplay.go.ladder import GateRecord, GateRule, Gates, Ladder, LadderRow
from selfplay.stats import ELO_CAP, elo_from_score

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def chain(run: Path, results: list[tuple[int, float]]) -> list[LadderRow]:
    """Version 0 and one promotion per (games, wins), added to RUN/ladder.csv."""
    ladder = Ladder(run)
    rows = [LadderRow.first("networks/v0000.pt", wall_s=1.5)]
    for games, wins in results:
        v = rows[-1].version + 1
        rows.append(LadderRow.promoted(rows[-1], games=games, wins=wins, positions=1000 * v,
                                       learner_steps=100 * v, wall_s=60.25 * v,
                                       network=f"networks/v{v:04d}.pt"))
    for row in rows:
        ladder.add(row)
    return rows


# ---- the gate rule ------------------------------------------------------------------------------

def test_sprt_stops_clear_matches_early() -> None:
    rule = GateRule()
    assert rule.max_games == 40
    assert rule.decide(18, 20) == "promote"
    assert rule.decide(2, 20) == "reject"
    assert rule.decide(11, 20) is None and rule.decide(9, 20) is None
    assert rule.decide(0, 0) is None
    lower, upper = rule.bounds
    assert lower < rule.llr(11, 20) < upper
    assert rule.llr(18, 20) >= upper and rule.llr(2, 20) <= lower
    # the shrunk variance: a short sweep is not an infinite ratio
    assert rule.decide(3, 3) is None and rule.decide(0, 3) is None


def test_threshold_decides_at_the_last_game() -> None:
    rule = GateRule(games=40, threshold=0.55)
    assert rule.decide(22, 40) == "promote"  # exactly 0.55
    assert rule.decide(21.5, 40) == "reject"  # a draw counts half
    assert rule.decide(39, 39) == "promote"  # the SPRT, before the last game
    # without the SPRT only the threshold decides, and only at the end
    fixed = GateRule(games=20, sprt=False)
    assert fixed.decide(19, 19) is None
    assert fixed.decide(18, 20) == "promote" and fixed.decide(10, 20) == "reject"


def test_gate_rule_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        GateRule(games=0)
    with pytest.raises(ValueError):
        GateRule(elo0=35, elo1=0)
    with pytest.raises(ValueError):
        GateRule().decide(5, 4)


# ---- Elo ----------------------------------------------------------------------------------------

def test_elo_interval_contains_the_gain_and_chains(tmp_path: Path) -> None:
    rows = chain(tmp_path, [(40, 28), (20, 18), (40, 22), (10, 10)])
    assert rows[0].elo == 0 and rows[0].elo_gain == 0
    for previous, row in zip(rows[:-1], rows[1:], strict=True):
        assert row.elo_low < row.elo_gain <= row.elo_high
        # the gain is the shrunk score's Elo: half a win and half a loss added
        assert row.elo_gain == pytest.approx(elo_from_score((row.wins + 0.5) / (row.games + 1)))
        assert row.elo == pytest.approx(previous.elo + row.elo_gain)
    assert rows[-1].elo == pytest.approx(sum(r.elo_gain for r in rows))
    sweep = rows[-1]  # 10/10: the interval's top is an infinite gain, clamped; the gain is not
    assert sweep.elo_high == ELO_CAP and sweep.elo_low < sweep.elo_gain < ELO_CAP


# ---- the CSVs -----------------------------------------------------------------------------------

def test_ladder_round_trips_and_truncates(tmp_path: Path) -> None:
    rows = chain(tmp_path, [(40, 28), (20, 18), (40, 22)])
    ladder = Ladder(tmp_path)
    assert ladder.rows() == rows
    assert ladder.best == rows[-1]
    ladder.truncate(1)
    assert Ladder(tmp_path).rows() == rows[:2]
    assert Ladder(tmp_path / "nowhere").best is None


def test_gates_round_trip_and_truncate(tmp_path: Path) -> None:
    gates = Gates(tmp_path)
    records = [GateRecord.of(100, 20, 18, "promote", 30.5),
               GateRecord.of(200, 40, 19.5, "reject", 90.0),
               GateRecord.of(300, 20, 2, "reject", 120.125)]
    for record in records:
        gates.add(record)
    assert Gates(tmp_path).rows() == records
    assert records[1].score == 19.5 / 40 and records[1].elo_gain < 0
    gates.truncate(200)
    assert gates.rows() == records[:2]


def test_a_killed_rewrite_leaves_the_old_file(tmp_path: Path) -> None:
    """A kill mid-rewrite leaves a temporary file beside ladder.csv, never half a line in it."""
    rows = chain(tmp_path, [(40, 28)])
    partial = tmp_path / ".ladder.csv.abc123.tmp"  # the name envs.atomic gives its temporaries
    partial.write_text((tmp_path / "ladder.csv").read_text() + "2,20,18,0.9,38")
    ladder = Ladder(tmp_path)
    assert ladder.rows() == rows
    more = LadderRow.promoted(rows[-1], games=20, wins=18, positions=5, learner_steps=6,
                              wall_s=7.0, network="networks/v0002.pt")
    ladder.add(more)
    assert ladder.rows() == rows + [more]
    remove_partial_files(tmp_path)  # what a resumed RunDir does
    assert not partial.exists() and Ladder(tmp_path).rows() == rows + [more]


def test_a_file_with_other_columns_is_refused(tmp_path: Path) -> None:
    (tmp_path / "gates.csv").write_text("step,wins\n1,2\n")
    with pytest.raises(ValueError, match="columns"):
        Gates(tmp_path).rows()


# ---- plot and TensorBoard -----------------------------------------------------------------------

def test_plot_writes_a_png(tmp_path: Path) -> None:
    run = tmp_path / "run-7"
    chain(run, [(40, 28), (20, 18), (10, 10), (40, 22)])
    out = Ladder(run).plot(run / "ladder.png")
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000
    # width and height from the IHDR chunk: 800x450
    assert int.from_bytes(data[16:20], "big") == 800
    assert int.from_bytes(data[20:24], "big") == 450
    empty = Ladder(tmp_path / "empty").plot(tmp_path / "empty.png")
    assert empty.read_bytes()[:8] == PNG_MAGIC


def test_tensorboard_events(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    rows = chain(tmp_path, [(40, 28)])
    ladder = Ladder(tmp_path)
    for row in rows:
        ladder.log_tensorboard(row)
    ladder.close()
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
