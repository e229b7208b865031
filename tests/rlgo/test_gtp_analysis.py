"""The analysis commands GUIs send (issue 20), each quoted from the client or its doc:

- Lizzie (featurecat/lizzie, Leelaz.java): `name`, then `version`, whose first word it parses as
  Leela Zero's version ("requires version 0.15 or later" below 0.15); `lz-analyze INTERVAL` with
  Leela Zero's `avoid`/`allow`; `lz-genmove_analyze` when playing against the engine.
- KataGo's docs/GTP_Extensions.md, the written grammar of Leela Zero's extensions:
  `lz-analyze [player] [interval] KEYVALUEPAIR...` with `interval N`, `minmoves N`,
  `avoid PLAYER VERTEX,VERTEX,... UNTILDEPTH` (repeatable), `allow ...` (once, never with
  avoid); `lz-genmove_analyze` ends with `play <vertex or "pass" or "resign">`.
- Sabaki (docs/guides/engine-analysis-integration.md): `analyze <color> <interval>` and
  `genmove_analyze <color> <interval>`; winrate an integer in 1/100 percent or a float in [0, 1].
"""

from __future__ import annotations

import io

import pytest

from agents.alphago.search.player import Decision, MoveInfo, SearchLimits
from envs.go import PASS, RESIGN, Position, Rules, fixed_handicap
from rlgo.gtp import analysis, game
from rlgo.gtp.engine import GtpEngine
from rlgo.players import build_player, search_config
from tests.rlgo.test_gtp_engine import Scripted, V, ask, fails, make
from tests.rlgo.test_gtp_session import SlowLines

E5, C3 = MoveInfo(V("E5"), 120, 0.5312, 0.184, 0.51, (V("E5"), V("C3"))), \
    MoveInfo(V("C3"), 3, 0.4, 0.1, 0.0)


def run(engine: GtpEngine, *lines: str, pause: float = 0.0) -> list[str]:
    """The responses to `lines` through run() (streamed output included), one per command."""
    out = io.StringIO()
    source = SlowLines([line + "\n" for line in lines], pause) if pause else \
        io.StringIO("".join(line + "\n" for line in lines))
    assert engine.run(source, out) == 0
    blocks = out.getvalue().split("\n\n")
    assert blocks[-1] == ""
    return blocks[:-1]


# ---- the grammar -------------------------------------------------------------------------------

def test_leela_zero_argument_grammar():
    parse = analysis.parse_args
    plain = parse(("10",), 1, 9)
    assert (plain.color, plain.interval, plain.restriction.clauses) == (1, 0.1, ())
    assert parse(("w", "interval", "50", "minmoves", "3"), 1, 9).interval == 0.5
    assert parse(("W", "25"), 1, 9).color == 2
    avoid = parse(("10", "avoid", "b", "D4,Q16,pass", "20", "avoid", "w", "c3", "1"), 1, 19)
    assert avoid.restriction.clauses == (
        (1, frozenset({V("D4", 19), V("Q16", 19), PASS}), 20), (2, frozenset({V("C3", 19)}), 1))
    assert not avoid.restriction.permits(V("D4", 19), 1)
    assert avoid.restriction.permits(V("D4", 19), 2)  # avoid is per colour
    assert not avoid.restriction.permits(PASS, 1)
    allow = parse(("b", "allow", "b", "C3,G7", "1"), 1, 9).restriction
    assert allow.allow and allow.permits(V("G7"), 1) and not allow.permits(V("E5"), 1)
    assert allow.permits(V("E5"), 2)


@pytest.mark.parametrize("args, error", [
    ("10 avoid b d4 1 allow b c3 1", "avoid and allow cannot be mixed"),
    ("allow b c3 1 allow b d4 1", "allow can be given only once"),
    ("avoid b d4", "avoid needs a colour, vertices and a move count"),
    ("avoid x d4 1", "avoid: invalid color"),
    ("avoid b z99 1", "avoid: invalid vertex 'z99'"),
    ("avoid b , 1", "avoid: no vertices"),
    ("avoid b d4 0", "avoid: move count out of range (1 to 360000)"),
    ("allow b d4 many", "allow: move count not an integer"),
    ("b maxvisits 5", "unsupported analyze argument 'maxvisits'"),
])
def test_bad_arguments_are_named(args, error):
    engine = make(Scripted())
    assert fails(engine, f"lz-analyze {args}") == error
    assert fails(engine, f"lz-genmove_analyze {args}") == error
    assert engine.position.move_number == 0


# ---- lz-analyze and analyze --------------------------------------------------------------------

def test_lz_analyze_avoid_and_allow_restrict_the_candidates_shown():
    engine = make(Scripted(candidates=[E5, C3]))
    avoided, other_colour, allowed = run(
        engine, "1 lz-analyze 1 avoid b e5 1", "2 lz-analyze b 1 avoid w e5 1",
        "3 lz-analyze b interval 1 allow b c3,d4 5 minmoves 4", pause=0.15)
    head, info = avoided.split("\n")[:2]
    assert head == "=1"
    assert info == "info move C3 visits 3 winrate 4000 prior 1000 lcb 0 order 0 pv C3"
    assert other_colour.split("\n")[1].startswith("info move E5 ")  # white's list: not ours
    assert all(line == info for line in allowed.split("\n")[1:])


def test_sabaki_analyze_gives_win_rates_as_floats_and_needs_a_colour():
    engine = make(Scripted(candidates=[E5]))
    assert fails(engine, "analyze") == "invalid color"
    assert fails(engine, "analyze 50") == "invalid color"
    response = run(engine, "analyze b 1", pause=0.15)[0]
    assert response.split("\n")[1] == ("info move E5 visits 120 winrate 0.5312 prior 0.1840 "
                                       "lcb 0.5100 order 0 pv E5 C3")


