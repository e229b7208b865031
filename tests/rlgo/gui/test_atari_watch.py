"""`rlgo atari watch` under SDL's dummy video driver (conftest.py sets it): an untrained
checkpoint plays in the window, the frames shown go to a browser-playable mp4, Esc stops, and
without --checkpoint the shipped Pong network plays."""

from __future__ import annotations

import cv2
import numpy as np
import pygame
import pytest

from rlgo.cli import main
from rlgo.gui.atari_watch import WatchError, watch
from selfplay.atari import DQNConfig, ReplayConfig, train
from selfplay.atari.evaluate import VIDEO_FPS

TINY_PONG = DQNConfig(total_steps=40, learning_starts=40, batch_size=4, train_every=8,
                      target_update=80, optimizer="adam", lr=1e-4, eps_decay_steps=400,
                      eval_every=0, checkpoint_every=40, log_every=40, num_envs=2,
                      device="cpu", torch_threads=1, replay=ReplayConfig(capacity=120))


@pytest.fixture(scope="module")
def pong_run(tmp_path_factory):
    """A Pong run of 40 steps (one update): any checkpoint plays, trained or not."""
    run = tmp_path_factory.mktemp("watch") / "run"
    train(TINY_PONG, "Pong", run, log=lambda line: None)
    return run


def test_watch_shows_the_game_and_films_what_it_shows(pong_run, tmp_path, monkeypatch):
    shown: list[np.ndarray] = []
    flip = pygame.display.flip

    def grab() -> None:  # what the window holds as each frame is put up
        shown.append(pygame.surfarray.array3d(pygame.display.get_surface()))
        flip()

    monkeypatch.setattr(pygame.display, "flip", grab)
    lines: list[str] = []
    clip = tmp_path / "watch.mp4"
    result = watch(pong_run, episodes=2, fps=0, device="cpu", video=clip, max_steps=12,
                   log=lines.append)
    assert (result.env_id, len(result.scores), result.frames) == ("Pong", 2, 24)
    assert not result.stopped and lines[:2] == ["game 1/2: 0", "game 2/2: 0"]
    assert len(shown) == 24 and shown[-1].shape == (480, 630, 3)  # 160x210 at 3x, [W, H, 3]
    assert shown[-1].std() > 0  # the court, not a blank window
    data = clip.read_bytes()
    assert data[4:8] == b"ftyp" and b"avc1" in data  # H.264: what browsers play
    video = cv2.VideoCapture(str(clip))
    assert video.get(cv2.CAP_PROP_FRAME_COUNT) == 24
    assert video.get(cv2.CAP_PROP_FPS) == VIDEO_FPS
    video.release()


def test_escape_stops_and_bad_videos_are_refused_before_a_window_opens(pong_run, tmp_path,
                                                                       monkeypatch):
    real_get = pygame.event.get
    monkeypatch.setattr(pygame.event, "get", lambda: [
        *real_get(), pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE)])
    result = watch(pong_run, episodes=3, fps=0, device="cpu", log=lambda line: None)
    assert result.stopped and result.scores == [] and result.frames == 1
    monkeypatch.setattr(pygame.event, "get", real_get)
    with pytest.raises(WatchError, match="use .mp4, .avi or .gif"):
        watch(pong_run, video=tmp_path / "clip.webm")
    assert not (tmp_path / "clip.webm").exists()


def test_cli_watch_plays_and_reports_errors(pong_run, tmp_path, capsys):
    assert main(["atari", "watch", "--checkpoint", str(pong_run), "--fps", "0",
                 "--max-steps", "5"]) == 0
    assert "game 1/1: 0" in capsys.readouterr().out
    assert main(["atari", "watch", "--checkpoint", str(tmp_path / "none")]) == 2
    assert "rlgo: error:" in capsys.readouterr().err


def test_cli_watch_plays_the_shipped_pong_network_by_default(capsys):
    assert main(["atari", "watch", "--fps", "0", "--max-steps", "5", "--eps", "0"]) == 0
    assert "game 1/1: 0" in capsys.readouterr().out
