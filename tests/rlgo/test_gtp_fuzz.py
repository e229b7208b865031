"""Fuzzing the GTP engine process: thousands of valid, mutated and junk lines must each get
exactly one response (blank and comment lines none), never an internal error, never a hang,
and EOF must end the process with status 0.

Clock, size and count arguments get their own extreme values (huge, negative, non-numeric,
nan/inf), and every clock command is followed by a genmove: issue 22 found a 400-digit
time_left accepted, after which every genmove was an internal error."""

from __future__ import annotations

import random
import subprocess

from rlgo.gtp import COMMANDS
from rlgo.gtp.protocol import MAX_LINE
from tests.rlgo.test_gtp_transcripts import gtp_command

LINES = 3000
SEED = 20240607

COLORS = ["b", "w", "black", "white", "B", "WHITE", "x", "bw", ""]
NUMBERS = ["-1", "0", "1", "2", "3", "5", "9", "13", "19", "25", "26", "100", "3.5", "7.5",
           "-0.5", "nan", "inf", "1e400", "9" * 5000, "0x10", "\u0661"]
WORDS = ["alive", "dead", "seki", "none", "absolute", "byoyomi", "canadian", "interval",
         "minmoves", "pass", "PASS", "resign", "true"]
# clock values, sizes and counts: in range, at the bounds, and every way out of them
EXTREMES = ["0", "1", "60", "-1", "-0.5", "+5", "31536000", "31536001", "10000", "10001",
            "360001", "5e-324", "1e300", "1e400", "-1e400", "9" * 400, "-" + "9" * 400,
            "9" * 5000, "nan", "NaN", "inf", "-inf", "infinity", "abc", "0x10", "1_000", "1e",
            "\u0661", "\uff11", "2.5"]
SIZES = ["2", "5", "9", "13", "19", "25", "1", "26", "-9", "0", "9.0", "9" * 400, "nine"]
FILES = ["game.sgf", "missing.sgf", "sub/game.sgf", ".", "..", "game.sgf", "empty.sgf"]
LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
JUNK = ["\x00", "\r", "\t", "#", "\x1b[31m", "\u00e9", "\u4e2d", "\ufffd", "\u200b", "\x85",
        "\U0001f600", " ", "  ", "\x7f", "\\", "'", '"', "=", "?"]


def _clock(rng: random.Random) -> str:
    return rng.choice(EXTREMES) if rng.random() < 0.5 else str(rng.choice([0, 1, 5, 30, 600]))


