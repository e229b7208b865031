"""The GTP engine as a controller meets it: a subprocess fed recorded sessions, byte for byte,
and a few moves against GNU Go through the same GtpClient the arena uses.

Transcripts live in gtp_transcripts/: NAME.gtp is the input, NAME.expected the exact stdout of
`rlgo go gtp --player random --seed 1 --quiet`, with @VERSION@ standing for rlgo's version.
After an intended change of output, rewrite them with RLGO_REGEN_TRANSCRIPTS=1 and review the
diff.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from envs.go.gtp_client import GtpClient
from rlgo import __version__

TRANSCRIPTS = Path(__file__).parent / "gtp_transcripts"
ENGINE_ARGS = ("--player", "random", "--seed", "1", "--quiet")


def gtp_command(*args: str) -> list[str]:
    """The argv that starts the GTP engine: `rlgo go gtp ARGS`."""
    return [sys.executable, "-m", "rlgo.cli", "go", "gtp", *args]


def _commands(data: bytes) -> int:
    """Command lines up to and including `quit` (what gets a response), counted the GTP way."""
    count = 0
    for raw in data.decode("utf-8", "replace").split("\n"):
        line = "".join(c for c in raw if c == "\t" or not (ord(c) < 32 or ord(c) == 127))
        words = line.split("#", 1)[0].replace("\t", " ").split(" ")
        words = [w for w in words if w]
        if words:
            count += 1
            if words[-1].lower() == "quit" and len(words) <= 2:
                break
    return count


@pytest.mark.parametrize("name", sorted(p.stem for p in TRANSCRIPTS.glob("*.gtp")))
def test_transcript(name):
    data = (TRANSCRIPTS / f"{name}.gtp").read_bytes()
    run = subprocess.run(gtp_command(*ENGINE_ARGS), input=data, capture_output=True, timeout=60)
    expected = TRANSCRIPTS / f"{name}.expected"
    out = run.stdout.decode("utf-8")
    if os.environ.get("RLGO_REGEN_TRANSCRIPTS"):
        expected.write_text(out.replace(__version__, "@VERSION@"), encoding="utf-8")
    assert run.returncode == 0, run.stderr.decode()
    assert run.stderr == b""
    assert out == expected.read_text(encoding="utf-8").replace("@VERSION@", __version__)
    blocks = out.split("\n\n")
    assert blocks[-1] == "" and all(b[:1] in ("=", "?") for b in blocks[:-1])
    assert len(blocks) - 1 == _commands(data)


def test_transcripts_exist():
    assert len(list(TRANSCRIPTS.glob("*.gtp"))) >= 3
    for source in TRANSCRIPTS.glob("*.gtp"):
        assert source.with_suffix(".expected").exists(), source


def test_bad_options_and_stderr_only_logging(tmp_path):
    bad = subprocess.run(gtp_command("--player", "nobody"), capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "nobody" in bad.stderr and bad.stdout == ""
    bad = subprocess.run(gtp_command("--size", "30"), input="", capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("rlgo: error:") and bad.stdout == ""
    # a file we cannot write: the error is the response, stdout holds nothing else
    run = subprocess.run(gtp_command("--seed", "3"), input=f"printsgf {tmp_path}\nname\n",
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    assert run.stdout == f"? cannot write '{tmp_path}': not a regular file\n\n= rlgo\n\n"


def test_lz_analyze_in_a_pipe_ends_when_the_next_command_arrives():
    with GtpClient(gtp_command("--quiet"), timeout=30) as engine:
        analysis, name = engine.send_many(["1 lz-analyze b 5", "2 name"])
        assert name == "rlgo"  # so the analysis ended, with or without a report before it
        assert all(line.startswith("info move ") for line in analysis.splitlines())
        assert engine.send("known_command lz-analyze") == "true"


@pytest.mark.gnugo
def test_a_game_against_gnugo(gnugo_path):
    """Two engines alternate genmove/play on 9x9, as gogui-twogtp or an arena would drive
    them; both must agree on the board after every move, and both can score the end."""
    with GtpClient(gtp_command("--seed", "5", "--quiet"), timeout=30) as rlgo, \
            GtpClient([gnugo_path, "--mode", "gtp", "--level", "1"], timeout=30) as gnugo:
        for engine in (rlgo, gnugo):
            engine.send_many(["boardsize 9", "clear_board", "komi 7"])
        assert rlgo.send("protocol_version") == "2"
        assert rlgo.send("gogui-analyze_commands")
        players = {"b": rlgo, "w": gnugo}
        for number in range(12):
            color = "bw"[number % 2]
            mover, other = players[color], players["bw"[1 - number % 2]]
            move = mover.send(f"genmove {color}")
            assert move.lower() != "resign"
            other.send(f"play {color} {move}")
            for stone_color in ("black", "white"):
                theirs = set(gnugo.send(f"list_stones {stone_color}").upper().split())
                assert theirs == _stones(rlgo.send("showboard"), stone_color), number
        assert rlgo.send("final_score")[:2] in ("B+", "W+", "0")
        assert gnugo.send("final_score")
        assert rlgo.send("undo") == ""
        assert gnugo.send("undo") == ""


def _stones(board: str, color: str) -> set[str]:
    """Vertices of one colour in our showboard text."""
    mark = "X" if color == "black" else "O"
    lines = [ln for ln in board.split("\n") if ln[:2].strip().isdigit()]
    letters = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
    found = set()
    for line in lines:
        number = int(line[:2])
        cells = line[2:2 + 2 * len(lines) + 1]
        for col in range(len(lines)):
            if cells[2 * col + 1] == mark:
                found.add(f"{letters[col]}{number}")
    return found


def test_max_memory_is_a_search_setting():
    """--max-memory bounds the search tree; the engine still answers when it fills, and says
    so once on stderr. A player without a search has no such setting."""
    run = subprocess.run(gtp_command("--player", "mcts", "--visits", "3000", "--max-memory", "1"),
                         input=b"genmove b\ngenmove w\nquit\n", capture_output=True, timeout=120)
    assert run.returncode == 0 and run.stdout.count(b"= ") == 3
    assert run.stderr.decode().count("the search tree is full") == 1
    bad = subprocess.run(gtp_command("--player", "random", "--max-memory", "100"),
                         input=b"quit\n", capture_output=True, timeout=60)
    assert bad.returncode == 2 and b"--max-memory are MCTS settings" in bad.stderr