# ---- lz-genmove_analyze and genmove_analyze ----------------------------------------------------

def test_lz_genmove_analyze_streams_then_plays():
    engine = make(Scripted(moves=[V("E5"), V("E5"), RESIGN], candidates=[E5, C3]))
    first, avoided, resigned, after = run(
        engine, "1 lz-genmove_analyze b 10", "2 lz-genmove_analyze w 10 avoid w e5 1",
        "genmove_analyze b 10", "showboard")
    assert first.split("\n") == ["=1", analysis.info_line([E5, C3], 9), "play E5"]
    assert avoided.split("\n") == ["=2", analysis.info_line([C3], 9), "play C3"]
    assert resigned.split("\n")[-1] == "play resign"
    assert engine.position.move_number == 2 and after.startswith("= ")


def test_genmove_analyze_after_a_running_analysis_ends_that_one_first():
    """Lizzie stops its lz-analyze by sending lz-genmove_analyze: the blank line that ends the
    analysis must come before the new response's '=' (the fuzz test found it after)."""
    engine = make(Scripted(moves=[V("E5")], candidates=[E5]))
    analysed, generated = run(engine, "1 lz-analyze b 1", "2 lz-genmove_analyze b 10",
                              pause=0.15)
    assert analysed.startswith("=1\ninfo move E5 ") and "play" not in analysed
    assert generated.split("\n") == ["=2", analysis.info_line([E5], 9), "play E5"]


def test_genmove_analyze_colour_is_optional_for_leela_zero_only():
    engine = make(Scripted(moves=[V("D4")]))
    assert fails(engine, "genmove_analyze 10") == "invalid color"
    assert run(engine, "lz-genmove_analyze 10")[0] == "=\nplay D4"
    assert engine.position.board[V("D4")] == 1


def test_allow_restricts_a_real_search_and_its_move():
    """The MCTS player searches the whole board; the lines and the move keep to `allow`."""
    engine = GtpEngine(build_player("mcts", 9, seed=3), limits=SearchLimits(visits=800),
                       rules=Rules(size=9), log=None)
    response = run(engine, "play b e5", "lz-genmove_analyze w 1 allow w c3,g7 1")[1]
    head, *infos, played = response.split("\n")
    assert head == "=" and infos and played in ("play C3", "play G7")
    for line in infos:
        moves = [w for i, w in enumerate(line.split(" ")) if i and line.split(" ")[i - 1] == "move"]
        assert moves and set(moves) <= {"C3", "G7"}
    assert engine.position.board[V(played.split()[1])] == 2


# ---- handicap and resignation ------------------------------------------------------------------

class Resigner(Scripted):
    """Resigns with a fixed win rate; D4 its best candidate."""

    def __init__(self, winrate):
        super().__init__(candidates=[MoveInfo(V("D4"), 9, winrate, 0.2, 0.0)])
        self.winrate = winrate

    def genmove(self, position, limits):
        return Decision(RESIGN, self.winrate, self.candidates)


def test_handicap_resign_threshold():
    assert game.handicap_resign_threshold(0.1, 0, 3, 81) == 0.1
    assert game.handicap_resign_threshold(0.1, 9, 20, 81) == 0.0  # first quarter: never
    mid = game.handicap_resign_threshold(0.1, 9, 30, 81)
    assert mid == pytest.approx(30 / 48.6 * 0.1 + (1 - 30 / 48.6) * 0.01)
    assert game.handicap_resign_threshold(0.1, 9, 49, 81) == pytest.approx(0.1)


def test_white_with_a_handicap_does_not_resign_early():
    engine = make(Resigner(0.0))
    ask(engine, "fixed_handicap 9")
    assert game.handicap_stones(engine.position) == 9
    assert ask(engine, "genmove w") == "D4"  # its best candidate instead
    assert ask(engine, "genmove w") == "resign"  # white to move again: D4 is taken, no move
    engine = make(Resigner(0.05))
    ask(engine, "set_free_handicap c3 g7 e5 c7 g3")
    assert game.handicap_stones(engine.position) == 5
    assert ask(engine, "genmove w") == "D4"
    engine.handle_line("undo")
    white = [f"{column}{row}" for row in (1, 2) for column in "ABCDEFGHJ"] + ["A9", "B9", "C9"]
    for vertex in white:  # 21 moves each: past a quarter of 81 moves
        ask(engine, f"play w {vertex}")
        ask(engine, "play b pass")
    assert engine.position.move_number == 42
    # the bar at move 42 of 81: 42/48.6 of 0.1 plus the rest of 0.1/6, above 0.05
    assert ask(engine, "genmove w") == "resign"
    even = make(Resigner(0.3))
    ask(even, "play b e5")
    assert ask(even, "genmove w") == "resign"  # no handicap: the player's own call


def test_nine_stones_on_nine_by_nine_no_first_move_resignation():
    """The issue's case: the default player (alphago, shipped 9x9 nets) rates White's first
    move in a 9-stone 9x9 game lost and resigns; through the engine it plays on."""
    player = build_player("alphago", 9, seed=1, config=search_config("alphago"), log=None)
    start = Position.new(Rules(size=9), handicap=fixed_handicap(9, 9))
    assert player.genmove(start, SearchLimits(visits=300)).move == RESIGN  # the premise
    engine = GtpEngine(player, limits=SearchLimits(visits=300), rules=Rules(size=9), log=None)
    ask(engine, "fixed_handicap 9")
    move = ask(engine, "genmove w")
    assert move not in ("resign", "pass") and engine.position.board[V(move)] == 2