def _vertex(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return rng.choice(["i5", "a0", "z26", "aa1", "A", "11", "D-4", "pass", "resign"])
    size = rng.choice([5, 9, 19, 25])
    return f"{rng.choice(LETTERS[:size])}{rng.randint(1, size)}"


def _arg(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.3:
        return _vertex(rng)
    if pick < 0.5:
        return rng.choice(COLORS) or "b"
    if pick < 0.75:
        return rng.choice(NUMBERS)
    if pick < 0.9:
        return rng.choice(WORDS)
    return rng.choice(FILES)


def _analyze_args(rng: random.Random) -> list[str]:
    """Leela Zero's analyze arguments (KataGo's GTP_Extensions.md), well and badly formed."""
    words = []
    for _ in range(rng.randint(0, 4)):
        pick = rng.random()
        if pick < 0.4:
            words += [rng.choice(["avoid", "allow"]), rng.choice(COLORS),
                      ",".join(_vertex(rng) for _ in range(rng.randint(0, 3))),
                      rng.choice(["1", "2", "20", "0", "-1", *EXTREMES[:6]])][:rng.randint(1, 4)]
        else:
            words.append(rng.choice(["b", "w", "interval", "minmoves", _clock(rng)]))
    return words


def _kata_args(rng: random.Random) -> list[str]:
    """kata-analyze's: Leela Zero's plus its ownership/ownershipStdev/maxmoves pairs (KataGo's
    GTP_Extensions.md), values well and badly formed, pairs cut short."""
    words = _analyze_args(rng)
    for _ in range(rng.randint(0, 3)):
        key = rng.choice(["ownership", "ownershipStdev", "maxmoves"])
        value = rng.choice(["true", "false", "TRUE", "1", "3", "-2", *EXTREMES[:4]])
        words.insert(rng.randint(0, len(words)), f"{key} {value}"[:rng.choice([99, 99, 9])])
    return words


RULE_NAMES = ["chinese", "japanese", "aga", "new_zealand", "korean", "tromp-taylor",
              "stone-scoring", "aga-button", "chinese-kgs", "NZ", "ing", ""]
RULE_JSON = ['{"ko":"SIMPLE","scoring":"TERRITORY","tax":"SEKI"}', '{"suicide":true}',
             '{"hasButton":true}', '{"ko":"SUPER"}', '{"tax":"ALL"}', '[1,2]', '{"ko":',
             '{"whiteHandicapBonus":"N-1","ko":"SITUATIONAL"}', '{"suicide":"1"}', '"chinese"',
             "{" * 3000, '{"komi":7}']


def _rules_args(rng: random.Random) -> list[str]:
    """kata-set-rules' shorthand or JSON (KataGo's GTP_Extensions.md), well and badly formed."""
    return [rng.choice(RULE_NAMES + RULE_JSON)]


def _valid_ish(rng: random.Random) -> str:
    name = rng.choice([c for c in COMMANDS if c != "quit"])
    args = {
        "play": lambda: [rng.choice(COLORS[:4]), _vertex(rng)],
        "genmove": lambda: [rng.choice(COLORS[:4])],
        "boardsize": lambda: [rng.choice(SIZES)],
        "fixed_handicap": lambda: [rng.choice([str(rng.randint(0, 10)), *SIZES])],
        "place_free_handicap": lambda: [rng.choice([str(rng.randint(0, 30)), *SIZES])],
        "set_free_handicap": lambda: [_vertex(rng) for _ in range(rng.randint(0, 5))],
        "time_left": lambda: [rng.choice(COLORS[:4]), _clock(rng), _clock(rng)],
        "time_settings": lambda: [_clock(rng) for _ in range(3)],
        "kgs-time_settings": lambda: [rng.choice(WORDS[3:7])] + [
            _clock(rng) for _ in range(rng.choice([0, 1, 3, 3]))],
        "komi": lambda: [rng.choice(["6.5", "-7.5", "1000", "1000.5"] + EXTREMES)],
        "lz-analyze": lambda: _analyze_args(rng),
        "analyze": lambda: _analyze_args(rng),
        "lz-genmove_analyze": lambda: _analyze_args(rng),
        "genmove_analyze": lambda: _analyze_args(rng),
        "kata-analyze": lambda: _kata_args(rng),
        "kgs-rules": lambda: [rng.choice(RULE_NAMES)],
        "kata-set-rules": lambda: _rules_args(rng),
        "kata-set-rule": lambda: [rng.choice(["ko", "scoring", "tax", "suicide", "hasButton",
                                              "whiteHandicapBonus", "button"]),
                                  rng.choice(["SIMPLE", "TERRITORY", "SEKI", "true", "N", "x"])],
        "loadsgf": lambda: [rng.choice(FILES)] + ([str(rng.randint(0, 50))] * rng.randint(0, 1)),
        "printsgf": lambda: [rng.choice(FILES)] * rng.randint(0, 1),
    }.get(name, lambda: [_arg(rng) for _ in range(rng.randint(0, 3))])()
    return " ".join([name, *args])


def _mutate(rng: random.Random, line: str) -> str:
    words = line.split(" ")
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(7)
        if kind == 0 and len(words) > 1:
            words.pop(rng.randrange(1, len(words)))
        elif kind == 1:
            words.insert(rng.randint(1, len(words)), _arg(rng))
        elif kind == 2:
            words = [w.upper() if rng.random() < 0.5 else w for w in words]
        elif kind == 3:
            i = rng.randrange(len(words))
            pos = rng.randint(0, len(words[i]))
            words[i] = words[i][:pos] + rng.choice(JUNK) + words[i][pos:]
        elif kind == 4:
            words.insert(0, str(rng.randint(0, 10**6)))
        elif kind == 5:
            words[-1] += rng.choice(["\r", " # comment", "\t", "\x00"])
        else:
            words.insert(rng.randint(0, len(words)), "".join(rng.choices(JUNK, k=3)))
    return rng.choice([" ", "\t"]).join(words)


def _junk(rng: random.Random) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return rng.randbytes(rng.randint(1, 200)).replace(b"\n", b"")
    if kind == 1:
        return "".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(1, 50))).encode(
            "utf-8", "replace").replace(b"\n", b"")
    if kind == 2:
        return ("x" * rng.randint(65_000, 200_000)).encode()
    if kind == 3:
        return ("play b " + "D4 " * rng.randint(20_000, 40_000)).encode()
    return (rng.choice(["frobnicate", "kata-analyze", "analyze", "gogui-interrupt", "PLAY",
                        "play_b", "known_command"]) + " " + _arg(rng)).encode()


