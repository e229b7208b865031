"""Game records: SGF files in and out (through sgfmill), and replay into a Position.

A `GameRecord` is a plain value: the rules, setup stones, the main line of moves, and the few
root properties rlgo uses. `read_sgf` only parses; `position_from_record` replays and so is
what finds illegal moves. Every way a file can be broken comes out as SgfError (a GoError),
never as a raw sgfmill ValueError or a KeyError, so a corpus reader can skip and count.

Points convert through coords.py (SGF row 'a' is the top, as our row 0); sgfmill's own (row,
col) pairs count rows from the bottom, and are used only for AB/AW point lists (which may be
compressed, "aa:cc") and turned around at once.

RU maps to Rules' (scoring, ko, suicide):
  Chinese, AGA, BGA, unknown, none   area, positional superko, no suicide (the default Rules)
  Japanese, Korean                    territory, simple ko, no suicide (they have no superko,
                                      and a record with a long-cycle repetition must replay)
  NZ, Tromp-Taylor, GOE, Ing          area, positional superko, suicide allowed
  KataGo's "koSIMPLEscoreTERRITORY..sui1" strings  read literally (tax and button ignored)
A record's RU is written back as it was when it reads back as the same rules; otherwise
Chinese, Japanese, Tromp-Taylor or KataGo's string for the other combinations.
A missing KM means komi 0 (as in old records), not our 7.5.

A file may hold several games (a collection, "(;...)(;...)"): read_sgf and load_sgf_file take
one (the first by default) and say in record.games_in_file how many there are, so a reader
can tell the user; read_sgf_games / read_sgf_collection give all (go dataset, read_sgf_dir
take every game). Main-line move comments are read into move_comments and side branches
into `variations` (sgf_tree.py), and both are written back; replay follows the main line.
Files on disk (safe reading, atomic writing, folders): sgf_files.py.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from sgfmill import sgf, sgf_grammar

from envs.errors import quoted

from .coords import MAX_SIZE, MIN_SIZE, RESIGN, to_gtp, to_sgf
from .errors import GoError, IllegalMove, SgfError
from .position import Position
from .rules import BLACK, WHITE, Rules
from .scoring import final_result
from .sgf_tree import Variation, node_comment, node_move, read_variation, write_variation

logger = logging.getLogger(__name__)

_COLOR_LETTER = {BLACK: "B", WHITE: "W"}
_HANDLED = {"FF", "GM", "CA", "SZ", "KM", "RU", "HA", "AB", "AW", "AE", "PL", "B", "W", "RE",
            "PB", "PW", "DT"}

# normalised RU text -> (scoring, ko, suicide)
_AREA, _TT, _JP = ("area", "positional", False), ("area", "positional", True), \
    ("territory", "simple", False)
_RULESETS = {
    "chinese": _AREA, "cn": _AREA, "aga": _AREA, "bga": _AREA, "french": _AREA,
    "japanese": _JP, "jp": _JP, "korean": _JP,
    "nz": _TT, "newzealand": _TT, "tromptaylor": _TT, "tt": _TT, "goe": _TT, "ing": _TT,
}
# what write_sgf puts in RU for each rule triple; read back, each gives the same triple
_RU_NAMES = {_AREA: "Chinese", _TT: "Tromp-Taylor", _JP: "Japanese"}


def _ru_name(rules: Rules) -> str:
    """The RU text for `rules`: a common name, else KataGo's spelled-out form."""
    triple = (rules.scoring, rules.ko, rules.suicide)
    if triple in _RU_NAMES:
        return _RU_NAMES[triple]
    tax = "SEKI" if rules.scoring == "territory" else "NONE"
    return (f"ko{rules.ko.upper()}score{rules.scoring.upper()}tax{tax}"
            f"sui{int(rules.suicide)}")


def _ruleset(text: str | None) -> tuple[str, str, bool]:
    """RU text -> (scoring, ko, suicide); the default rules for anything unknown."""
    key = re.sub(r"[^a-z0-9]", "", (text or "").lower())
    if key.startswith("ko") and "sui" in key:  # KataGo: koPOSITIONALscoreAREAtaxNONEsui1
        ko = "simple" if key.startswith("kosimple") else "positional"
        scoring = "territory" if "scoreterritory" in key else "area"
        return scoring, ko, "sui1" in key
    return _RULESETS.get(key, _AREA)


