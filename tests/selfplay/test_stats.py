"""Wilson intervals, the Elo conversion, and a match's per-engine tally and summary."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from selfplay.stats import (
    ELO_CAP,
    EngineStats,
    GameSummary,
    MatchResult,
    WinRate,
    elo_from_score,
    format_result,
    score_from_elo,
    wilson_interval,
)


@pytest.mark.parametrize(("score", "games", "low", "high"), [
    (5, 10, 0.2366, 0.7634),
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (81, 100, 0.7222, 0.8749),
    (1, 2, 0.0945, 0.9055),
])
def test_wilson_interval_matches_published_values(score, games, low, high):
    got = wilson_interval(score, games)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_contains_the_rate_and_narrows_with_more_games():
    for games in (1, 3, 10, 100, 1000):
        for wins in range(0, games + 1, max(1, games // 7)):
            low, high = wilson_interval(wins, games)
            assert 0.0 <= low <= wins / games <= high <= 1.0
    assert wilson_interval(30, 100)[1] - wilson_interval(30, 100)[0] > \
        wilson_interval(300, 1000)[1] - wilson_interval(300, 1000)[0]
    # symmetric: B's interval is one minus A's
    low, high = wilson_interval(7, 20)
    assert wilson_interval(13, 20) == pytest.approx((1 - high, 1 - low))


def test_wilson_interval_edge_cases():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(2.5, 5)[0] < 0.5 < wilson_interval(2.5, 5)[1]  # draws as halves
    for score, games in ((-1, 5), (6, 5), (1, -1)):
        with pytest.raises(ValueError):
            wilson_interval(score, games)


def test_elo_conversion():
    assert elo_from_score(0.5) == 0.0
    assert elo_from_score(0.75) == pytest.approx(190.85, abs=0.01)
    assert elo_from_score(0.25) == pytest.approx(-190.85, abs=0.01)
    assert elo_from_score(10 / 11) == pytest.approx(400.0)
    for elo in (-500.0, -35.0, 0.0, 120.0, 700.0):
        assert elo_from_score(score_from_elo(elo)) == pytest.approx(elo)
    assert elo_from_score(1.0) == ELO_CAP and elo_from_score(0.0) == -ELO_CAP
    assert elo_from_score(0.99999) == ELO_CAP  # finite but past the cap
    with pytest.raises(ValueError):
        elo_from_score(1.5)


def test_win_rate_counts_draws_as_half_and_caps_elo_at_the_extremes():
    rate = WinRate(wins=6, draws=2, losses=2)
    assert rate.games == 10 and rate.score == 7 and rate.rate == 0.7
    assert rate.interval == wilson_interval(7, 10)
    low, high = rate.elo_interval
    assert low < rate.elo < high and not rate.capped
    assert rate.elo == pytest.approx(400 * math.log10(0.7 / 0.3))

    perfect = WinRate(wins=2, draws=0, losses=0)
    assert perfect.elo == ELO_CAP and perfect.capped
    assert perfect.elo_interval[1] == ELO_CAP
    assert -ELO_CAP < perfect.elo_interval[0] < 0  # 2 games prove little
    assert "(capped)" in perfect.describe() and "100.0%" in perfect.describe()
    assert WinRate(0, 0, 0).rate == 0.5 and WinRate(0, 0, 0).elo == 0.0


def _match(results: list[tuple[str, str, str, str]]) -> MatchResult:
    """A MatchResult from (black label, white label, result, reason) per game."""
    config = SimpleNamespace(games=len(results), size=9, komi=7.0, ko="simple",
                             time_per_move=1.0, timeout=13.0, alternate=True)
    match = MatchResult(config, [EngineStats("A", "engine-a", "Alpha 1"),
                                 EngineStats("B", "engine-b", "Beta 2")])
    for number, (black, white, result, reason) in enumerate(results, 1):
        detail = "Black forfeits: illegal move E5 (occupied)" if reason == "forfeit" else ""
        match.add(GameSummary(number, black, white, result, reason, 40 + number, 2.0, detail),
                  {black: [0.5, 1.5], white: [1.0]})
    return match


def test_match_result_counts_per_engine_not_per_colour():
    match = _match([("A", "B", "B+R", "resign"), ("B", "A", "W+3.5", "score"),
                    ("A", "B", "W+Forfeit", "forfeit"), ("B", "A", "0", "score")])
    a, b = match.engines
    assert (a.wins, a.losses, a.draws, a.forfeits) == (2, 1, 1, 1)  # A forfeited game 3
    assert (b.wins, b.losses, b.draws, b.forfeits) == (1, 2, 1, 0)
    assert (a.wins_black, a.wins_white, a.games_black, a.games_white) == (1, 1, 2, 2)
    assert (b.wins_black, b.wins_white) == (0, 1)
    assert a.win_rate.score == 2.5 and b.win_rate.score == 1.5
    assert match.a_vs_b.score == 2.5 and match.a_vs_b.games == 4
    assert match.mean_length == pytest.approx(42.5)
    assert len(a.move_times) == 2 * 2 + 2 * 1
    assert match.games[2].winner == "B" and match.games[2].loser == "A"
    assert match.games[3].winner is None and match.games[3].loser is None


def test_progress_line_and_summary_table():
    match = _match([("A", "B", "W+R", "resign")])
    line = match.progress_line(match.games[0])  # the tally as of the game just added
    assert line == "game 1/1: B (white) beats A (black) by W+R in 41 moves, 2.0 s; A 0-1 B"
    match = _match([("A", "B", "W+R", "resign"), ("B", "A", "B+Forfeit", "forfeit")])
    line = match.progress_line(match.games[1])
    assert line.startswith("game 2/2: B (black) beats A (white) by B+Forfeit [")
    assert line.endswith("A 0-2 B")
    text = format_result(match)
    assert text == match.format()
    for expected in ("9x9", "komi 7", "A = Alpha 1", "B = Beta 2", "forfeits", "as black",
                     "0.0%", "Elo -800 (capped)", "game 2: B+Forfeit", "ended 1 by forfeit"):
        assert expected in text, expected
    rows = [row.split() for row in text.splitlines() if row.startswith(("A ", "B "))]
    assert rows[0][:7] == ["A", "0", "2", "0", "1", "0/1", "0/1"]
    assert rows[1][:7] == ["B", "2", "0", "0", "0", "1/1", "1/1"]
