"""TYGEM's 9-dan games (yenw/computer-go-dataset) -> SGF collections for `rlgo go dataset`.

    rlgo go import-tygem TYGEM/Kifu/2006-0*.zip --index TYGEM/index/Kifu2006.zip \\
        --out runs/alphago/tygem19 [--max-games 20000]

The repository github.com/yenw/computer-go-dataset holds about 1.5 million 19x19 games
between 9-dan players of the TYGEM server (2005-2016): monthly zip files of one game a line,
`ID<TAB>;B[pd];W[dd];...` (SGF move nodes), and yearly index files of one game a line,
`ID<TAB>Cdate<TAB>white<TAB>white (latin)<TAB>nation<TAB>black<TAB>black (latin)<TAB>nation<TAB>
result<TAB>moves<TAB>time`. rlgo never downloads it: clone the repository (or download the
zips) yourself, then convert what you want to train on.

Every game becomes an SGF game (SZ 19, komi 6.5 as TYGEM plays, the result, date and players
from the index when one is given), written to OUT/MONTH/games-NNNN.sgf collections of
`games_per_file` games. The dataset holds out whole files for validation, so small files keep
its held-out share close to what was asked while whole games never straddle the split. A line
whose moves are not SGF move nodes is skipped and counted; nothing else is judged here (the
dataset replays every game and skips one with an illegal move).
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from envs.atomic import atomic_file
from envs.errors import UserError

KOMI = 6.5  # TYGEM's komi for even games
_MOVES = re.compile(r"(;[BW]\[[a-s]{0,2}\])+")
_RESULT = re.compile(r"[BW]\+(R|Resign|T|Time|F|Forfeit|Offline|\d+(\.\d+)?)")


class TygemError(UserError, ValueError):
    """An input that is not a TYGEM kifu or index file (one line for the user)."""


@dataclass(frozen=True)
class GameInfo:
    """What the index says about one game."""

    date: str
    white: str
    black: str
    result: str


def _zip_lines(path: str | Path) -> Iterator[str]:
    """The lines of every member of a zip file (TYGEM ships each month, each year, as one)."""
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                yield from archive.read(name).decode("utf-8", "replace").splitlines()
    except (OSError, zipfile.BadZipFile) as err:
        raise TygemError(f"{path}: cannot read it as a zip file ({err})") from None


def read_index(paths: Iterable[str | Path]) -> dict[str, GameInfo]:
    """Game id -> GameInfo from TYGEM index zips (lines that do not parse are left out)."""
    index = {}
    for path in paths:
        for line in _zip_lines(path):
            fields = line.split("\t")
            if len(fields) < 9:
                continue
            date = fields[1].lstrip("C").split(" ")[0].replace(".", "-")
            result = fields[8].strip()
            index[fields[0]] = GameInfo(date, fields[3], fields[6],
                                        result.replace("Resign", "R").replace("Time", "T")
                                        if _RESULT.fullmatch(result) else "")
    return index


def _sgf_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("]", "\\]")


def game_sgf(game_id: str, moves: str, info: GameInfo | None = None) -> str:
    """One SGF game from a kifu line's id and moves (and the index's facts, when known)."""
    head = f"(;GM[1]FF[4]SZ[19]KM[{KOMI}]RU[Japanese]PC[TYGEM]GN[{_sgf_text(game_id)}]"
    if info is not None:
        head += f"DT[{_sgf_text(info.date)}]PB[{_sgf_text(info.black)}]BR[9d]" \
                f"PW[{_sgf_text(info.white)}]WR[9d]"
        if info.result:
            head += f"RE[{info.result}]"
    return f"{head}\n{moves})\n"


def _kifu_games(path: str | Path, index: dict[str, GameInfo],
                counts: dict[str, int]) -> Iterator[str]:
    """The SGF text of every game of one kifu zip; a line that is not one counts as skipped."""
    for line in _zip_lines(path):
        game_id, _, moves = line.partition("\t")
        moves = moves.strip()
        if _MOVES.fullmatch(moves):
            yield game_sgf(game_id, moves, index.get(game_id))
        else:
            counts["skipped"] += 1


def convert(kifu_paths: Iterable[str | Path], out: str | Path,
            index: dict[str, GameInfo] | None = None, max_games: int = 0,
            games_per_file: int = 200,
            progress: Callable[[str], None] | None = print) -> dict[str, int]:
    """Write the games of the kifu zips as SGF collections under `out`; returns the counts
    {"games", "files", "skipped"}. max_games > 0 stops after that many games."""
    counts = {"games": 0, "files": 0, "skipped": 0}
    for path in kifu_paths:
        games = _kifu_games(path, index or {}, counts)
        if max_games > 0:
            games = itertools.islice(games, max_games - counts["games"])
        while batch := list(itertools.islice(games, games_per_file)):
            target = Path(out) / Path(path).stem / f"games-{counts['files']:05d}.sgf"
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(target) as f:
                f.write("".join(batch).encode("utf-8"))
            counts["files"] += 1
            counts["games"] += len(batch)
        if progress is not None:
            progress(f"{path}: {counts['games']} games so far in {counts['files']} files "
                     f"({counts['skipped']} lines skipped)")
        if counts["games"] == max_games:
            break
    return counts