@dataclass
class GameRecord:
    """One game: what an SGF main line holds and rlgo uses.

    moves:        [(colour, move)], passes as PASS; no RESIGN (a resignation is the result).
    black_setup, white_setup: AB / AW stones (flat indices), handicap stones among them.
    first_player: PL, the colour to move first, or None when the file does not say.
    handicap:     HA, informational; the stones themselves are in black_setup.
    ruleset:      RU as written, kept so it is written back unchanged.
    extra:        other root properties, as raw SGF values (escapes kept).
    move_comments: C[] of the main line's move nodes, by index into `moves` (a comment on a
                  node without a move is not kept).
    variations:   side branches, variations[i] the alternatives to moves[i] (sgf_tree.py).
    games_in_file: how many games the file or text held (a collection holds several);
                  not part of the game, so not compared and not written.
    """

    rules: Rules = field(default_factory=Rules)
    moves: list[tuple[int, int]] = field(default_factory=list)
    black_setup: list[int] = field(default_factory=list)
    white_setup: list[int] = field(default_factory=list)
    first_player: int | None = None
    handicap: int = 0
    result: str | None = None
    player_black: str | None = None
    player_white: str | None = None
    date: str | None = None
    ruleset: str | None = None
    extra: dict[str, list[str]] = field(default_factory=dict)
    move_comments: dict[int, str] = field(default_factory=dict)
    variations: dict[int, list[Variation]] = field(default_factory=dict)
    games_in_file: int = field(default=1, compare=False, repr=False)

    @property
    def size(self) -> int:
        return self.rules.size


# ---- reading ------------------------------------------------------------------------------------

def read_sgf(data: bytes | str, game: int = 1) -> GameRecord:
    """Parse game number `game` (from 1) of an SGF file or collection: its main line, move
    comments and side branches; record.games_in_file says how many games the file holds.

    bytes are decoded by the file's CA (default ISO-8859-1, as the SGF spec says); a str is
    taken as already decoded. Raises SgfError for anything unreadable, or when there is no
    game `game`. Does not replay: see position_from_record."""
    trees, encoding = _collection(data)
    if not 1 <= game <= len(trees):
        raise SgfError(f"no game {game}: the file holds {_games(len(trees))}")
    return _guarded(trees[game - 1], encoding, len(trees))


def read_sgf_collection(data: bytes | str) -> list[GameRecord | SgfError]:
    """Every game of an SGF collection, in file order: each its record, or the SgfError that
    game raised, so a corpus reader can keep the good games and count the bad. SgfError
    when the text is no SGF at all."""
    trees, encoding = _collection(data)
    games: list[GameRecord | SgfError] = []
    for tree in trees:
        try:
            games.append(_guarded(tree, encoding, len(trees)))
        except SgfError as err:
            games.append(err)
    return games


def read_sgf_games(data: bytes | str) -> list[GameRecord]:
    """Every game of an SGF collection; SgfError (naming the game) if any is unreadable."""
    games = read_sgf_collection(data)
    for number, game in enumerate(games, 1):
        if isinstance(game, SgfError):
            raise SgfError(f"game {number} of {len(games)}: {game}") if len(games) > 1 else game
    return games  # type: ignore[return-value]  # no SgfError left


def _games(count: int) -> str:
    return "1 game" if count == 1 else f"{count} games"


def _collection(data: bytes | str) -> tuple[list[sgf_grammar.Coarse_game_tree], str | None]:
    """The file's game trees (coarse: properties still raw) and the encoding a str implies."""
    encoding = None
    if isinstance(data, str):
        data, encoding = data.encode("utf-8"), "UTF-8"
    try:
        return sgf_grammar.parse_sgf_collection(data), encoding
    except ValueError as err:
        raise SgfError(f"not an SGF game: {error_text(err)}") from None


def _guarded(tree: sgf_grammar.Coarse_game_tree, encoding: str | None,
             count: int) -> GameRecord:
    """_read, with every library error turned into SgfError."""
    try:
        record = _read(tree, encoding)
    except SgfError:
        raise
    except (GoError, ValueError, KeyError, IndexError, TypeError, RecursionError) as err:
        raise SgfError(f"malformed SGF: {error_text(err)}") from err
    record.games_in_file = count
    return record