def _fuzz_input(rng: random.Random) -> list[bytes]:
    lines: list[bytes] = []
    while len(lines) < LINES:
        pick = rng.random()
        if pick < 0.45:
            line = _valid_ish(rng).encode()
        elif pick < 0.8:
            line = _mutate(rng, _valid_ish(rng)).encode("utf-8")
        elif pick < 0.97:
            line = _junk(rng)
        else:
            line = rng.choice([b"", b"   ", b"# comment", b"\t# tab comment", b"\r", b"\x00"])
        if not _is_quit(line):
            lines.append(line)
            if line.startswith((b"time_", b"kgs-time_")):  # a poisoned clock shows in genmove
                lines.append(b"genmove " + rng.choice([b"b", b"w"]))
    lines.append(b"x" * (MAX_LINE + 1000))  # cut, answered 'line too long'
    lines.append(b"name " + b"a" * (MAX_LINE * 2))
    lines.append(b"12345 protocol_version")  # last, and without a newline before EOF
    return lines


def _words(line: bytes) -> list[str]:
    """The words GTP sees in a line (control characters dropped, comment cut, tab is space)."""
    text = line[:MAX_LINE].decode("utf-8", "replace")
    text = "".join(c for c in text if c == "\t" or not (ord(c) < 32 or ord(c) == 127))
    return [w for w in text.split("#", 1)[0].replace("\t", " ").split(" ") if w]


def _is_quit(line: bytes) -> bool:
    words = _words(line)
    if words and words[0].isdigit() and words[0].isascii():
        words = words[1:]
    return bool(words) and words[0].lower() == "quit"


def test_fuzzed_input_gets_one_response_per_command(tmp_path):
    rng = random.Random(SEED)
    lines = _fuzz_input(rng)
    (tmp_path / "sub").mkdir()
    (tmp_path / "empty.sgf").write_text("")
    data = b"\n".join(lines)
    # --time caps each genmove (a clock's budget is still computed, so a bad one still shows)
    # --ponder: every line also stops a background search first (issue 20)
    run = subprocess.run(gtp_command("--seed", "7", "--time", "0.05", "--ponder"), input=data,
                         capture_output=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr.decode("utf-8", "replace")[-2000:]
    out = run.stdout.decode("utf-8")  # strictly valid UTF-8
    blocks = out.split("\n\n")
    assert blocks[-1] == ""
    blocks = blocks[:-1]
    bad = [b[:80] for b in blocks if b[:1] not in ("=", "?")]
    assert not bad, bad
    expected = sum(1 for line in lines if _words(line))
    assert len(blocks) == expected
    assert blocks[-1] == "=12345 2"
    assert blocks[-3] == "? line too long" and blocks[-2] == "? line too long"
    assert "internal error" not in out
    assert "Traceback" not in run.stderr.decode("utf-8", "replace")
    errors = sum(b.startswith("?") for b in blocks)
    assert 0.2 * expected < errors < 0.9 * expected  # the fuzz reaches both outcomes
