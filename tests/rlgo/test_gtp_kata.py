"""kata-analyze, scoreLead and ownership over GTP (issue 20), quoted from the clients' docs:

- KataGo's docs/GTP_Extensions.md: `kata-analyze [player (optional)] [interval (optional)]
  KEYVALUEPAIR ...`, "Same as lz-analyze except a slightly different output format";
  `ownership true` - "Output the predicted final ownership of every point on the board";
  lines like `info move E4 visits 487 utility -0.0408357 winrate 0.480018 scoreMean -0.611848
  ... scoreLead -0.611848 ... prior 0.221121 lcb 0.477221 ... order 0 pv E4 E3 ...`; after
  `ownership`, "BoardHeight*BoardWidth many consecutive floats in [-1,1] ... from the
  perspective of the current player ... in row-major order, starting at the top-left of the
  board (e.g. A19) and going to the bottom right (e.g. T1)".
- Sabaki's docs/guides/engine-analysis-integration.md: `analyze` lines may carry `scoreLead`.
- GoGui's doc/manual/xml/analyze.xml: a `gfx` response line `INFLUENCE` has "point double
  pairs", shown black for positive and white for negative values.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.alphago.nets.networks import NetSpec, build_network, save_network
from agents.alphago.search.mcts import MCTSConfig
from agents.alphago.search.mcts_player import MCTSPlayer
from agents.alphago.search.player import MoveInfo, RandomPlayer, SearchLimits
from envs.go import BLACK, WHITE, Position, Rules, from_gtp, to_gtp
from rlgo.gtp import kata
from rlgo.gtp.engine import GtpEngine
from rlgo.players import build_player
from tests.agents.test_ownership import FixedInBlacksView
from tests.rlgo.test_gtp_analysis import run
from tests.rlgo.test_gtp_engine import Scripted, ask, fails, make

SIZE = 5
OWN = np.linspace(-1, 1, SIZE * SIZE).astype(np.float32)  # Black's view; A5 first, E1 last


def _fixed_engine(score: float = 3.0) -> GtpEngine:
    """A real MCTS player over an evaluator whose ownership and score are fixed in Black's
    view, so every number the engine prints is known exactly."""
    player = MCTSPlayer(FixedInBlacksView(OWN, score), MCTSConfig(batch_size=4))
    # compiled tree code loads on the first search: not inside a streamed test's time
    player.genmove(Position.new(Rules(size=SIZE)), SearchLimits(visits=8))
    player.clear()
    return GtpEngine(player, rules=Rules(size=SIZE), limits=SearchLimits(visits=16), log=None)


def _fields(line: str, key: str, count: int) -> list[float]:
    words = line.split(" ")
    start = words.index(key) + 1
    return [float(w) for w in words[start:start + count]]


def test_kata_argument_grammar():
    parsed = kata.parse_args(("w", "50", "ownership", "true", "ownershipStdev", "FALSE",
                              "maxmoves", "3", "avoid", "w", "c3", "1"), BLACK, 9)
    assert (parsed.base.color, parsed.base.interval) == (WHITE, 0.5)
    assert (parsed.ownership, parsed.stdev, parsed.maxmoves) == (True, False, 3)
    assert parsed.base.restriction.clauses == ((WHITE, frozenset({from_gtp("C3", 9)}), 1),)
    plain = kata.parse_args(("10",), BLACK, 9)
    assert (plain.ownership, plain.stdev, plain.maxmoves) == (False, False, None)


@pytest.mark.parametrize("args, error", [
    ("10 ownership", "ownership needs a value"),
    ("10 ownership yes", "ownership must be true or false"),
    ("ownershipStdev 1", "ownershipStdev must be true or false"),
    ("maxmoves -1", "maxmoves out of range (0 to 360000)"),
    ("b rootInfo true", "unsupported analyze argument 'rootinfo'"),
])
def test_bad_kata_arguments_are_named(args, error):
    assert fails(make(Scripted()), f"kata-analyze {args}") == error


def test_kata_line_format_and_ownership_order_and_view():
    info = MoveInfo(from_gtp("C3", SIZE), 40, 0.625, 0.25, 0.5,
                    (from_gtp("C3", SIZE), from_gtp("D4", SIZE)), score_lead=2.5)
    plain = MoveInfo(from_gtp("B2", SIZE), 2, 0.4, 0.1, 0.0)
    spread = np.full(SIZE * SIZE, 0.5, np.float32)
    black = kata.kata_line([info, plain], SIZE, BLACK, (OWN, spread), ownership=True)
    assert black.startswith(
        "info move C3 visits 40 winrate 0.6250 scoreMean 2.50 scoreLead 2.50 prior 0.2500 "
        "lcb 0.5000 order 0 pv C3 D4 info move B2 visits 2 winrate 0.4000 prior 0.1000 "
        "lcb 0.0000 order 1 pv B2 ownership -1.0000 ")
    assert to_gtp(0, SIZE) == "A5" and to_gtp(SIZE * SIZE - 1, SIZE) == "E1"  # row-major
    np.testing.assert_allclose(_fields(black, "ownership", 25), OWN, atol=1e-4)
    white = kata.kata_line([info], SIZE, WHITE, (OWN, spread), ownership=True, stdev=True)
    np.testing.assert_allclose(_fields(white, "ownership", 25), -OWN, atol=1e-4)
    assert _fields(white, "ownershipStdev", 25) == [0.5] * 25
    assert "ownership" not in kata.kata_line([info], SIZE, BLACK, (OWN, spread))
    assert kata.kata_line([], SIZE, BLACK, (OWN, spread), ownership=True) == ""


@pytest.mark.parametrize("colour, sign", [("b", 1.0), ("w", -1.0)])
def test_kata_analyze_streams_the_searchs_ownership_for_the_side_analysed(colour, sign):
    engine = _fixed_engine(score=3.0)
    response = run(engine, f"7 kata-analyze {colour} 5 ownership true ownershipStdev true "
                   "maxmoves 2", "name", pause=0.4)[0]
    head, *lines = response.split("\n")
    assert head == "=7" and lines
    for line in lines:
        assert line.startswith("info move ") and line.count("info move") <= 2
        assert _fields(line, "scoreLead", 1) == [sign * 3.0]
        assert _fields(line, "scoreMean", 1) == [sign * 3.0]
        np.testing.assert_allclose(_fields(line, "ownership", 25), sign * OWN, atol=1e-4)
        assert _fields(line, "ownershipStdev", 25) == pytest.approx([0.0] * 25, abs=1e-4)
        assert len(line.split(" ownershipStdev ")[1].split(" ")) == 25


def test_sabaki_analyze_lines_carry_score_lead_and_leela_zeros_do_not():
    engine = _fixed_engine(score=-1.5)
    sabaki, leela = run(engine, "analyze w 5", "lz-analyze w 5", "name", pause=0.4)[:2]
    assert " scoreLead 1.50 prior " in sabaki.split("\n")[1]  # White's view of Black's -1.5
    assert "scoreLead" not in leela and leela.split("\n")[1].startswith("info move ")


def test_kata_analyze_with_a_random_play_net_zero_player(tmp_path):
    """The zero player over a small untrained play net: its ownership head and score head
    reach kata-analyze's line (25 floats in [-1, 1], a scoreLead per candidate)."""
    torch.manual_seed(0)
    net = build_network(NetSpec(kind="play", size=SIZE, planes="simple", layers=1, filters=8,
                                hidden=16))
    path = save_network(tmp_path / "play.pt", net)
    player = build_player("zero", SIZE, weights=str(path), mix=0.0, threads=1, log=None)
    engine = GtpEngine(player, rules=Rules(size=SIZE), log=None)
    response = run(engine, "play b c3", "kata-analyze 5 ownership true", "name", pause=0.4)[1]
    lines = response.split("\n")[1:]
    assert lines
    for line in lines:
        owned = _fields(line, "ownership", 25)
        assert len(owned) == 25 and all(-1 <= v <= 1 for v in owned)
        assert line.count("scoreLead") == line.count("info move")


