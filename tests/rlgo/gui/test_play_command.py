"""`rlgo go play`: its options, the no-display exit, and a run that opens the window and quits."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import pygame
import pytest

from envs.go import WHITE, GoError, Position, Rules, from_gtp
from envs.go.sgf import record_from_position
from envs.go.sgf_files import save_sgf_file
from rlgo.cli import main
from rlgo.commands import play
from rlgo.gui.app import App


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rlgo go")
    play.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["play", *argv])


def test_options():
    args = parse()
    assert (args.size, args.color, args.komi, args.handicap, args.time, args.engine) == (
        9, "black", None, 0, 2.0, None)
    args = parse("--size", "13", "--color", "white", "--komi", "6.5", "--handicap", "3",
                 "--time", "1.5", "--engine", "gnugo --mode gtp", "--seed", "4", "--load",
                 "game.sgf")
    assert (args.size, args.color, args.komi, args.handicap, args.time) == (
        13, "white", 6.5, 3, 1.5)
    assert args.engine == "gnugo --mode gtp" and args.seed == 4 and args.load == "game.sgf"
    assert args.func is play.run
    with pytest.raises(SystemExit):
        parse("--time", "0")


def test_no_display_is_one_line_and_status_2(monkeypatch, capsys):
    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["go", "play", "--player", "random"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlgo: error: no display") and err.count("\n") == 1


def test_no_video_device_is_one_line_and_status_2(monkeypatch, capsys):
    monkeypatch.setenv("SDL_VIDEODRIVER", "no-such-driver")
    assert main(["go", "play", "--player", "random"]) == 2
    assert capsys.readouterr().err.startswith("rlgo: error: cannot open a window")


def test_run_opens_the_window_and_quits(monkeypatch, tmp_path):
    seen = {}

    def one_frame_then_quit(self, fps=30):
        seen["game"] = self.game
        self.step([pygame.event.Event(pygame.QUIT)])

    monkeypatch.setattr(App, "run", one_frame_then_quit)
    game = Position.new(Rules(size=9, komi=7.5)).play(from_gtp("E5", 9)).play(from_gtp("C3", 9))
    path = tmp_path / "game.sgf"
    save_sgf_file(path, record_from_position(game))
    args = parse("--player", "random", "--color", "white", "--load", str(path),
                 "--games-dir", str(tmp_path))
    assert play.run(args) == 0
    loaded = seen["game"]
    assert loaded.human == WHITE and loaded.position.moves() == game.moves()


def test_user_errors_raise_go_errors(tmp_path):
    with pytest.raises(GoError, match="handicap"):
        play.run(parse("--player", "random", "--size", "5", "--handicap", "2"))
    with pytest.raises(GoError, match="missing.sgf"):
        play.run(parse("--player", "random", "--load", str(tmp_path / "missing.sgf")))


QUIT_MID_MOVE = """
import sys, time, pygame
from rlgo.cli import main
from rlgo.gui.app import App
step = App.step
def quit_mid_move(self, events=None):
    if self.game.thinking and self.frames > 3:
        print("quit", time.time(), flush=True)
        events = [pygame.event.Event(pygame.KEYDOWN, key=pygame.K_q, mod=0)]
    return step(self, events)
App.step = quit_mid_move
sys.exit(main(sys.argv[1:]))
"""


def test_q_while_the_engine_thinks_ends_the_process_at_once(tmp_path):
    """The whole `rlgo go play` process, not just the window: it exits within a couple of
    seconds of q although the engine had 30 s for its move (a generous bound, not a timing)."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    proc = subprocess.run(
        [sys.executable, "-c", QUIT_MID_MOVE, "go", "play", "--player", "mcts", "--threads",
         "2", "--color", "white", "--time", "30", "--games-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120)
    ended = time.time()
    assert proc.returncode == 0, proc.stderr
    quit_at = float(proc.stdout.split("quit", 1)[1].split()[0])
    assert ended - quit_at < 4.0
