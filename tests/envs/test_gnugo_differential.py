"""The rules oracle: seeded random games played through our Position and GNU Go side by side.

After every move the two must agree on the stones on the board, on the capture counts, and on
the legality of a sample of points: every empty point we call illegal (ko, suicide: where rule
bugs live), a few random empty points, and all points every tenth move. Now and then we also
try a move we call illegal and GNU Go must refuse it too.

The oracle proper is GNU Go's default rules, simple ko and no suicide, which is
Rules(ko="simple", suicide=False), on 9x9 and 19x19; smaller runs add positional superko and
suicide. One engine per configuration serves every game (`clear_board` between games), and
each move's queries travel as one pipelined batch, which keeps the run to seconds.
"""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from envs.go.coords import PASS, from_gtp, to_gtp
from envs.go.errors import IllegalMove
from envs.go.gtp_client import GtpClient, GtpError
from envs.go.position import Position
from envs.go.rules import BLACK, WHITE, Rules

pytestmark = pytest.mark.gnugo

# GNU Go's flags for our rules. --chinese-rules (area scoring) changes nothing compared here,
# but is the closest match to our Tromp-Taylor scoring should a test compare scores later.
BASE_FLAGS = ["--mode", "gtp", "--chinese-rules", "--level", "0"]
KO_FLAGS = {"simple": "--simple-ko", "positional": "--positional-superko"}
SUICIDE_FLAGS = {False: "--forbid-suicide", True: "--allow-all-suicide"}
KOMI = 7.5

# (board size, games, moves after which a game is cut off, ko rule, suicide). The first two
# are the oracle proper, GNU Go's default rules; the small boards add superko and suicide.
# Not positional superko *with* suicide: GNU Go checks superko only for moves that capture, so
# it allows a lone stone's suicide, which recreates the board and which we forbid.
CONFIGS = [(9, 160, 250, "simple", False), (19, 40, 200, "simple", False),
           (7, 40, 200, "positional", False), (7, 30, 200, "simple", True)]

_GTP_COLOR = {BLACK: "b", WHITE: "w"}


@pytest.fixture(scope="module")
def engines(gnugo_path):
    """One GNU Go per (size, ko, suicide), created on first use and shared by every game."""
    clients: dict[tuple, GtpClient] = {}

    def get(size: int, ko: str = "simple", suicide: bool = False) -> GtpClient:
        key = (size, ko, suicide)
        if key not in clients:
            flags = [*BASE_FLAGS, KO_FLAGS[ko], SUICIDE_FLAGS[suicide]]
            client = GtpClient([gnugo_path, *flags], timeout=30.0)
            client.send_many([f"boardsize {size}", f"komi {KOMI}"])
            clients[key] = client
        return clients[key]

    yield get
    for client in clients.values():
        client.close()


def _stones(text: str, size: int) -> set[int]:
    return {from_gtp(v, size) for v in text.split()}


def _own_eye(pos: Position, p: int, color: int) -> bool:
    """A single empty point all of whose neighbours are `color`: filling it is pointless."""
    size = pos.size
    row, col = divmod(p, size)
    for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
        if 0 <= r < size and 0 <= c < size and pos.board[r * size + c] != color:
            return False
    return True


