"""GtpClient against real GNU Go, and against small fake engines that hang, die or ramble."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from envs.go.coords import from_gtp
from envs.go.gtp_client import GtpClient, GtpEngineDied, GtpError, GtpTimeout

# A scriptable stand-in engine. Modes: "hang" never answers; "messy" answers with CRs, blank
# lines and chatter; "stubborn" ignores quit. Commands: "die" exits with status 3, "slow"
# sleeps, "fail" answers '? oops', anything else echoes back.
FAKE_ENGINE = r"""
import sys, time
mode = sys.argv[1]
for line in sys.stdin:
    cmd = line.strip()
    if mode == "hang":
        continue
    if cmd == "quit":
        sys.stdout.write("= \n\n")
        sys.stdout.flush()
        if mode == "stubborn":
            continue
        break
    if cmd == "die":
        sys.exit(3)
    if cmd == "slow":
        time.sleep(60)
    if cmd == "fail":
        answer = "? oops\n\n"
    elif mode == "messy":
        answer = "\r\n\r\nthinking...\r\n= " + cmd + "\r\nsecond line\r\n\r\n\r\n"
    else:
        answer = "= " + cmd + "\n\n"
    sys.stdout.write(answer)
    sys.stdout.flush()
"""


@pytest.fixture
def fake(tmp_path):
    script = tmp_path / "fake_engine.py"
    script.write_text(FAKE_ENGINE)
    clients = []

    def start(mode: str = "plain", timeout: float | None = 5.0) -> GtpClient:
        client = GtpClient([sys.executable, str(script), mode], timeout=timeout)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()


@pytest.fixture
def gnugo(gnugo_path):
    with GtpClient([gnugo_path, "--mode", "gtp", "--level", "0"], timeout=30.0) as client:
        yield client


# ---- GNU Go -------------------------------------------------------------------------------------

@pytest.mark.gnugo
def test_gnugo_identifies_itself(gnugo):
    assert gnugo.send("name") == "GNU Go"
    assert gnugo.send("version").startswith("3.")
    assert gnugo.send("protocol_version") == "2"
    assert gnugo.send("7 name") == "GNU Go"  # a command id is accepted and stripped


@pytest.mark.gnugo
def test_gnugo_play_and_genmove(gnugo):
    gnugo.send_many(["boardsize 9", "clear_board", "komi 7"])
    assert gnugo.send("play b E5") == ""
    reply = gnugo.send("genmove w")
    move = from_gtp(reply, 9)  # a vertex, pass or resign
    assert move >= -2
    assert "E5" in gnugo.send("list_stones black").split()
    board = gnugo.send("showboard")
    assert board.splitlines()[0].split() == list("ABCDEFGHJ")  # starts at the board itself
    assert not board.startswith("=")


@pytest.mark.gnugo
def test_gnugo_errors_raise_and_the_stream_stays_in_step(gnugo):
    gnugo.send_many(["boardsize 9", "clear_board", "play b E5"])
    with pytest.raises(GtpError, match="illegal move") as info:
        gnugo.send("play w E5")
    assert type(info.value) is GtpError and info.value.message == "illegal move"
    with pytest.raises(GtpError, match="unknown command"):
        gnugo.send("frobnicate")
    with pytest.raises(GtpError, match="illegal move"):
        gnugo.send_many(["name", "play w E5", "list_stones black"])
    assert gnugo.send("list_stones black") == "E5"
    assert gnugo.send_many(["name", "list_stones black", "captures white"]) == [
        "GNU Go", "E5", "0"]
    assert gnugo.alive


@pytest.mark.gnugo
def test_gnugo_close_and_quit(gnugo_path):
    client = GtpClient([gnugo_path, "--mode", "gtp"])
    client.close()
    assert client.process.returncode == 0  # it quit when asked; no kill was needed
    assert not client.alive
    client.close()  # twice is fine
    with pytest.raises(GtpEngineDied):
        client.send("name")


# ---- fake engines -------------------------------------------------------------------------------

def test_timeout_on_a_hung_engine_kills_it(fake):
    client = fake("hang", timeout=0.5)
    start = time.monotonic()
    with pytest.raises(GtpTimeout):
        client.send("name")
    assert time.monotonic() - start < 3
    assert client.process.poll() is not None and not client.alive
    with pytest.raises(GtpEngineDied):  # a late answer can never pass for the next one
        client.send("name")


def test_timeout_per_call(fake):
    client = fake("plain", timeout=None)
    assert client.send("hello") == "hello"
    with pytest.raises(GtpTimeout):
        client.send("slow", timeout=0.3)


def test_engine_that_exits_raises_engine_died(fake):
    client = fake("plain")
    assert client.send("hello") == "hello"
    with pytest.raises(GtpEngineDied, match="status 3"):
        client.send("die")
    with pytest.raises(GtpEngineDied):
        client.send("hello")


def test_engine_that_is_gone_before_the_write(fake):
    client = fake("plain")
    client.process.stdin.write("die\n")  # behind the client's back
    client.process.stdin.flush()
    client.process.wait()
    with pytest.raises(GtpEngineDied):
        client.send_many(["a", "b"])
    with pytest.raises(GtpEngineDied):
        client.send("a")


def test_engine_that_cannot_start():
    with pytest.raises(GtpEngineDied, match="cannot start"):
        GtpClient(["/nonexistent/engine", "--mode", "gtp"])


def test_messy_output_is_tolerated(fake):
    client = fake("messy")
    assert client.send("one") == "one\nsecond line"
    assert client.send_many(["two", "three"]) == ["two\nsecond line", "three\nsecond line"]
    with pytest.raises(GtpError, match="oops"):
        client.send("fail")
    assert client.send("four") == "four\nsecond line"


def test_close_kills_an_engine_that_ignores_quit(fake):
    client = fake("stubborn")
    start = time.monotonic()
    client.close(grace=0.3)
    assert time.monotonic() - start < 3
    assert client.process.poll() is not None


def test_context_manager_and_string_command(tmp_path):
    script = tmp_path / "engine.py"
    script.write_text(FAKE_ENGINE)
    with GtpClient(f"{sys.executable} {script} plain") as client:
        assert client.send("  spaced  ") == "spaced"
        assert "alive" in repr(client)
    assert client.process.poll() is not None
    assert "closed" in repr(client)


def test_bad_arguments(fake):
    with pytest.raises(ValueError, match="deadlock"):
        GtpClient([sys.executable, "-c", "pass"], stderr=subprocess.PIPE)
    client = fake("plain")
    with pytest.raises(ValueError, match="single line"):
        client.send("name\nversion")
    assert client.send_many([]) == []
    assert client.send("still fine") == "still fine"
