"""The arena: matches between two GTP engines, refereed by our own Position.

The arena holds the authoritative game. Each `genmove` answer is checked with Position.play
before the opponent hears of it with `play`. Whatever an engine does wrong loses it that game
by forfeit (RE "B+Forfeit" / "W+Forfeit", the reason in the SGF comment): an illegal or
unparsable move, a GTP error, a crash, or no answer within the per-move timeout. The offending
process is killed and restarted for the next game, and the match goes on. Resignation ends a
game ("B+R"), as do two consecutive passes, or the move cap (3 * size * size moves by default,
then the game is adjudicated by score).

Scoring. With a referee engine (e.g. "gnugo --mode gtp --chinese-rules"), the finished game is
replayed into it and its `final_score` decides, so dead stones left on the board count as dead.
Without one, the result is the Tromp-Taylor area count of our Position: every stone on the board
counts as alive, and an empty region that touches both colours counts for nobody. That is exact
only for games played out to the end, and GNU Go does not play them out: it passes as soon as it
judges the game decided, leaving dead stones on the board (with --chinese-rules too), and at low
levels it sometimes passes with open, unsettled boundaries (measured: level 1 vs level 1 on 9x9
ended after 27-75 moves). So for GNU Go, or any engine that does not capture everything before
passing, give a referee (`rlgo go match --referee gnugo`). If the referee fails, the area
count is used and the SGF comment says so (with a referee it shows both counts).

Rules. The ko rule defaults to simple ko, which every engine obeys (GNU Go knows no superko, so
under positional superko it could forfeit a game by repeating a position). Komi is sent with
`komi`; the time per move S as `time_settings 0 S 1` (S rounded up to whole seconds, as GTP
wants integers), and the per-move timeout is 3 * S + 10 seconds unless set explicitly.

Colours alternate: engine A (config.black) takes Black in games 1, 3, 5, ... and White in
games 2, 4, ...; results are counted per engine, not per colour.

Resuming. With an SGF directory, the match so far is kept in DIR/match.json (its settings and
every finished game, rewritten atomically after each), so a match longer than a sitting can be
killed at any moment and continued with `resume`: only the game in progress is lost, and the
summary counts every game. A directory that holds a match is never overwritten without resume,
and resume refuses settings other than the saved ones (the number of games may grow).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from envs.atomic import atomic_write_bytes, remove_partial_files
from envs.go.board import winner_from_result
from envs.go.coords import RESIGN, from_gtp, to_gtp
from envs.go.errors import GoError, IllegalMove
from envs.go.gtp_client import GtpClient, GtpEngineDied, GtpError, GtpTimeout
from envs.go.position import Position
from envs.go.rules import BLACK, DEFAULT_KOMI, WHITE, Rules, opponent
from envs.go.sgf import record_from_position
from envs.go.sgf_files import save_sgf_file
from selfplay.stats import EngineStats, GameSummary, MatchResult, format_result

__all__ = ["GameOutcome", "MatchConfig", "MatchError", "MatchResult", "format_result",
           "play_game", "run_match"]

_LETTER = {BLACK: "B", WHITE: "W"}
_SCORE = re.compile(r"^([BW])\+(\d+(?:\.\d+)?)$")


class MatchError(GoError):
    """A match that cannot run: bad settings, or an engine that does not start."""


@dataclass(frozen=True)
class MatchConfig:
    """One match. `black` is engine A and `white` engine B (their colours swap every game
    unless alternate is False). time_per_move in seconds; move_timeout overrides the derived
    per-move timeout; max_moves defaults to 3 * size * size; seed, when given, is sent as
    `set_random_seed seed + game index` to engines that know the command; resume continues the
    match saved in sgf_dir (see the module's docstring)."""

    black: str
    white: str
    games: int = 2
    size: int = 9
    komi: float = DEFAULT_KOMI
    ko: str = "simple"
    time_per_move: float = 1.0
    move_timeout: float | None = None
    sgf_dir: str | None = None
    referee: str | None = None
    alternate: bool = True
    max_moves: int | None = None
    seed: int | None = None
    resume: bool = False

    def __post_init__(self):
        for what, command in (("black", self.black), ("white", self.white),
                              ("referee", self.referee or "x")):
            if not isinstance(command, str) or not command.strip():
                raise MatchError(f"the {what} engine command is empty")
        if not isinstance(self.games, int) or self.games < 1:
            raise MatchError(f"games must be a positive integer, got {self.games!r}")
        if not self.time_per_move > 0:
            raise MatchError(f"time per move must be positive, got {self.time_per_move!r}")
        if self.move_timeout is not None and not self.move_timeout > 0:
            raise MatchError(f"move timeout must be positive, got {self.move_timeout!r}")
        if self.max_moves is not None and self.max_moves < 1:
            raise MatchError(f"max_moves must be positive, got {self.max_moves!r}")
        if self.resume and not self.sgf_dir:
            raise MatchError("resuming a match needs the SGF directory it was saved in")
        self.rules  # noqa: B018 -- validates size, komi and ko now, as a GoError

    @property
    def rules(self) -> Rules:
        return Rules(size=self.size, komi=self.komi, ko=self.ko)

    @property
    def timeout(self) -> float:
        """Seconds an engine gets to answer one genmove before it forfeits."""
        return self.move_timeout or 3 * self.time_per_move + 10

    @property
    def move_cap(self) -> int:
        return self.max_moves or 3 * self.size * self.size

    def settings(self) -> dict:
        """What makes two runs the same match: everything but the length and where it is saved."""
        return {key: value for key, value in asdict(self).items()
                if key not in ("games", "sgf_dir", "resume")}


@dataclass
class GameOutcome:
    """How one game ended. winner is BLACK, WHITE or None (a draw); reason one of "score",
    "resign", "forfeit", "move limit"; forfeit the colour that forfeited; moves counts the
    moves played (passes included); move_times the seconds each colour spent per genmove."""

    result: str
    winner: int | None
    reason: str
    position: Position
    detail: str = ""
    forfeit: int | None = None
    move_times: dict[int, list[float]] = field(default_factory=lambda: {BLACK: [], WHITE: []})
    seconds: float = 0.0

    @property
    def moves(self) -> int:
        return sum(1 for _, move in self.position.moves() if move != RESIGN)


def play_game(black, white, rules: Rules, move_timeout: float, max_moves: int | None = None,
              referee=None, setup: Sequence[str] | Mapping[int, Sequence[str]] = (),
              setup_timeout: float = 60.0) -> GameOutcome:
    """Play one game between two GTP clients (anything with GtpClient's send/send_many).

    Both engines get boardsize/clear_board/komi (a failure forfeits), then the optional
    `setup` commands, the same for both or a {colour: commands} mapping (a GTP error there is
    ignored; a timeout or a crash forfeits). `referee`, a GTP client, scores the end."""
    start = time.monotonic()
    engines = {BLACK: black, WHITE: white}
    pos = Position.new(rules)
    times: dict[int, list[float]] = {BLACK: [], WHITE: []}
    max_moves = max_moves or 3 * rules.size * rules.size

    def end(result, winner, reason, detail="", forfeit=None) -> GameOutcome:
        return GameOutcome(result, winner, reason, pos, detail, forfeit, times,
                           time.monotonic() - start)

    def forfeit(color: int, why: str) -> GameOutcome:
        winner = opponent(color)
        name = "Black" if color == BLACK else "White"
        return end(f"{_LETTER[winner]}+Forfeit", winner, "forfeit", f"{name} forfeits: {why}",
                   color)

    for color, engine in engines.items():
        try:
            engine.send_many([f"boardsize {rules.size}", "clear_board", f"komi {rules.komi:g}"],
                             timeout=setup_timeout)
        except GtpError as err:
            return forfeit(color, f"game setup failed: {_describe(err)}")
        for command in setup.get(color, ()) if isinstance(setup, Mapping) else setup:
            try:
                engine.send(command, timeout=setup_timeout)
            except (GtpTimeout, GtpEngineDied) as err:
                return forfeit(color, f"{command!r} failed: {_describe(err)}")
            except GtpError:
                pass  # an optional command the engine does not support
    while not pos.is_game_over() and pos.move_number < max_moves:
        color = pos.to_play
        tic = time.monotonic()
        try:
            reply = engines[color].send(f"genmove {_LETTER[color].lower()}", timeout=move_timeout)
        except GtpError as err:
            return forfeit(color, f"genmove failed: {_describe(err, move_timeout)}")
        times[color].append(time.monotonic() - tic)
        try:
            move = from_gtp(reply, rules.size)
        except GoError:
            return forfeit(color, f"unparsable move {reply!r}")
        try:
            pos = pos.play(move, color)
        except IllegalMove as err:
            return forfeit(color, f"illegal move {reply.strip().upper()} ({err.reason})")
        if move == RESIGN:
            return end(f"{_LETTER[opponent(color)]}+R", opponent(color), "resign")
        try:
            engines[opponent(color)].send(f"play {_LETTER[color]} {to_gtp(move, rules.size)}",
                                          timeout=move_timeout)
        except GtpError as err:
            return forfeit(opponent(color), f"'play' of a legal move failed: {_describe(err)}")
    reason = "score" if pos.is_game_over() else "move limit"
    result, detail = score_game(pos, referee, setup_timeout)
    if reason == "move limit":
        detail = f"adjudicated after {pos.move_number} moves; {detail}"
    return end(result, winner_from_result(result), reason, detail)


def _describe(err: GtpError, timeout: float | None = None) -> str:
    if isinstance(err, GtpTimeout):
        return f"no answer within {timeout:g} s (hung; killed)" if timeout else "timed out"
    if isinstance(err, GtpEngineDied):
        return f"engine died: {err.message}"
    return f"GTP error: {err.message}"


def score_game(pos: Position, referee: GtpClient | None, timeout: float) -> tuple[str, str]:
    """(result, how it was scored) of the game ending at `pos`: replayed into `referee` (a
    GtpClient) for its final_score, else (no referee, or it fails) the area count."""
    area = f"Tromp-Taylor area B {pos.area()[0]} W {pos.area()[1]} komi {pos.rules.komi:g}"
    if referee is None:
        return pos.result(), f"scored by {area}"
    size = pos.rules.size
    commands = [f"boardsize {size}", "clear_board", f"komi {pos.rules.komi:g}"]
    commands += [f"play {_LETTER[c]} {to_gtp(m, size)}" for c, m in pos.moves() if m != RESIGN]
    try:
        referee.send_many(commands, timeout=timeout)
        answer = referee.send("final_score", timeout=timeout).strip().upper()
    except GtpError as err:
        return pos.result(), f"referee failed ({_describe(err)}); scored by {area}"
    if answer in ("0", "DRAW", "JIGO"):
        return "0", f"scored by the referee (final_score {answer}); {area} gives {pos.result()}"
    match = _SCORE.match(answer)
    if not match or float(match.group(2)) == 0:
        return pos.result(), f"referee said {answer!r}; scored by {area}"
    result = f"{match.group(1)}+{float(match.group(2)):g}"
    return result, f"scored by the referee (final_score); {area} gives {pos.result()}"


class _Engine:
    """One side of the match: a command, its running client, and its GTP name."""

    def __init__(self, label: str, command: str, timeout: float):
        self.label, self.command, self.timeout = label, command, timeout
        self.client: GtpClient | None = None
        self.name = label
        self.commands: set[str] = set()

    def start(self) -> None:
        """Start the engine and ask its name; raises MatchError when it does not answer."""
        self.close()
        try:
            self.client = GtpClient(self.command, timeout=self.timeout)
            self.name = self._ask("name") or Path(self.client.argv[0]).name
            version = self._ask("version")
            self.name = f"{self.name} {version}" if version else self.name
            listed = self._ask("list_commands")
            self.commands = set(listed.split()) if listed else set()
        except (GtpError, ValueError) as err:
            self.close()
            raise MatchError(f"engine {self.label} ({self.command}) did not start: "
                             f"{err.message if isinstance(err, GtpError) else err}") from err

    def _ask(self, command: str) -> str:
        try:
            return self.client.send(command).strip()
        except (GtpTimeout, GtpEngineDied):
            raise
        except GtpError:
            return ""

    @property
    def alive(self) -> bool:
        return self.client is not None and self.client.alive

    def close(self) -> None:
        if self.client is not None:
            self.client.close(grace=1.0)
            self.client = None


def _comment(text: str) -> str:
    return text.replace("\\", "\\\\").replace("]", "\\]")


def run_match(config: MatchConfig, progress: Callable[[str], None] | None = ...
              ) -> MatchResult:
    """Play config.games games between engine A (config.black) and engine B (config.white).

    progress gets one line per finished game (default: print to stderr; None: silent).
    Raises MatchError when an engine cannot start at all, or when sgf_dir holds a match that
    this one may not continue; once the match runs, engine failures only forfeit games."""
    if progress is ...:
        progress = _print_stderr
    setup_timeout = max(60.0, config.timeout)
    engines = [_Engine("A", config.black, setup_timeout), _Engine("B", config.white,
                                                                    setup_timeout)]
    referee = _Engine("referee", config.referee, setup_timeout) if config.referee else None
    stats = [EngineStats("A", config.black), EngineStats("B", config.white)]
    result = MatchResult(config=config, engines=stats)
    sgf_dir = Path(config.sgf_dir) if config.sgf_dir else None
    if sgf_dir:
        sgf_dir.mkdir(parents=True, exist_ok=True)
        _restore(config, sgf_dir, result, progress)
    width = max(3, len(str(config.games)))
    if len(result.games) >= config.games:
        return result
    try:
        for engine in [*engines, referee] if referee else engines:
            engine.start()
        for s, engine in zip(stats, engines, strict=True):
            s.name = engine.name
        for index in range(len(result.games), config.games):
            a_black = index % 2 == 0 or not config.alternate
            black, white = engines if a_black else engines[::-1]
            outcome = _play_one(config, index, black, white, referee, setup_timeout)
            path = None
            if sgf_dir:
                path = sgf_dir / f"game-{index + 1:0{width}d}.sgf"
                _save(path, config, index, outcome, black, white)
            summary = GameSummary(index + 1, black.label, white.label, outcome.result,
                                  outcome.reason, outcome.moves, outcome.seconds,
                                  outcome.detail, str(path) if path else None)
            times = {black.label: outcome.move_times[BLACK], white.label: outcome.move_times[WHITE]}
            result.add(summary, times)
            if sgf_dir:
                _save_state(sgf_dir, config, result, times)
            if progress:
                progress(result.progress_line(summary))
    finally:
        for engine in [*engines, referee] if referee else engines:
            engine.close()
    return result


_STATE = "match.json"


def _restore(config: MatchConfig, sgf_dir: Path, result: MatchResult,
             progress: Callable[[str], None] | None) -> None:
    """Count the games a saved match in sgf_dir already played, or refuse to touch it."""
    path = sgf_dir / _STATE
    if not config.resume:
        if path.exists() or any(sgf_dir.glob("game-*.sgf")):
            raise MatchError(f"{sgf_dir} already holds a match: pass --resume to continue it, "
                             f"or choose another SGF directory")
        return
    remove_partial_files(sgf_dir)
    if not path.exists():
        return
    try:
        state = json.loads(path.read_text())
        saved, games = state["settings"], state["games"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise MatchError(f"cannot resume from {path}: {err}") from err
    for key, value in config.settings().items():
        if saved.get(key) != value:
            raise MatchError(f"cannot resume the match in {sgf_dir}: it was played with "
                             f"{key}={saved.get(key)!r}, not {value!r}")
    for engine in result.engines:
        engine.name = state.get("names", {}).get(engine.label, engine.name)
    for game in games:
        times = game.pop("times")
        result.add(GameSummary(**game), times)
    if progress and games:
        a, b = result.engines
        progress(f"resuming the match in {sgf_dir}: {len(games)} of {config.games} games "
                 f"played, {a.label} {a.wins}-{b.wins} {b.label}")


def _save_state(sgf_dir: Path, config: MatchConfig, result: MatchResult,
                last_times: dict[str, list[float]]) -> None:
    """Rewrite DIR/match.json with every finished game (atomically: a kill loses nothing)."""
    path = sgf_dir / _STATE
    games = []
    if path.exists():
        games = json.loads(path.read_text())["games"][:len(result.games) - 1]
    games.append({**asdict(result.games[-1]), "times": last_times})
    state = {"settings": config.settings(), "games": games,
             "names": {engine.label: engine.name for engine in result.engines}}
    atomic_write_bytes(path, (json.dumps(state, indent=1) + "\n").encode())


def _play_one(config: MatchConfig, index: int, black: _Engine, white: _Engine,
              referee: _Engine | None, setup_timeout: float) -> GameOutcome:
    """One game, restarting dead engines first; the engine that forfeits is restarted."""
    for color, engine in ((BLACK, black), (WHITE, white)):
        if not engine.alive:
            try:
                engine.start()
            except MatchError as err:
                name = "Black" if color == BLACK else "White"
                winner = opponent(color)
                return GameOutcome(f"{_LETTER[winner]}+Forfeit", winner, "forfeit",
                                   Position.new(config.rules),
                                   f"{name} forfeits: restart failed: {err}", color)
    if referee is not None and not referee.alive:
        with contextlib.suppress(MatchError):  # if not, scored by area; the SGF comment says so
            referee.start()
    setup = {}
    for color, engine in ((BLACK, black), (WHITE, white)):
        commands = [f"time_settings 0 {max(1, math.ceil(config.time_per_move))} 1"]
        if config.seed is not None and "set_random_seed" in engine.commands:
            commands.append(f"set_random_seed {config.seed + index}")
        setup[color] = commands
    outcome = play_game(black.client, white.client, config.rules, config.timeout,
                        config.move_cap, referee.client if referee and referee.alive else None,
                        setup=setup, setup_timeout=setup_timeout)
    if outcome.forfeit is not None:
        (black if outcome.forfeit == BLACK else white).close()  # restarted before the next game
    return outcome


def _save(path: Path, config: MatchConfig, index: int, outcome: GameOutcome, black: _Engine,
          white: _Engine) -> None:
    """The game as SGF, written atomically; the comment says who played and how it ended."""
    record = record_from_position(outcome.position, result=outcome.result,
                                  player_black=black.name, player_white=white.name,
                                  date=date.today().isoformat())
    lines = [f"rlgo match game {index + 1} of {config.games}",
             f"Black: engine {black.label}: {black.command}",
             f"White: engine {white.label}: {white.command}",
             f"Result {outcome.result} ({outcome.reason}) after {outcome.moves} moves"]
    if outcome.detail:
        lines.append(outcome.detail)
    record.extra["GN"] = [_comment(f"game {index + 1}: {black.label} vs {white.label}")]
    record.extra["AP"] = ["rlgo arena"]
    record.extra["C"] = [_comment("\n".join(lines))]
    save_sgf_file(path, record)


def _print_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