def error_text(err: Exception, limit: int = 200) -> str:
    """A library's error text with anything unprintable escaped, cut to `limit` characters:
    such texts may embed bytes of the file."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(err))
    text = text or type(err).__name__
    return text[:limit] + "..." if len(text) > limit else text


def _read(tree: sgf_grammar.Coarse_game_tree, encoding: str | None) -> GameRecord:
    root_props = tree.sequence[0]
    game_type = root_props.get("GM", [b"1"])[0].strip()
    if game_type != b"1":
        raise SgfError(f"not a Go game (GM {quoted(game_type)})")
    size_text = root_props.get("SZ", [b"19"])[0].decode("latin-1").strip()
    if not (size_text.isascii() and size_text.isdigit() and len(size_text) < 9):
        raise SgfError(f"unsupported board size SZ {quoted(size_text)} (only square boards)")
    size = int(size_text)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise SgfError(f"unsupported board size {size} (rlgo plays {MIN_SIZE}x{MIN_SIZE} to "
                       f"{MAX_SIZE}x{MAX_SIZE})")
    try:
        game = sgf.Sgf_game.from_coarse_game_tree(tree, encoding)
    except ValueError:  # a CA naming no known codec: fall back on the SGF default charset
        game = sgf.Sgf_game.from_coarse_game_tree(tree, "ISO-8859-1")
    root = game.get_root()

    def text(prop: str) -> str | None:
        if not root.has_property(prop):
            return None
        raw = sgf_grammar.simpletext_value(root.get_raw(prop))
        return raw.decode(root.get_encoding(), "replace").strip()

    komi_text = text("KM")
    try:
        komi = float(komi_text.replace(",", ".")) if komi_text else 0.0
    except ValueError:
        raise SgfError(f"bad komi KM {quoted(komi_text)}") from None
    ruleset = text("RU")
    scoring, ko, suicide = _ruleset(ruleset)
    rules = Rules(size=size, komi=komi, ko=ko, suicide=suicide, scoring=scoring)

    def value(prop: str, default=None):
        """sgfmill's parsed value; its ValueError says nothing, so name the property."""
        try:
            return root.get(prop) if root.has_property(prop) else default
        except ValueError:
            raise SgfError(f"bad {prop} value {quoted(root.get_raw(prop))}") from None

    def points(prop: str) -> list[int]:
        found = value(prop, set())
        return sorted((size - 1 - row) * size + col for row, col in found)

    black, white = points("AB"), points("AW")
    if set(black) & set(white):
        raise SgfError("AB and AW put stones on the same point")
    first = value("PL")
    handicap_text = text("HA") or "0"
    if not (handicap_text.isascii() and handicap_text.isdigit() and len(handicap_text) < 4):
        raise SgfError(f"bad handicap HA {quoted(handicap_text)}")
    handicap = int(handicap_text)

    moves: list[tuple[int, int]] = []
    comments: dict[int, str] = {}
    variations: dict[int, list[Variation]] = {}
    node: sgf.Tree_node | None = root
    depth = 0
    while node is not None:  # the main line: each node's first child
        if depth and node.has_setup_stones():
            raise SgfError(f"setup stones (AB/AW/AE) after move {len(moves)} are not supported")
        played = node_move(node, size, f"at move {len(moves) + 1}")
        if played is not None:
            moves.append(played)
            comment = node_comment(node)
            if comment is not None:
                comments[len(moves) - 1] = comment
        children = list(node)
        if len(children) > 1:
            branches = [read_variation(other, size) for other in children[1:]]
            variations.setdefault(len(moves), []).extend(branches)
        node, depth = (children[0] if children else None), depth + 1

    extra = {prop: [v.decode(root.get_encoding(), "replace") for v in root.get_raw_list(prop)]
             for prop in root.properties()
             if prop not in _HANDLED and sgf_grammar.is_valid_property_identifier(prop)}
    return GameRecord(rules=rules, moves=moves, black_setup=black, white_setup=white,
                      first_player={"b": BLACK, "w": WHITE}.get(first), handicap=handicap,
                      result=text("RE") or None, player_black=text("PB"),
                      player_white=text("PW"), date=text("DT"), ruleset=ruleset, extra=extra,
                      move_comments=comments, variations=variations)


# ---- writing ------------------------------------------------------------------------------------