def test_gogui_ownership_command_shows_influence_in_blacks_view():
    engine = _fixed_engine(score=2.0)
    assert "gfx/Ownership/rlgo-ownership %c" in ask(engine, "gogui-analyze_commands").split("\n")
    for colour in ("b", "w"):
        influence, text = ask(engine, f"rlgo-ownership {colour}").split("\n")
        words = influence.split(" ")
        assert words[0] == "INFLUENCE" and len(words) == 1 + 2 * SIZE * SIZE
        assert words[1:5] == ["A5", "-1.00", "B5", f"{OWN[1]:.2f}"]
        np.testing.assert_allclose([float(w) for w in words[2::2]], OWN, atol=0.01)
        leader = "black" if colour == "b" else "white"
        lead = 2.0 if colour == "b" else -2.0
        assert text.startswith("TEXT ownership of 16 simulations; after ")
        assert text.endswith(f"{leader} leads by {lead:.1f}")


def test_gogui_ownership_without_a_search_uses_random_playouts():
    """Black everywhere but two eyes (A5, C5): every playout leaves the board Black's."""
    engine = make(RandomPlayer(seed=2), size=SIZE)
    wall = [to_gtp(p, SIZE) for p in range(SIZE * SIZE) if to_gtp(p, SIZE) not in ("A5", "C5")]
    ask(engine, "set_free_handicap " + " ".join(wall))
    for colour in ("b", "w"):
        influence, text = ask(engine, f"rlgo-ownership {colour}").split("\n")
        assert influence == "INFLUENCE " + " ".join(
            f"{to_gtp(p, SIZE)} 1.00" for p in range(SIZE * SIZE))
        assert text == "TEXT ownership of 200 random playouts"
