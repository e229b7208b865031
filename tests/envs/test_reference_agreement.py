"""The compiled Position against the plain-Python ReferenceBoard, move by move.

Seeded random games (and hypothesis-drawn move sequences on tiny boards) go through both
implementations under every combination of ko rule and suicide rule. After every move the
boards, the player to move, the ko point, the prisoners and the legal-move masks must agree;
a sample of illegal moves (including moves by the colour not to play) must be refused by both
for the same reason; at the end the areas, scores and results must agree.

A failure names the seed and the moves played, so it replays exactly.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.go.coords import PASS, RESIGN, from_gtp, to_gtp
from envs.go.errors import IllegalMove
from envs.go.position import Position
from envs.go.reference import ReferenceBoard
from envs.go.rules import BLACK, EMPTY, WHITE, Rules, fixed_handicap, max_fixed_handicap, opponent

from . import test_position_rules as rules_fixtures

KO_RULES = ("positional", "simple")
KOMIS = (7.5, 0.0, 6.0, -2.5)


def rules_for(size: int, seed: int) -> Rules:
    """Cycle through both ko rules, both suicide rules and a few komis with the seed."""
    return Rules(size=size, komi=KOMIS[seed // 4 % 4], ko=KO_RULES[seed % 2],
                 suicide=bool(seed // 2 % 2))


def fast_reason(pos: Position, move, color: int | None = None) -> str | None:
    """None if Position accepts the move, else its IllegalMove reason."""
    try:
        pos.play(move, color)
    except IllegalMove as err:
        return err.reason
    return None


def assert_same_state(pos: Position, ref: ReferenceBoard, where: str) -> None:
    assert pos.board.tolist() == ref.board, where
    assert pos.to_play == ref.to_play, where
    assert pos.ko == ref.ko, where
    assert pos.prisoners == ref.prisoners, where
    assert pos.passes == ref.passes, where
    assert pos.winner == ref.winner, where
    assert pos.is_game_over() == ref.is_game_over(), where


def captures(ref: ReferenceBoard, p: int) -> bool:
    """Whether the player to move would capture something by playing at p."""
    opp = opponent(ref.to_play)
    return any(ref.board[q] == opp and len(ref.group(ref.board, q)[1]) == 1
               for q in ref.neighbours(p))


def play_random_game(rules: Rules, seed: int, max_moves: int, handicap: int = 0) -> Counter:
    """Play one seeded random game through both implementations, comparing them throughout.

    Returns what the game met: the reasons of the illegal moves tried, and "ko point",
    "override", "resumed" and "resigned" events."""
    rng = np.random.default_rng(seed)
    size, n = rules.size, rules.size ** 2
    stones = fixed_handicap(size, handicap) if handicap else []
    pos = Position.new(rules, handicap=stones)
    ref = ReferenceBoard(rules, black=stones, to_play=WHITE if stones else BLACK)
    history: list[str] = []
    events: Counter = Counter()

    def where() -> str:
        return f"{rules}, seed {seed}, handicap {handicap}, after {' '.join(history)}"

    assert_same_state(pos, ref, where())
    for _ in range(max_moves):
        legal = ref.legal_moves()
        assert pos.legal_moves().tolist() == legal, where()
        assert pos.is_legal(PASS) and legal[PASS]

        # The illegal empty points (suicide, ko, superko), one occupied point, and now and then
        # a value off the board: both must refuse them for the same reason.
        empty = [p for p in range(n) if not legal[p] and ref.board[p] == EMPTY]
        occupied = [p for p in range(n) if ref.board[p] != EMPTY]
        sample = rng.permutation(empty)[:6].tolist() + rng.permutation(occupied)[:1].tolist()
        for p in sample:
            reason = ref.illegal_reason(p)
            assert reason is not None, where()
            assert fast_reason(pos, p) == reason, f"{to_gtp(p, size)}: {where()}"
            assert pos.illegal_reason(p) == reason, where()
            events[reason] += 1
        if rng.random() < 0.1:
            bad = int(rng.choice([-3, -7, n, n + 5, 10**6]))
            assert ref.illegal_reason(bad) == "off board"
            assert fast_reason(pos, bad) == "off board", where()
            events["off board"] += 1
        events["ko point"] += pos.ko >= 0

        # Now and then the colour not to play moves (GTP 'play' allows it).
        if rng.random() < 0.04:
            p, color = int(rng.integers(n)), opponent(pos.to_play)
            reason = ref.illegal_reason(p, color)
            assert fast_reason(pos, p, color) == reason, where()
            if reason is None:
                pos, ref = pos.play(p, color), ref.play(p, color)
                history.append(f"{'BW'[color - 1]}:{to_gtp(p, size)}")
                assert_same_state(pos, ref, where())
                events["override"] += 1
                continue

        points = [p for p in range(n) if legal[p]]
        if not points or rng.random() < (0.3 if pos.passes else 0.015):
            move = PASS
        else:
            if size <= 7 and rng.random() < 0.5:  # seek captures: more kos and superko cycles
                points = [p for p in points if captures(ref, p)] or points
            move = int(rng.choice(points))
        pos, ref = pos.play(move), ref.play(move)
        history.append(to_gtp(move, size))
        assert_same_state(pos, ref, where())
        if pos.is_game_over():
            if rng.random() < 0.6:
                break
            events["resumed"] += 1  # play may go on after two passes

    assert pos.ownership().tolist() == ref.ownership(), where()
    assert pos.area() == (ref.ownership().count(BLACK), ref.ownership().count(WHITE))
    assert pos.score() == ref.score(), where()
    assert pos.result() == ref.result(), where()

    if rng.random() < 0.3:
        color = int(rng.choice([BLACK, WHITE]))
        pos, ref = pos.play(RESIGN, color), ref.play(RESIGN, color)
        assert_same_state(pos, ref, where())
        assert pos.result() == ref.result() == ("W+R" if color == BLACK else "B+R")
        assert pos.legal_moves().tolist() == ref.legal_moves() == [False] * (n + 1)
        for move in (PASS, 0, RESIGN):
            assert fast_reason(pos, move) == "game over"
            assert ref.illegal_reason(move) == "game over"
        events["resigned"] += 1
    return events


# (size, seeds, max_moves): small boards do most of the work, since kos and superko cycles are
# common there; handicap games come in on 9x9 and 19x19.
GAMES = [(5, range(80), 200), (7, range(40), 250), (9, range(60), 250), (19, range(10), 250)]


@pytest.mark.parametrize("size,seed,max_moves",
                         [(s, seed, m) for s, seeds, m in GAMES for seed in seeds],
                         ids=lambda v: str(v))
def test_random_games_agree(size, seed, max_moves):
    top = max_fixed_handicap(size)
    handicap = 2 + seed % (top - 1) if top and seed % 5 == 4 else 0
    play_random_game(rules_for(size, seed), seed, max_moves, handicap)


def test_random_games_reach_the_interesting_rules():
    """The generator above does meet every refusal reason and the rarer events."""
    events: Counter = Counter()
    for seed in range(12):
        events += play_random_game(rules_for(5, seed), seed, 200)
    wanted = {"occupied", "suicide", "ko", "superko", "off board", "ko point", "override",
              "resumed", "resigned"}
    assert wanted <= set(events), events


# Mostly points (16..19 are off a 4x4 board), sometimes pass, resign (-2) or -3 (off board).
MOVE = st.integers(-3, 60).map(lambda m: m % 20 if m >= 20 else m)
COLOR = st.sampled_from([None, None, None, BLACK, WHITE])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(size=st.sampled_from([2, 3, 4]), ko=st.sampled_from(KO_RULES), suicide=st.booleans(),
       moves=st.lists(st.tuples(MOVE, COLOR), max_size=80))
def test_move_sequences_agree(size, ko, suicide, moves):
    """Any sequence of moves (points, passes, resignations, nonsense, either colour) on a tiny
    board: both implementations accept or refuse each for the same reason, and agree after."""
    rules = Rules(size=size, komi=0.5, ko=ko, suicide=suicide)
    pos, ref = Position.new(rules), ReferenceBoard(rules)
    for move, color in moves:
        reason = ref.illegal_reason(move, color)
        assert fast_reason(pos, move, color) == reason
        if reason is None:
            pos, ref = pos.play(move, color), ref.play(move, color)
            assert_same_state(pos, ref, str(moves))
            assert pos.legal_moves().tolist() == ref.legal_moves()
    assert pos.result() == ref.result()


def reference_from(pos: Position) -> ReferenceBoard:
    """A ReferenceBoard set up like the root position `pos`."""
    board = pos.board.tolist()
    return ReferenceBoard(pos.rules, black=[p for p, c in enumerate(board) if c == BLACK],
                          white=[p for p, c in enumerate(board) if c == WHITE],
                          to_play=pos.to_play)


# The hand-checked fixtures of test_position_rules, through both implementations:
# (diagram, rule arguments, moves, reason the last move is refused or None, prisoners after).
SCENARIOS = [
    (rules_fixtures.TRIPLE_KO, {"ko": "positional"}, "C8 G8 C4 B8 H8 B4", "superko", (3, 2)),
    (rules_fixtures.TRIPLE_KO, {"ko": "simple"}, "C8 G8 C4 B8 H8 B4", None, (3, 3)),
    (rules_fixtures.KO, {"ko": "positional"}, "C3 B3", "ko", (1, 0)),
    (rules_fixtures.KO, {"ko": "positional"}, "C3 pass pass B3", "superko", (1, 0)),
    (rules_fixtures.KO, {"ko": "simple"}, "C3 pass pass B3", None, (1, 1)),
    (rules_fixtures.KO, {}, "C3 E5 E1 B3", None, (1, 1)),
    (rules_fixtures.MULTI_SUICIDE, {}, "A1", "suicide", (0, 0)),
    (rules_fixtures.MULTI_SUICIDE, {"suicide": True}, "A1", None, (0, 3)),
    (rules_fixtures.SINGLE_SUICIDE, {"suicide": True}, "A5", "superko", (0, 0)),
    (rules_fixtures.SINGLE_SUICIDE, {"suicide": True, "ko": "simple"}, "A5", None, (0, 1)),
    (rules_fixtures.SEKI, {"komi": 0.5}, "A7 B6", None, (0, 5)),
    (rules_fixtures.LONG_SUICIDE, {"suicide": True},
     " ".join(rules_fixtures.LONG_SUICIDE_MOVES), "superko", (0, 0)),
    (rules_fixtures.LONG_SUICIDE, {"suicide": True, "ko": "simple"},
     " ".join(rules_fixtures.LONG_SUICIDE_MOVES), None, (0, 38)),
]


@pytest.mark.parametrize("diagram,rule_args,moves,last_reason,prisoners", SCENARIOS)
def test_reference_on_fixtures(diagram, rule_args, moves, last_reason, prisoners):
    pos = Position.from_ascii(diagram, **rule_args)
    ref = reference_from(pos)
    assert ref.score() == pos.score()
    *before, last = [from_gtp(v, pos.size) for v in moves.split()]
    for move in before:
        pos, ref = pos.play(move), ref.play(move)
        assert_same_state(pos, ref, moves)
        assert pos.legal_moves().tolist() == ref.legal_moves()
    assert ref.illegal_reason(last) == fast_reason(pos, last) == last_reason
    if last_reason is None:
        pos, ref = pos.play(last), ref.play(last)
        assert_same_state(pos, ref, moves)
    assert ref.prisoners == prisoners


def test_reference_scores_the_seki():
    ref = reference_from(Position.from_ascii(rules_fixtures.SEKI, komi=0.5))
    owner = ref.ownership()
    assert owner.count(BLACK) == 12 and owner.count(WHITE) == 35
    assert ref.result() == "W+23.5"


def test_reference_is_independent_of_the_compiled_path():
    """The oracle must not share code with what it checks: no kernels, no Position, no numpy."""
    import ast
    import inspect

    from envs.go import reference

    tree = ast.parse(inspect.getsource(reference))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert imported <= {"__future__", "numbers", "coords", "errors", "rules"}, imported
