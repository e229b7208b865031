"""The match figures in the docs, recounted from the committed games.

docs/matches/NAME.txt is what `rlgo go match` printed; docs/matches/NAME/ holds that match's
SGFs where they were kept (value-lambda/ keeps its progress lines in games.txt instead of a
summary). The arena's own tally (selfplay.stats) is replayed on the games: who played Black
(the SGF's root comment, written by the arena), the result (RE) and the length (the moves in
the record). The summary's game lines, its per-engine table and its score line (wins, the
Wilson 95% interval, Elo) must come out the same, and so must every line of README.md and
docs/**/*.md that links a match (a markdown link to docs/matches/NAME.txt or NAME/): it has
to state that match's record ("44-6", "35-4-1") and its interval and Elo exactly as recounted,
and every match must back a figure somewhere. A figure that drifts from its evidence fails here.
A summary without SGFs is recounted from its own game lines.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from envs.go.sgf_files import load_sgf_file
from selfplay.stats import EngineStats, GameSummary, MatchResult, format_result

ROOT = Path(__file__).resolve().parents[2]
MATCHES = ROOT / "docs" / "matches"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

GAME_LINE = re.compile(
    r"game (?P<number>\d+)/(?P<total>\d+): (?P<first>\w+) \((?P<first_colour>black|white)\) "
    r"(?:beats|and) (?P<second>\w+) \((?:black|white)\) (?:by (?P<result>\S+)|draw "
    r"\((?P<draw>\S+)\))(?P<forfeit> \[.*\])? in (?P<moves>\d+) moves")
SECONDS = re.compile(r"[\d.]+ s(?= per game|;)")
LINK = re.compile(r"\]\([\w./-]*?matches/([\w.-]*[\w-])")  # [..](docs/matches/NAME.txt)


def match_names() -> list[str]:
    """Every match with a summary or an SGF folder."""
    names = {p.stem for p in MATCHES.glob("*.txt")} | {p.name for p in MATCHES.iterdir()
                                                       if p.is_dir()}
    return sorted(names)


def summary_lines(name: str) -> list[str]:
    path = MATCHES / f"{name}.txt"
    if not path.exists():
        path = MATCHES / name / "games.txt"
    return path.read_text().splitlines()


def games_from_sgfs(folder: Path) -> list[GameSummary]:
    """The games as the arena counted them, from the SGFs alone."""
    games = []
    for number, path in enumerate(sorted(folder.glob("game-*.sgf")), start=1):
        record = load_sgf_file(path)
        comment = record.extra["C"][0]
        black = re.search(r"^Black: engine (\w+):", comment, re.M).group(1)
        white = re.search(r"^White: engine (\w+):", comment, re.M).group(1)
        result, reason = re.search(r"^Result (\S+) \(([^)]+)\)", comment, re.M).groups()
        assert result == record.result, f"{path}: the comment says {result}, RE {record.result}"
        games.append(GameSummary(number, black, white, record.result, reason,
                                 len(record.moves), 0.0))
    return games


def games_from_lines(lines: list[str]) -> list[GameSummary]:
    """The games as a summary's own per-game lines state them."""
    games = []
    for match in filter(None, map(GAME_LINE.match, lines)):
        first, second = match["first"], match["second"]
        black, white = (first, second) if match["first_colour"] == "black" else (second, first)
        result = match["result"] or match["draw"]
        reason = ("forfeit" if match["forfeit"] else
                  "resign" if result.endswith("+R") else "score")
        games.append(GameSummary(int(match["number"]), black, white, result, reason,
                                 int(match["moves"]), 0.0))
    return games


def tally(games: list[GameSummary], total: int) -> tuple[MatchResult, list[str]]:
    """selfplay.stats' tally of the games, and the progress line it prints after each."""
    result = MatchResult(SimpleNamespace(games=total), [EngineStats("A", ""),
                                                         EngineStats("B", "")])
    progress = []
    for game in games:
        result.add(game, {})
        progress.append(result.progress_line(game))
    return result, progress


def without_seconds(lines: list[str]) -> list[str]:
    """Lines with their wall-clock seconds blanked: the SGFs do not record time."""
    return [SECONDS.sub("_ s", line) for line in lines]


def cited(text: str) -> set[str]:
    """The matches a piece of markdown links."""
    return {name.removesuffix(".txt") for name in LINK.findall(text)}


def record(result: MatchResult) -> str:
    """Engine A's wins-losses(-draws), the way the docs write it."""
    a = result.engines[0]
    return f"{a.wins}-{a.losses}" + (f"-{a.draws}" if a.draws else "")


def recount(name: str) -> tuple[MatchResult, list[str]]:
    """The match tallied from its SGFs (checked against the summary's game lines), or from
    the game lines where no SGFs were kept; and the summary's lines."""
    lines = summary_lines(name)
    stated = [line for line in lines if GAME_LINE.match(line)]
    total = int(GAME_LINE.match(stated[0])["total"])
    folder = MATCHES / name
    if folder.is_dir():
        result, progress = tally(games_from_sgfs(folder), total)
        assert without_seconds(progress) == without_seconds(stated), \
            f"{name}: the summary's game lines differ from the SGFs"
    else:
        result, progress = tally(games_from_lines(stated), total)
    return result, lines


def table(text: list[str]) -> list[str]:
    """The per-engine rows (without the time column), the score line and the games line."""
    rows = [line.rsplit("   ", 1)[0] for line in text if re.match(r"[AB] +\d", line)]
    rest = [line for line in text if line.startswith(("A vs B:", "games: mean length"))]
    return rows + without_seconds(rest)


@pytest.mark.parametrize("name", match_names())
def test_summary_agrees_with_the_games(name):
    result, lines = recount(name)
    assert result.games, f"{name}: no games found"
    if (MATCHES / f"{name}.txt").exists():
        assert table(lines) == table(format_result(replace(result, config=None)).splitlines())


@pytest.mark.parametrize("name", match_names())
def test_docs_state_the_recounted_figures(name):
    result, _ = recount(name)
    figures = (record(result), result.a_vs_b.describe())
    citing = [(page, line) for page in PAGES for line in page.read_text().splitlines()
              if name in cited(line)]
    assert citing, f"docs/matches/{name} backs no figure in README.md or docs/"
    for page, line in citing:
        for figure in figures:
            assert figure in line, (f"{page.relative_to(ROOT)} cites docs/matches/{name} "
                                    f"without the recounted {figure!r}:\n{line}")


def test_every_cited_match_exists():
    names = set(match_names())
    for page in PAGES:
        for name in cited(page.read_text()):
            assert name in names, f"{page.relative_to(ROOT)} cites a missing match {name}"
