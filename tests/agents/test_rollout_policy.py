"""The fast rollout policy: features on hand-built boards, candidates, sampling, weight files."""

from __future__ import annotations

import numpy as np
import pytest

from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.playouts import linear
from envs.go import BLACK, PASS, WHITE, Position, Rules, from_gtp, kernels
from envs.go import playout as P


def _features(position: Position) -> dict[int, tuple[int, int, int]]:
    return {p: (code, ring, flags) for p, code, ring, flags in linear.candidates(position)}


def _random_position(seed: int, moves: int, size: int = 9) -> Position:
    rng = np.random.default_rng(seed)
    pos = Position.new(Rules(size=size))
    for _ in range(moves):
        legal = np.flatnonzero(pos.legal_moves()[:-1])
        if len(legal) == 0:
            break
        pos = pos.play(int(rng.choice(legal)))
    return pos


def test_response_rings_around_the_last_move() -> None:
    pos = Position.new(Rules(size=9)).play(from_gtp("E5", 9))  # White to answer E5
    feats = _features(pos)
    ring = {v: feats[from_gtp(v, 9)][1] for v in ("E6", "D5", "D6", "F4", "E7", "C5", "E8",
                                                   "D7", "A1")}
    assert ring == {"E6": 1, "D5": 1, "D6": 2, "F4": 2, "E7": 3, "C5": 3, "E8": 0, "D7": 0,
                    "A1": 0}


def test_save_atari_flag_and_atari_bits() -> None:
    # Black's C5 stone is in atari (liberty D5 only); D5 saves it with three liberties.
    pos = Position.from_ascii("""
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . O . . . . . .
        . O X . . . . . .
        . . O . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .""", to_play=WHITE).play(from_gtp("J1", 9))
    code, ring, flags = _features(pos)[from_gtp("D5", 9)]
    assert flags == linear.SAVE and ring == 0
    assert code & (1 << 17)  # cell 3 (left of D5: C5) holds a stone in atari ...
    assert (code >> 6) & 3 == 1  # ... and it is ours
    # for White, D5 captures C5: the same atari bit on an opponent stone, no flag
    code, _, flags = _features(pos.play(PASS))[from_gtp("D5", 9)]
    assert code & (1 << 17) and (code >> 6) & 3 == 2 and flags == 0


def test_self_atari_flags() -> None:
    pos = Position.from_ascii("""
        O X X . .
        . O . O .
        . . O . .
        . . . . .
        O . . . .""", to_play=BLACK)
    feats = _features(pos)
    assert feats[from_gtp("C4", 5)][2] == linear.SELF_ATARI_GROUP  # B5-C5-C4 keep only D5
    assert feats[from_gtp("A2", 5)][2] == 0
    lone = Position.from_ascii("""
        . . . . .
        . . . . .
        . . . . .
        O . . . .
        . . . . .""", to_play=BLACK)
    assert _features(lone)[from_gtp("A1", 5)][2] == linear.SELF_ATARI_ONE  # only B1 is left


def test_pattern_codes_are_tied_over_the_eight_symmetries() -> None:
    pos = _random_position(3, 30)
    size = 9
    canon = linear.canonical_codes()
    grid = pos.board.reshape(size, size)
    base = {p: canon[c] for p, c, _, _ in linear.candidates(pos)}
    for k in range(8):
        image = np.rot90(grid, k % 4)
        image = np.fliplr(image) if k >= 4 else image
        moved = Position.new(Rules(size=size)).with_stones(
            np.flatnonzero(image.ravel() == BLACK).tolist(),
            np.flatnonzero(image.ravel() == WHITE).tolist(), to_play=pos.to_play)
        mapping = np.rot90(np.arange(size * size).reshape(size, size), k % 4)
        mapping = np.fliplr(mapping) if k >= 4 else mapping
        image_codes = {int(mapping.ravel()[q]): canon[c] for q, c, _, _ in linear.candidates(moved)}
        assert image_codes == base


def test_candidates_are_the_legal_moves_that_fill_no_own_eye() -> None:
    size = 9
    nbr, diag = kernels.neighbour_table(size), kernels.diagonal_table(size)
    for seed in range(12):
        pos = _random_position(seed, 20 + 6 * seed)
        legal = pos.legal_moves()[:-1]
        expected = {p for p in range(size * size)
                    if legal[p] and not P.is_eye(pos.board, nbr, diag, p, pos.to_play)}
        assert {p for p, *_ in linear.candidates(pos)} == expected