def write_sgf(record: GameRecord) -> bytes:
    """The record as UTF-8 SGF (FF[4]), comments and side branches included; passes are
    written B[] / W[]."""
    size = record.size
    game = sgf.Sgf_game(size)
    root = game.get_root()
    try:
        root.set("KM", record.rules.komi)
        rule_triple = (record.rules.scoring, record.rules.ko, record.rules.suicide)
        if record.ruleset is not None and _ruleset(record.ruleset) == rule_triple:
            root.set("RU", record.ruleset)
        elif record.ruleset is not None or rule_triple != _ruleset(None):
            root.set("RU", _ru_name(record.rules))  # no RU reads as the default rules
        if record.handicap:
            root.set("HA", record.handicap)
        root.set_setup_stones([_sgfmill_point(p, size) for p in record.black_setup],
                              [_sgfmill_point(p, size) for p in record.white_setup])
        if record.first_player is not None:
            root.set("PL", "b" if record.first_player == BLACK else "w")
        for prop, value in (("PB", record.player_black), ("PW", record.player_white),
                            ("DT", record.date), ("RE", record.result)):
            if value is not None:
                root.set(prop, value)
        for prop, values in record.extra.items():
            if prop not in _HANDLED:
                root.set_raw_list(prop, [v.encode("utf-8") for v in values])
    except (ValueError, TypeError) as err:
        raise SgfError(f"cannot write record: {err}") from err
    node = root
    for index, (color, move) in enumerate(record.moves):
        if move == RESIGN:
            continue  # SGF has no resign move; RE says B+R / W+R
        parent, node = node, node.new_child()
        node.set_raw(_COLOR_LETTER[color], to_sgf(move, size).encode("ascii"))
        if index in record.move_comments:
            node.set("C", record.move_comments[index])
        for branch in record.variations.get(index, []):
            write_variation(parent, branch, size)  # after the main line's child
    if record.variations.get(len(record.moves)):
        # branches after the last move: an empty main-line node first, or the first branch
        # would read back as the main line
        node.new_child()
        for branch in record.variations[len(record.moves)]:
            write_variation(node, branch, size)
    return game.serialise()


def _sgfmill_point(p: int, size: int) -> tuple[int, int]:
    row, col = divmod(int(p), size)
    return size - 1 - row, col


# ---- records and positions ----------------------------------------------------------------------

def position_from_record(record: GameRecord) -> Position:
    """Replay a record: the final Position, with the whole game in its history.

    Raises SgfError naming the move number for an illegal move or bad setup."""
    first = record.first_player
    if first is None:
        if record.moves:
            first = record.moves[0][0]
        else:
            handicap_game = record.black_setup and not record.white_setup
            first = WHITE if handicap_game and record.handicap >= 2 else BLACK
    try:
        pos = Position.new(record.rules).with_stones(record.black_setup, record.white_setup,
                                                     to_play=first)
    except IllegalMove as err:
        raise SgfError(f"bad setup stones: {err}") from None
    for number, (color, move) in enumerate(record.moves, 1):
        try:
            pos = pos.play(move, color)
        except GoError as err:
            name = to_gtp(move, record.size) if move >= 0 else repr(move)
            raise SgfError(f"move {number} ({_COLOR_LETTER.get(color, color)} {name}) is "
                           f"illegal: {getattr(err, 'reason', err)}") from None
    return pos


def record_from_position(position: Position, result: str | None = None,
                         player_black: str | None = None, player_white: str | None = None,
                         date: str | None = None) -> GameRecord:
    """The game that led to `position`, from its root (setup stones included).

    result defaults to the count under the game's rules (scoring.final_result, every stone
    alive) once the game is over (two passes or resignation)."""
    root = position.root()
    black = [int(p) for p in (root.board == BLACK).nonzero()[0]]
    white = [int(p) for p in (root.board == WHITE).nonzero()[0]]
    handicap = len(black) if black and not white and root.to_play == WHITE else 0
    if result is None and position.is_game_over():
        result = final_result(position)
    return GameRecord(
        rules=position.rules, moves=[(c, m) for c, m in position.moves() if m != RESIGN],
        black_setup=black, white_setup=white,
        first_player=root.to_play if (black or white or root.to_play == WHITE) else None,
        handicap=handicap if handicap >= 2 else 0, result=result, player_black=player_black,
        player_white=player_white, date=date,
        ruleset=_ru_name(position.rules))
