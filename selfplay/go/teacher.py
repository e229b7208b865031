"""Teacher games: an external GTP engine (GNU Go) plays both colours, games saved as SGF.

    actors (TeacherActor x N, one engine process per game) --moves--> driver
    driver --SGF--> OUT/game-000001.sgf, OUT/game-000002.sgf, ...

The SL policy net learns from these games, so they must be varied: every game opens with 1-4
random legal moves off the edge (the engine then plays both sides from there), and each game
draws its engine level from `levels` (e.g. 6-10, or 8,10,10 to weight level 10), appended to
the command as `--level L`. A game ends at two passes, a resignation, an illegal engine move
(our superko rules can disagree with the engine's simple ko: the game is kept up to there), or
`max_moves`; its result comes from the engine's `final_score` (which removes dead stones),
else from the Tromp-Taylor area score.

The driver is the only writer of OUT: a game becomes a file only when it is complete
(atomically), so a run killed at any instant resumes by counting the files and playing the
rest (`run_generation` with the same `games`). The runtime needs a learner and a replay for
its self-play loop; teacher games have neither, so they get a FixedWeights learner with no
weights and one empty shard (selfplay/runtime/collect.py).
"""

from __future__ import annotations

import functools
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from envs.checks import check_ranges
from envs.go import BLACK, DEFAULT_KOMI, PASS, RESIGN, GoError, Position, Rules, from_gtp, to_gtp
from envs.go.gtp_client import GtpClient, GtpError
from selfplay.go.games import existing_games, save_game
from selfplay.rundir import RunLock
from selfplay.runtime import Backend, RuntimeSettings, make_backend
from selfplay.runtime.collect import FixedWeights, empty_replay
from selfplay.runtime.driver import Progress


def parse_levels(text: str) -> tuple[int, ...]:
    """'6-10' -> (6, 7, 8, 9, 10); '8,10,10' -> (8, 10, 10) (repeats weight a level);
    '' -> () (the command's own level). ValueError for anything else."""
    text = text.strip()
    if not text:
        return ()
    levels: list[int] = []
    for part in text.split(","):
        low, sep, high = part.strip().partition("-")
        try:
            span = range(int(low), int(high) + 1) if sep else [int(low)]
        except ValueError:
            raise ValueError(f"levels must look like 6-10 or 8,10,10, got {text!r}") from None
        if not span:
            raise ValueError(f"empty level range {part.strip()!r}")
        levels.extend(span)
    return tuple(levels)


def parse_range(text: str) -> tuple[int, int]:
    """'1-4' -> (1, 4); '0' -> (0, 0). ValueError for anything else."""
    low, sep, high = text.strip().partition("-")
    try:
        return (int(low), int(high) if sep else int(low))
    except ValueError:
        raise ValueError(f"a range must look like 1-4 or 0, got {text!r}") from None


@dataclass(frozen=True)
class TeacherSettings:
    """How teacher games are played (picklable: every actor gets a copy)."""

    command: str = "gnugo --mode gtp"
    size: int = 9
    komi: float = DEFAULT_KOMI
    levels: tuple[int, ...] = ()   # drawn uniformly per game; (): the command's own level
    opening_moves: tuple[int, int] = (1, 4)  # random first moves, inclusive range
    max_moves: int = 0             # 0: 3 * size * size
    move_timeout: float = 60.0     # seconds per engine answer before the engine is killed
    seed: int = 0

    def __post_init__(self) -> None:
        argv = shlex.split(self.command)
        if not argv:
            raise ValueError("the teacher command is empty")
        if self.levels and "--level" in argv:
            raise ValueError("give either --level in the teacher command or --levels, not both")
        low, high = self.opening_moves
        if not 0 <= low <= high:
            raise ValueError(f"bad opening_moves range {self.opening_moves}")
        check_ranges(self, at_least_0=("max_moves", "seed"), positive=("move_timeout",))
        Rules(size=self.size, komi=self.komi)  # a GoError (a ValueError) for a bad one
        if any(level < 0 for level in self.levels):
            raise ValueError(f"levels must be 0 or more, got {self.levels}")

    def argv(self, level: int | None) -> list[str]:
        argv = shlex.split(self.command)
        return argv if level is None else [*argv, "--level", str(level)]


def random_opening(position: Position, count: int, rng: np.random.Generator) -> Position:
    """Play `count` random legal moves that are not on the first line."""
    size = position.size
    inner = [r * size + c for r in range(1, size - 1) for c in range(1, size - 1)]
    for _ in range(count):
        legal = [p for p in inner if position.is_legal(p)]
        if not legal:
            break
        position = position.play(int(rng.choice(legal)))
    return position


def play_teacher_game(settings: TeacherSettings, rng: np.random.Generator) -> dict[str, Any]:
    """One game of the engine against itself: {"moves", "result", "level", "opening",
    "end", "seconds"}. GtpError if the engine fails or hangs (the actor's caller retries)."""
    start = time.monotonic()
    level = int(rng.choice(settings.levels)) if settings.levels else None
    rules = Rules(size=settings.size, komi=settings.komi)
    position = random_opening(Position.new(rules), int(rng.integers(
        settings.opening_moves[0], settings.opening_moves[1] + 1)), rng)
    opening = position.move_number
    max_moves = settings.max_moves or 3 * settings.size ** 2
    with GtpClient(settings.argv(level), timeout=settings.move_timeout) as engine:
        engine.send_many([f"boardsize {settings.size}", "clear_board",
                          f"komi {settings.komi:g}"])
        engine.send_many([f"play {'b' if c == BLACK else 'w'} {to_gtp(m, settings.size)}"
                          for c, m in position.moves()])
        end = "two passes"
        while not position.is_game_over():
            if position.move_number >= max_moves:
                end = "move cap"
                break
            colour = "b" if position.to_play == BLACK else "w"
            answer = engine.send(f"genmove {colour}").strip().lower()
            if answer == "resign":
                position = position.play(RESIGN)
                end = "resignation"
                break
            move = PASS if answer == "pass" else from_gtp(answer, settings.size)
            try:
                position = position.play(move)
            except GoError:
                end = f"engine move {answer} illegal under our rules"
                break
        result = position.result() if position.winner is not None else None
        if result is None:
            try:
                result = _normalise_score(engine.send("final_score"))
            except GtpError:
                result = position.result()
    return {"moves": position.moves(), "result": result, "level": level, "opening": opening,
            "end": end, "seconds": time.monotonic() - start}