class _Game:
    """One random game on both sides, with what a failure message needs."""

    def __init__(self, gtp: GtpClient, rules: Rules, seed: int, stats: Counter):
        self.gtp, self.size, self.seed, self.stats = gtp, rules.size, seed, stats
        self.rng = random.Random(seed)
        self.pos = Position.new(rules)
        # Most games avoid filling their own eyes, so they reach crowded endgames full of kos
        # and suicide points; the rest play uniformly, which means many large captures.
        self.spare_eyes = self.rng.random() < 0.8
        gtp.send("clear_board")

    def fail(self, what: str) -> None:
        try:
            board = self.gtp.send("showboard")
        except GtpError as err:
            board = f"(showboard failed: {err})"
        moves = " ".join(f"{_GTP_COLOR[c]}:{to_gtp(m, self.size)}" for c, m in self.pos.moves())
        pytest.fail(f"GNU Go disagrees on {self.size}x{self.size} ({self.pos.rules}), seed "
                    f"{self.seed}, move {self.pos.move_number}: {what}\nmoves: {moves}\n\n"
                    f"ours:\n{self.pos}\n\nGNU Go:\n{board}", pytrace=False)

    def choose(self) -> int:
        legal = np.flatnonzero(self.pos.legal_moves()[:-1])
        color = self.pos.to_play
        if self.spare_eyes:
            legal = [p for p in legal if not _own_eye(self.pos, int(p), color)]
        if len(legal) == 0 or self.rng.random() < 0.02:
            return PASS
        return int(self.rng.choice(legal))

    def try_illegal(self) -> None:
        """Play a point we call illegal; GNU Go's is_legal and play must refuse it too."""
        n = self.size * self.size
        illegal = np.flatnonzero(~self.pos.legal_moves()[:n])
        interesting = illegal[self.pos.board[illegal] == 0]  # ko, superko, suicide
        if len(interesting) and self.rng.random() < 0.7:
            illegal = interesting
        if len(illegal) == 0:
            return
        p = int(self.rng.choice(illegal))
        vertex, color = to_gtp(p, self.size), _GTP_COLOR[self.pos.to_play]
        with pytest.raises(IllegalMove):
            self.pos.play(p)
        if self.gtp.send(f"is_legal {color} {vertex}") != "0":
            self.fail(f"GNU Go says {color} {vertex} is legal; we say "
                      f"{self.pos.illegal_reason(p)}")
        try:
            self.gtp.send(f"play {color} {vertex}")
        except GtpError:
            self.stats["illegal plays refused"] += 1
        else:
            self.fail(f"GNU Go accepted {color} {vertex}; we say {self.pos.illegal_reason(p)}")

    def step(self) -> None:
        pos, size = self.pos, self.size
        move, color = self.choose(), pos.to_play
        before = pos.prisoners
        self.pos = pos = pos.play(move)
        if pos.prisoners[color - 1] > before[color - 1]:
            self.stats["captures"] += 1
        if pos.prisoners[2 - color] > before[2 - color]:
            self.stats["suicides"] += 1
        n = size * size
        legal = pos.legal_moves()[:n]
        empty = np.flatnonzero(pos.board == 0)
        if pos.move_number % 10 == 0:
            sample = list(range(n))
        else:
            sample = [int(p) for p in empty if not legal[p]]  # ko, superko, suicide
            self.stats["empty points we call illegal"] += len(sample)
            k = min(5, len(empty))
            sample += [int(p) for p in self.rng.sample(list(empty), k)]
        to_play = _GTP_COLOR[pos.to_play]
        batch = [f"play {_GTP_COLOR[color]} {to_gtp(move, size)}", "list_stones black",
                 "list_stones white", "captures black", "captures white"]
        batch += [f"is_legal {to_play} {to_gtp(p, size)}" for p in sample]
        try:
            answers = self.gtp.send_many(batch)
        except GtpError as err:
            self.fail(f"GNU Go refused a move we allowed: {err}")
        black, white = _stones(answers[1], size), _stones(answers[2], size)
        ours_black = set(np.flatnonzero(pos.board == BLACK).tolist())
        ours_white = set(np.flatnonzero(pos.board == WHITE).tolist())
        if (black, white) != (ours_black, ours_white):
            diff = sorted(to_gtp(p, size) for p in (black ^ ours_black) | (white ^ ours_white))
            self.fail(f"stones differ at {diff}")
        captures = (int(answers[3]), int(answers[4]))
        if captures != pos.prisoners:
            self.fail(f"captures (by B, by W): GNU Go {captures}, ours {pos.prisoners}")
        for p, answer in zip(sample, answers[5:], strict=True):
            if (answer == "1") != bool(legal[p]):
                reason = pos.illegal_reason(p) or "legal"
                self.fail(f"is_legal {to_play} {to_gtp(p, size)}: GNU Go {answer}, ours {reason}")
            if not legal[p] and pos.board[p] == 0:
                self.stats[f"agreed illegal: {pos.illegal_reason(p)}"] += 1
        self.stats["moves"] += 1
        self.stats["legality checks"] += len(sample)
        if move == PASS:
            self.stats["passes"] += 1

    def play(self, max_moves: int) -> None:
        while self.pos.move_number < max_moves and not self.pos.is_game_over():
            if self.rng.random() < 0.03:
                self.try_illegal()
            self.step()
        self.stats["games"] += 1
        self.stats["games ended by two passes"] += self.pos.is_game_over()


@pytest.mark.parametrize(("size", "games", "max_moves", "ko", "suicide"), CONFIGS,
                         ids=[f"{c[0]}x{c[0]}-{c[3]}-ko{'-suicide' * c[4]}" for c in CONFIGS])
def test_random_games_agree_with_gnugo(engines, size, games, max_moves, ko, suicide):
    gtp = engines(size, ko, suicide)
    rules = Rules(size=size, komi=KOMI, ko=ko, suicide=suicide)
    stats: Counter = Counter()
    first_seed = 100_000 * CONFIGS.index((size, games, max_moves, ko, suicide))
    for seed in range(first_seed, first_seed + games):
        _Game(gtp, rules, seed, stats).play(max_moves)
    print(f"{size}x{size} {ko} ko, suicide {suicide}: {dict(stats)}")
    assert stats["games"] == games
    # The games must reach the cases worth checking, or agreement would mean little.
    assert stats["illegal plays refused"] > 0
    assert stats["passes"] > 0
    if size <= 9:  # 200 random moves on 19x19 seldom make a ko
        assert stats[f"agreed illegal: {'ko' if ko == 'simple' else 'superko'}"] > 0
    assert stats["captures"] > 0
    if suicide:
        assert stats["suicides"] > 0
    else:
        assert stats["agreed illegal: suicide"] > 0


def test_hand_made_ko_and_suicide_agree_with_gnugo(engines):
    """Readable cases first: a ko that may not be retaken at once but may after a threat and
    its answer, and a corner point that is suicide for Black."""
    diagram = """
        . X O . . . . . .
        X . X O . . . . .
        . X O . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . O
        . . . . . . . O .
    """
    rules = Rules(size=9, komi=KOMI, ko="simple", suicide=False)
    pos = Position.from_ascii(diagram, rules=rules, to_play=WHITE)
    gtp = engines(9)
    gtp.send("clear_board")
    gtp.send_many([f"play {_GTP_COLOR[int(pos.board[p])]} {to_gtp(p, 9)}"
                   for p in np.flatnonzero(pos.board)])

    def both(vertex: str) -> None:
        nonlocal pos
        gtp.send(f"play {_GTP_COLOR[pos.to_play]} {vertex}")
        pos = pos.play(from_gtp(vertex, 9))

    both("B8")  # White captures C8 and takes the ko
    assert pos.prisoners == (0, 1) and gtp.send("captures white") == "1"
    assert pos.illegal_reason(from_gtp("C8", 9)) == "ko"
    assert gtp.send("is_legal b C8") == "0"
    assert pos.illegal_reason(from_gtp("J1", 9)) == "suicide"
    assert gtp.send("is_legal b J1") == "0"
    both("E5")  # a ko threat ...
    both("E6")  # ... answered: the ko may be retaken now
    assert pos.is_legal(from_gtp("C8", 9))
    assert gtp.send("is_legal b C8") == "1"
