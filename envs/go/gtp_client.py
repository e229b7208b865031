"""Talking to an external GTP engine (GNU Go, KataGo, Leela Zero, ...) over pipes.

One `GtpClient` owns one engine subprocess. `send("genmove b")` writes a command and returns the
response text; the engine's "? message" failures raise GtpError. The client is built for long
unattended runs (match arenas, teacher-data generation), so it never blocks forever: a reader
thread moves stdout lines into a queue and every wait on that queue has a deadline. A hung engine
raises GtpTimeout, a crashed one GtpEngineDied, and either way the process gets killed rather
than leaked.

    with GtpClient(["/usr/games/gnugo", "--mode", "gtp"]) as gnugo:
        gnugo.send("boardsize 9")
        move = gnugo.send("genmove b")      # 'E5'
"""

from __future__ import annotations

import contextlib
import queue
import shlex
import subprocess
import threading
import time
from types import EllipsisType

from .errors import GoError


class GtpError(GoError):
    """The engine answered a command with failure ('? message'); str() is the message."""

    def __init__(self, message: str, command: str = ""):
        self.message = message
        self.command = command
        super().__init__(f"{command!r}: {message}" if command else message)


class GtpTimeout(GtpError):
    """No complete response within the timeout. The engine has been killed: GTP cannot cancel a
    command, and its late answer would otherwise be read as the answer to the next command."""


class GtpEngineDied(GtpError):
    """The engine exited, closed its stdout, or stopped reading its stdin."""


_EOF = None  # what the reader thread queues when stdout closes


class GtpClient:
    """An external GTP engine as a subprocess, one command at a time (or a pipelined batch).

    command: the engine's argv, or one string split like a shell would split it.
    timeout: seconds to wait for each response (None: wait forever); `send` can override it,
             e.g. for a long genmove (leaving it out, `...`, means this default).
    stderr:  where the engine's stderr goes: DEVNULL by default (engines such as KataGo log a
             lot there), None to inherit ours, or an open file. Not PIPE: nobody would read it,
             and a full pipe would stall the engine.
    Not thread-safe: one caller at a time, as GTP itself is one conversation.
    """

    def __init__(self, command: str | list[str], timeout: float | None = 30.0,
                 stderr=subprocess.DEVNULL):
        if stderr == subprocess.PIPE:
            raise ValueError("stderr=PIPE would deadlock once the pipe fills; pass a file")
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        self.argv = argv
        self.timeout = timeout
        try:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
                bufsize=1, encoding="utf-8", errors="replace")
        except OSError as err:
            raise GtpEngineDied(f"cannot start {argv!r}: {err}") from err
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._dead = False
        self._reader = threading.Thread(target=self._read_stdout, daemon=True,
                                        name=f"gtp-reader-{self.process.pid}")
        self._reader.start()

    def _read_stdout(self) -> None:
        """Runs in the reader thread: every stdout line into the queue, then _EOF."""
        try:
            for line in self.process.stdout:
                self._lines.put(line)
        except (OSError, ValueError):
            pass  # a broken pipe ends the stream like EOF
        finally:
            self._lines.put(_EOF)

    @property
    def alive(self) -> bool:
        """Whether the engine is still running and in step with us."""
        return not self._dead and self.process.poll() is None

    def send(self, command: str, timeout: float | None | EllipsisType = ...) -> str:
        """Send one command and return the response text, without the leading '= ' (or '=id ')
        and the closing blank line. Raises GtpError on '? message', GtpTimeout, GtpEngineDied."""
        return self.send_many([command], timeout)[0]

    def send_many(self, commands: list[str],
                  timeout: float | None | EllipsisType = ...) -> list[str]:
        """Pipeline several commands (one write, then read every response): much faster than
        one round trip each; the reader thread drains stdout meanwhile, so a long batch cannot
        deadlock on full pipes. The timeout covers the whole batch. Every response is read even
        when one fails, so the stream stays in step; then the first failure raises GtpError."""
        if not commands:
            return []
        if any("\n" in c or "\r" in c for c in commands):
            raise ValueError("a GTP command must be a single line")
        if self._dead:
            raise GtpEngineDied("the engine is no longer usable (died or timed out earlier)")
        timeout = self.timeout if timeout is ... else timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self.process.stdin.write("".join(c + "\n" for c in commands))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as err:
            self._fail()
            raise GtpEngineDied(f"engine stopped reading commands ({err})") from err
        results = [self._read_response(c, deadline) for c in commands]
        for command, (ok, text) in zip(commands, results, strict=True):
            if not ok:
                raise GtpError(text, command)
        return [text for _, text in results]

    def _read_response(self, command: str, deadline: float | None) -> tuple[bool, str]:
        """(success, text) of the next response. Blank lines before it and stray lines that do
        not start with '=' or '?' (some engines print chatter) are skipped; CRs are dropped."""
        lines: list[str] = []
        ok = True
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                line = self._lines.get(timeout=wait)
            except queue.Empty:
                self._fail()
                raise GtpTimeout("no response within the timeout; engine killed", command) from None
            if line is _EOF:
                self._lines.put(_EOF)  # later calls see the EOF too
                self._fail()
                code = self.process.poll()
                raise GtpEngineDied(f"engine exited (status {code}) before answering", command)
            line = line.replace("\r", "").rstrip("\n")
            if not lines:
                if not line.strip() or line[0] not in "=?":
                    continue
                ok = line[0] == "="
                head = line[1:].lstrip("0123456789")  # drop an optional command id
                line = head[1:] if head.startswith((" ", "\t")) else head
            elif not line.strip():
                break  # the blank line that ends every response
            lines.append(line)
        if len(lines) > 1 and not lines[0].strip():
            lines.pop(0)  # multi-line answers (showboard) start on the next line
        return ok, "\n".join(lines).rstrip()

    def _fail(self) -> None:
        """Mark the engine unusable and make sure the process is gone."""
        self._dead = True
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def close(self, grace: float = 2.0) -> None:
        """Ask the engine to quit, give it `grace` seconds, then kill it. Safe to call twice."""
        if not self._dead and self.process.poll() is None:
            with contextlib.suppress(GtpError):
                self.send("quit", timeout=grace)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        self._fail()
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        # Not stdout: closing it while the reader thread blocks in read() can block us too.
        # The thread ends at EOF, which a killed engine gives it; it is a daemon regardless.
        self._reader.join(timeout=grace)

    def __enter__(self) -> GtpClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "alive" if self.alive else "closed"
        return f"<GtpClient {self.argv[0]!r} pid {self.process.pid} {state}>"