def _normalise_score(text: str) -> str:
    """GNU Go's 'B+3.0' -> 'B+3'; '0' stays a draw."""
    text = text.strip()
    match = re.fullmatch(r"([BW])\+([0-9.]+)", text, re.IGNORECASE)
    if not match:
        return "0" if text in ("0", "Draw") else text
    return f"{match.group(1).upper()}+{float(match.group(2)):g}"


def check_teacher(settings: TeacherSettings) -> str:
    """Start the engine once and ask its name and the board size: a bad command or size is
    a GoError here, before any actor starts. Returns the engine's name."""
    level = settings.levels[0] if settings.levels else None
    with GtpClient(settings.argv(level), timeout=settings.move_timeout) as engine:
        name = engine.send("name")
        engine.send(f"boardsize {settings.size}")
    return name


class TeacherActor:
    """The runtime's Actor for teacher games: `run(n)` plays n games and returns them.

    A game whose engine fails (crash, hang) is retried with fresh random choices, up to
    `retries` times per call; then the GtpError propagates (the backend replaces the actor).
    """

    def __init__(self, settings: TeacherSettings, run_key: int, actor_id: int,
                 retries: int = 3) -> None:
        self.settings = settings
        self.actor_id = actor_id
        self.rng = np.random.default_rng(np.random.SeedSequence([settings.seed, run_key,
                                                                 actor_id]))
        self.retries = retries

    def set_weights(self, version: int, weights: Any) -> None:
        """Teacher games use no weights."""

    def run(self, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            for attempt in range(self.retries + 1):
                try:
                    out.append({"actor_id": self.actor_id,
                                **play_teacher_game(self.settings, self.rng)})
                    break
                except GoError:  # engine died, hung, or answered nonsense
                    if attempt == self.retries:
                        raise
        return out


def save_teacher_game(out: Path, index: int, game: dict[str, Any],
                      settings: TeacherSettings) -> Path:
    name = Path(shlex.split(settings.command)[0]).name
    player = f"{name} level {game['level']}" if game["level"] is not None else name
    return save_game(out, index, Rules(size=settings.size, komi=settings.komi), game["moves"],
                     game["result"], player,
                     f"rlgo teacher game: {game['opening']} random opening moves, then "
                     f"{player} for both colours; ended by {game['end']}; actor "
                     f"{game['actor_id']}")


# No learner runs, so it reserves no CPU: every core plays games.
TEACHER_RUNTIME = RuntimeSettings(learner_cpus=0.0)


def run_generation(settings: TeacherSettings, out: str | Path, games: int,
                   runtime: RuntimeSettings = TEACHER_RUNTIME, backend: Backend | None = None,
                   progress: Callable[[str], None] | None = print,
                   progress_every: float = 10.0) -> dict[str, Any]:
    """Play teacher games until `out` holds `games` of them (earlier ones count).

    runtime: where they are played (runtime.actors 0: one per CPU); backend: one to use
    instead of make_backend(runtime). Returns {"games", "new_games", "seconds",
    "games_per_s", "positions", "out"}. `out` is locked (RunLock) while they are played: a
    second run on it would write the same game numbers.
    """
    with RunLock(out):
        return _generate(settings, Path(out), games, runtime, backend, progress,
                         progress_every)


def _generate(settings: TeacherSettings, out: Path, games: int, runtime: RuntimeSettings,
              backend: Backend | None, progress: Callable[[str], None] | None,
              progress_every: float) -> dict[str, Any]:
    """run_generation, with `out` locked."""
    have = existing_games(out)
    summary = {"games": have, "new_games": 0, "positions": 0, "out": str(out)}
    if have >= games:
        return {**summary, "seconds": 0.0, "games_per_s": 0.0}
    clock = Progress(progress_every, have)
    backend = backend or make_backend(runtime, learner=False)
    try:
        backend.start(functools.partial(TeacherActor, settings, have), FixedWeights,
                      empty_replay, actors=runtime.actors)
        while have < games:
            for _, game in backend.poll(0.5, games - have):
                if have >= games:
                    break
                have += 1
                save_teacher_game(out, have, game, settings)
                summary["new_games"] += 1
                summary["positions"] += len(game["moves"])
            if progress is not None and clock.due(force=have >= games):
                progress(_status(clock, have, games, summary["positions"]))
    finally:
        backend.close()
    return {**summary, "games": have, "seconds": clock.elapsed,
            "games_per_s": clock.rate(have)}


def _status(clock: Progress, have: int, total: int, positions: int) -> str:
    new = have - clock.start
    moves = positions / new if new else 0.0
    return (f"games {have}/{total} | {clock.rate(have):.2f} games/s | {moves:.0f} moves/game | "
            f"elapsed {clock.elapsed / 60:.1f} min | ETA {clock.eta(have, total)}")
