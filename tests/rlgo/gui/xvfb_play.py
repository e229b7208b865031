"""Play `make play` as a user would: a real X server (Xvfb), the real window, xdotool clicks.

A manual end-to-end check, not part of the test suite (it needs Xvfb, xdotool, xwininfo and
ImageMagick: apt-get install xvfb xdotool x11-utils imagemagick). From the repo root:

    .venv/bin/python tests/rlgo/gui/xvfb_play.py

It clicks 25 points (occupied or illegal ones just show a message), passes until the game
ends, accepts the score, quits with q, and leaves screenshots in /tmp/xplay-*.png.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DISPLAY = ":77"
CLICKS = ("E5 C3 G7 C7 G3 D5 F5 E3 E7 D4 F4 D6 F6 B5 H5 B4 H4 B6 H6 C4 G4 C6 G6 E2 E8").split()


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ["SDL_VIDEODRIVER"] = "dummy"  # only for importing the layout in this process
    from envs.go import from_gtp
    from rlgo.gui.layout import Layout

    env = {k: v for k, v in os.environ.items() if k != "SDL_VIDEODRIVER"}
    env["DISPLAY"] = DISPLAY
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "1280x900x24"],
                            stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    with open("/tmp/xplay.out", "w") as log:
        game = subprocess.Popen(["make", "-s", "play"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)

    def run(*argv: str) -> str:
        return subprocess.run(argv, env=env, capture_output=True, text=True).stdout

    def shot(name: str) -> None:
        subprocess.run(f"xwd -root -display {DISPLAY} | convert xwd:- /tmp/{name}.png",
                       shell=True, check=False)

    found = None
    for _ in range(120):  # set-up may take a while on the first run
        found = re.search(r'(0x[0-9a-f]+) "rlgo: play Go".*?(\d+)x(\d+)\+(-?\d+)\+(-?\d+)',
                          run("xwininfo", "-root", "-tree"))
        if found:
            break
        time.sleep(0.5)
    if not found:
        print("no window appeared; see /tmp/xplay.out")
        return 1
    window = str(int(found.group(1), 16))
    width, height, x0, y0 = map(int, found.groups()[1:])
    grid = Layout(width, height, 9).grid
    time.sleep(2)
    for i, vertex in enumerate(CLICKS):
        x, y = grid.point_xy(from_gtp(vertex, 9))
        run("xdotool", "mousemove", "--sync", str(x0 + x), str(y0 + y), "click", "1")
        time.sleep(3.0)  # the engine thinks 2 s a move
        if i == 5:
            shot("xplay-mid")
    for keys in ["p"] * 6 + ["Return"]:
        run("xdotool", "windowfocus", window, "key", keys)
        time.sleep(3.5 if keys == "p" else 1.0)
    shot("xplay-end")
    run("xdotool", "windowfocus", window, "key", "q")
    time.sleep(2)
    code = game.poll()
    print(f"window {width}x{height}; game exit code {code}; screenshots /tmp/xplay-*.png")
    game.kill()
    xvfb.kill()
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