def _one_move(policy: linear.RolloutPolicy, position: Position, rng: np.ndarray) -> int:
    size = position.rules.size
    n = size * size
    nbr, diag = kernels.neighbour_table(size), kernels.diagonal_table(size)
    board, head, link, libs, gsize, empty, where, _, _ = P.work_arrays(n)
    n_empty = P.setup_board(position.board, nbr, board, head, link, libs, gsize, empty, where)
    moves = np.empty(1, np.int32)
    last = position.last_move if position.last_move is not None else -1
    linear.linear_playout(board, nbr, diag, kernels.neighbour8_table(size), head, link, libs,
                          gsize, empty, where, n_empty, position.to_play, position.ko, last, rng,
                          1, moves, policy.pattern_gamma, policy.response_gamma,
                          policy.flag_gamma)
    return int(moves[0])


def test_selection_follows_the_weights() -> None:
    pos = Position.new(Rules(size=5)).play(from_gtp("C3", 5))
    policy = linear.RolloutPolicy({}, {}, np.array([2.0, 1.0, 0.0]), np.zeros(3), -5.0)
    probs = policy.probabilities(pos)
    probs = probs[:-1] / probs[:-1].sum()  # playouts never pass while they can play
    rng = P.make_rng(11)
    draws = 6000
    counts = np.bincount([_one_move(policy, pos, rng) for _ in range(draws)], minlength=25)
    assert counts[from_gtp("C3", 5)] == 0
    expected = probs * draws
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected) + 5)
    # the orthogonal ring is e^2 times as likely as an unrelated point
    assert probs[from_gtp("C4", 5)] / probs[from_gtp("A1", 5)] == pytest.approx(np.e ** 2)


def test_playouts_play_only_legal_moves() -> None:
    policy = linear.RolloutPolicy({}, {}, np.array([1.0, 0.5, 0.2]),
                                  np.array([2.0, -2.0, -3.0]), 0.0)
    rng = P.make_rng(5)
    for seed in range(6):
        pos = _random_position(seed, 10)
        _, moves = linear.playout(policy, pos, rng)
        for move in moves:
            move = PASS if move < 0 else int(move)
            assert pos.is_legal(move)
            pos = pos.play(move)


def test_weight_file_round_trip_and_errors(tmp_path) -> None:
    canon = linear.canonical_codes()
    key = int(canon[12345])
    policy = linear.RolloutPolicy({key: 1.5},
                                  {2 * linear.COLOUR_CODES + int(canon[77]): -0.5},
                                  np.array([0.1, 0.2, 0.3]), np.array([1.0, -1.0, -2.0]), -3.0,
                                  {"val_top1": 0.3})
    path = policy.save(tmp_path / "rollout.npz")
    again = linear.RolloutPolicy.load(path)
    assert again.pattern == policy.pattern and again.meta == {"val_top1": 0.3}
    np.testing.assert_allclose(again.pattern_gamma, policy.pattern_gamma, rtol=1e-6)
    np.testing.assert_allclose(again.response_gamma, policy.response_gamma, rtol=1e-6)
    assert again.pattern_gamma[12345] == pytest.approx(np.exp(1.5))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(linear.RolloutWeightsError, match="not a readable"):
        linear.RolloutPolicy.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(linear.RolloutWeightsError, match="not an rlgo rollout"):
        linear.RolloutPolicy.load(tmp_path / "other.npz")
    with pytest.raises(linear.RolloutWeightsError, match="no such"):
        linear.RolloutPolicy.load(tmp_path / "missing.npz")


def test_rollout_evaluator_plays_the_linear_policy() -> None:
    evaluator = RolloutEvaluator(seed=1, priors=False, threads=1,
                                 linear_policy=linear.RolloutPolicy.zeros())
    positions = [_random_position(s, 8) for s in range(4)]
    result = evaluator.evaluate(positions)
    assert set(np.unique(result.values)) <= {-1.0, 0.0, 1.0}
    for pos, tail in zip(positions, result.tails, strict=True):
        for move in tail[:20]:
            move = PASS if move < 0 else int(move)
            assert pos.is_legal(move)
            pos = pos.play(move)
