"""GTP v2 framing: cleaning input lines, splitting commands, formatting responses, and reading
arguments with the error texts controllers know from GNU Go.

Input rules (GTP v2 section 2.2): control characters other than HT and LF are dropped (so CR
and NUL vanish), everything from '#' on is a comment, HT becomes a space, and a line left empty
is skipped without a response. A command is `[id] name args...`; the id is a decimal number
that the response echoes: `=id result` or `?id message`, each ended by one empty line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from envs.go import from_gtp, parse_color

# Lines longer than this are cut there (the rest is read and thrown away) and answered with an
# error: GTP commands are short, and junk must not make the engine hold gigabytes.
MAX_LINE = 1 << 20

_DROP = {c: None for c in range(32) if c not in (9, 10)}
_DROP[127] = None
_DROP[9] = " "
_INTEGER = re.compile(r"[+-]?[0-9]+")


class GtpFailure(Exception):
    """A command that fails; the message becomes the `? message` response."""


@dataclass(frozen=True)
class Command:
    """One parsed command line. `id` is the decimal id as sent ('' when absent); `name` is
    lower-cased (GTP names are lower-case; we accept any case)."""

    id: str
    name: str
    args: tuple[str, ...]


def clean(line: str) -> str:
    """The line after GTP's preprocessing, stripped of surrounding spaces (GTP's white space is
    space and tab only; other Unicode spaces are ordinary characters)."""
    line = line.translate(_DROP)
    hash_at = line.find("#")
    if hash_at >= 0:
        line = line[:hash_at]
    return line.strip(" \n")


def parse(line: str) -> Command | None:
    """A Command, or None for a line that is empty after preprocessing."""
    words = [word for word in clean(line).split(" ") if word]
    if not words:
        return None
    ident = ""
    if words[0].isdigit() and words[0].isascii():
        ident, words = words[0], words[1:]
    if not words:
        return Command(ident, "", ())
    return Command(ident, words[0].lower(), tuple(words[1:]))


def success(ident: str, text: str = "") -> str:
    """'=id text' plus the blank line; multi-line text starts on the line after '=id '. Empty
    lines inside `text` are dropped: a blank line would end the response early."""
    text = text.rstrip("\n")
    while "\n\n" in text:
        text = text.replace("\n\n", "\n")
    return f"={ident} {text}\n\n"


def failure(ident: str, message: str) -> str:
    return f"?{ident} {message}\n\n"


def read_lines(stream) -> Iterator[tuple[str, bool]]:
    """(line, cut) for each line of a text or binary stream until EOF; `cut` when the line was
    longer than MAX_LINE and only its start is given. Bytes are decoded as UTF-8 with
    replacement, so binary junk cannot raise."""
    stream = getattr(stream, "buffer", stream)
    while True:
        chunk = stream.readline(MAX_LINE)
        if not chunk:
            return
        cut = len(chunk) >= MAX_LINE and not _ends_line(chunk)
        while cut:
            rest = stream.readline(MAX_LINE)
            if not rest or _ends_line(rest):
                break
        if isinstance(chunk, bytes):
            chunk = chunk.decode("utf-8", errors="replace")
        yield chunk, cut


def _ends_line(chunk) -> bool:
    return chunk.endswith(b"\n" if isinstance(chunk, bytes) else "\n")


# ---- arguments ---------------------------------------------------------------------------------

def expect(args: tuple[str, ...], count: int, message: str) -> None:
    """Fail with `message` unless there are exactly `count` arguments."""
    if len(args) != count:
        raise GtpFailure(message)


def to_int(text: str, message: str, low: int, high: int, out_of_range: str = "") -> int:
    """An integer from `low` to `high`, written in ASCII digits with an optional sign.

    Bounds are required: an unbounded number kept in the engine's state (a 400-digit byo-yomi
    count, say) fails later, in every genmove, where no controller can trace it back. `message`
    answers text that is no integer; `out_of_range` (default `message`) one outside the
    bounds."""
    if not _INTEGER.fullmatch(text):
        raise GtpFailure(message)
    try:
        value = int(text, 10)
    except ValueError:  # more digits than Python converts: out of any range
        value = None
    if value is None or not low <= value <= high:
        raise GtpFailure(out_of_range or message)
    return value


def to_float(text: str, message: str, low: float, high: float, out_of_range: str = "") -> float:
    """A float from `low` to `high` (so never NaN or infinite), in ASCII; messages as to_int."""
    try:
        value = float(text) if text.isascii() and "_" not in text else math.nan
    except ValueError:
        value = math.nan
    if math.isnan(value):
        raise GtpFailure(message)
    if not low <= value <= high:
        raise GtpFailure(out_of_range or message)
    return value


def to_color(text: str, message: str = "invalid color") -> int:
    try:
        return parse_color(text)
    except ValueError:
        raise GtpFailure(message) from None


def to_vertex(text: str, size: int, message: str = "invalid coordinate") -> int:
    """A board point or PASS (never RESIGN, which is not a vertex)."""
    if text.lower() == "resign":
        raise GtpFailure(message)
    try:
        return from_gtp(text, size)
    except ValueError:  # BadVertex, or int() refusing thousands of digits
        raise GtpFailure(message) from None
