"""Pondering (`rlgo go gtp --ponder`, issue 20): the engine searches on the opponent's time,
stops the moment a command arrives, and its next move starts from the bigger tree.

The engine runs its real loop (GtpEngine.run) in a thread on a stdin the test feeds line by
line, so the test sees each response as a controller would and can time it.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time

from agents.alphago.search.player import SearchLimits
from envs.go import Rules, to_gtp
from rlgo.gtp.engine import GtpEngine
from rlgo.players import build_player
from tests.rlgo.test_gtp_transcripts import gtp_command


class LineFeed:
    """A stdin whose readline blocks until the test sends a line ('' = EOF)."""

    def __init__(self):
        self._lines: queue.Queue[str] = queue.Queue()

    def send(self, line: str) -> None:
        self._lines.put(line)

    def readline(self, limit: int = -1) -> str:
        return self._lines.get()


class Responses:
    """A stdout that collects the text and wakes waiters on every write."""

    def __init__(self):
        self.text = ""
        self._changed = threading.Condition()

    def write(self, text: str) -> None:
        with self._changed:
            self.text += text
            self._changed.notify_all()

    def flush(self) -> None:
        pass

    def wait_blocks(self, count: int, timeout: float) -> list[str]:
        """The first `count` complete responses; AssertionError after `timeout` s."""
        with self._changed:
            ok = self._changed.wait_for(lambda: self.text.count("\n\n") >= count, timeout)
        assert ok, f"no response {count} within {timeout} s: {self.text!r}"
        return self.text.split("\n\n")[:count]


def start(ponder: bool, limits: SearchLimits) -> tuple[GtpEngine, LineFeed, Responses,
                                                       threading.Thread]:
    engine = GtpEngine(build_player("mcts", 9, seed=3), rules=Rules(size=9), limits=limits,
                       log=None, ponder=ponder)
    feed, out = LineFeed(), Responses()
    thread = threading.Thread(target=engine.run, args=(feed, out), daemon=True)
    thread.start()
    return engine, feed, out, thread


def root_visits(block: str) -> int:
    """The visits of genmove_analyze's last info line: the root's, summed over its moves."""
    last = [line for line in block.split("\n") if line.startswith("info")][-1]
    words = last.split()
    return sum(int(words[i + 1]) for i, word in enumerate(words) if word == "visits")


def pondered_reply(engine: GtpEngine) -> str:
    """The reply the ponder search likes best so far (read while it runs: the tree's arrays
    are allocated up front, so at worst a count is one batch stale)."""
    best = engine.player.mcts.candidates()[0].move
    return to_gtp(best, 9)


def reply_root_visits(ponder: bool, wait: float, reply: str | None = None) -> tuple[int, str]:
    """Black's move, `wait` s of White's time, White's `reply` (default: the ponder's
    favourite), Black's next move: (the visits at that move's root, the reply), with a fixed
    search of 100 visits per move."""
    engine, feed, out, thread = start(ponder, SearchLimits(visits=100))
    feed.send("1 genmove_analyze b 1000\n")
    out.wait_blocks(1, 60)
    time.sleep(wait)
    reply = reply or pondered_reply(engine)
    feed.send(f"2 play w {reply}\n")
    feed.send("3 genmove_analyze b 1000\n")
    second = out.wait_blocks(3, 60)[2]
    feed.send("quit\n")
    thread.join(10)
    assert not thread.is_alive()
    return root_visits(second), reply


def test_pondering_grows_the_next_moves_tree():
    pondered, reply = reply_root_visits(ponder=True, wait=1.5)
    plain, _ = reply_root_visits(ponder=False, wait=1.5, reply=reply)
    # without pondering: the 100 new visits plus what the first search left under the reply
    assert plain < 200, plain
    assert pondered > 2 * plain, (plain, pondered)


def test_a_command_during_pondering_is_answered_at_once_and_quit_exits():
    # a genmove of 20 visits gives the engine its colour; then it ponders without end (a
    # 30-second think time would bound its own moves, never the ponder)
    engine, feed, out, thread = start(True, SearchLimits(visits=20, seconds=30.0))
    feed.send("1 genmove b\n")
    out.wait_blocks(1, 60)
    time.sleep(0.5)
    assert engine._ponder.running
    began = time.monotonic()
    feed.send("2 name\n")
    assert out.wait_blocks(2, 5)[1] == "=2 rlgo"
    assert time.monotonic() - began < 2.0
    time.sleep(0.3)  # pondering again, after the answer
    assert engine._ponder.running
    began = time.monotonic()
    feed.send("3 quit\n")
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - began < 2.0
    assert out.text.split("\n\n")[2] == "=3 "
    assert not engine._ponder.running


def test_no_pondering_on_the_engines_own_turn_or_without_the_flag():
    engine, feed, out, thread = start(True, SearchLimits(visits=20))
    feed.send("play b E5\n")  # the engine has not played: it has no colour to ponder for
    out.wait_blocks(1, 10)
    assert not engine._ponder.running
    feed.send("genmove w\n")
    feed.send("play b C3\n")  # White (the engine) to move: its own turn, nothing to ponder
    out.wait_blocks(3, 60)
    assert not engine._ponder.running
    feed.send("")  # EOF ends the loop and any ponder
    thread.join(5)
    assert not thread.is_alive()
    assert GtpEngine(build_player("mcts", 9), log=None)._ponder is None


def test_the_cli_flag_ponders_and_quits_promptly():
    # a move of 0.05 s, 1.5 s of pondering, then quit: answered and exited in seconds
    proc = subprocess.Popen(gtp_command("--player", "mcts", "--time", "0.05", "--ponder",
                                        "--quiet"),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        proc.stdin.write(b"genmove b\n")
        proc.stdin.flush()
        assert proc.stdout.readline().startswith(b"= ")
        time.sleep(1.5)
        began = time.monotonic()
        out, _ = proc.communicate(b"quit\n", timeout=30)
        assert proc.returncode == 0 and out.endswith(b"= \n\n"), out
        assert time.monotonic() - began < 5.0  # the interpreter's exit included
    finally:
        proc.kill()
