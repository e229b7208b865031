"""Training, evaluation and resume with tiny budgets (CartPole and Pong), exact resume on
CartPole, the CLI commands, and (slow) CartPole-v1 solved within 100k steps."""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import os
import signal
import threading
import time
from pathlib import Path

import cv2
import pytest
import torch
import yaml

from envs.atomic import atomic_file
from rlgo.cli import main
from rlgo.config import load_config, shipped_config
from selfplay.atari import DQNConfig, ReplayConfig, evaluate, train
from selfplay.atari.config import SMALL_MACHINE_CPUS, cpu_threads
from selfplay.atari.evaluate import point_streaks, record_video
from selfplay.atari.policy_file import load_policy
from selfplay.rundir import RunDirError, load_checkpoint_file

CARTPOLE = DQNConfig(
    env="CartPole-v1", total_steps=900, learning_starts=200, batch_size=16, optimizer="adam",
    lr=1e-3, n_step=3, target_update=100, train_every=2, double=True, prioritized=True,
    network="mlp", mlp_hidden=(32, 32), eps_decay_steps=500, eps_end=0.05, eval_every=0,
    checkpoint_every=300, log_every=300, num_envs=2, seed=3, device="cpu", torch_threads=1,
    replay=ReplayConfig(capacity=600))

PONG = DQNConfig(
    total_steps=160, learning_starts=64, batch_size=4, train_every=8, target_update=80,
    optimizer="adam", lr=1e-4, n_step=3, double=True, dueling=True, prioritized=True,
    eps_decay_steps=400, eval_every=0, checkpoint_every=80, log_every=80, num_envs=2,
    device="cpu", torch_threads=1, replay=ReplayConfig(capacity=120))


def _quiet(lines: list[str]):
    return lines.append


def _metrics(run: Path) -> list[dict]:
    with open(run / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_cartpole_trains_checkpoints_and_evaluates(tmp_path):
    lines: list[str] = []
    config = dataclasses.replace(CARTPOLE, eval_every=450, eval_episodes=2)
    result = train(config, None, tmp_path / "run", log=_quiet(lines))
    assert result.steps == 900 and result.updates == (900 - 200) // 2 + 1
    assert result.checkpoint.name == "ckpt-000000000900.pt"
    assert any("replay: 600 transitions" in line and "of RAM" in line for line in lines)
    assert any("eval at step 450" in line for line in lines)
    rows = _metrics(tmp_path / "run")
    assert {"steps_per_s", "epsilon", "loss", "eval_return_mean"} <= set(rows[0]) | set(rows[-1])
    scores = evaluate(tmp_path / "run", episodes=3, eps=0.0, log=_quiet(lines)).scores
    assert len(scores) == 3 and all(s >= 1 for s in scores)


def test_progress_lines_say_what_they_wait_for_and_no_metric_is_nan(tmp_path):
    """Issue 21: before the first game ends and before learning starts, the progress line said
    'return nan | loss nan | q nan' (and metrics.csv nan); now it says what it waits for. An
    Atari-style run directory has no empty games/ folder."""
    lines: list[str] = []
    config = dataclasses.replace(CARTPOLE, total_steps=300, log_every=2)
    train(config, None, tmp_path / "run", log=_quiet(lines))
    progress = [line for line in lines if line.startswith("[CartPole-v1] step ")]
    assert "return - (no game ended yet)" in progress[0]
    assert "loss - | q - (learning starts at replay 200)" in progress[0]
    assert "return - " not in progress[-1] and "loss - " not in progress[-1]
    assert not any("nan" in line for line in lines)
    rows = _metrics(tmp_path / "run")
    assert rows[0]["loss"] == "" and float(rows[-1]["loss"]) >= 0
    assert not any("nan" in value for row in rows for value in row.values())
    assert not (tmp_path / "run" / "games").exists()


def test_torch_threads_0_is_one_thread_on_a_small_machine(tmp_path, monkeypatch):
    """Issue 21: torch's default threads collapse Pong training on a busy 2-core machine, so
    torch_threads 0 means 1 thread on up to 4 CPUs (torch's default above); the run says so."""
    default = torch.get_num_threads()
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))
    assert (cpu_threads(0), cpu_threads(3)) == (default, 3)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(SMALL_MACHINE_CPUS)))
    assert (cpu_threads(0), cpu_threads(3)) == (1, 3)
    seen: list[tuple[str, int]] = []
    train(dataclasses.replace(CARTPOLE, total_steps=300, torch_threads=0), None,
          tmp_path / "run", log=lambda line: seen.append((line, torch.get_num_threads())))
    assert {n for _, n in seen} == {1} and torch.get_num_threads() == default
    assert seen[0][0].startswith("torch: 1 CPU thread (torch_threads 0: 1 on up to 4 CPUs")


def test_training_flushes_denormals(tmp_path):
    """Adam's moments decay into denormals, 10x slower on a CPU: training flushes them."""
    torch.set_flush_denormal(False)
    flushed: list[bool] = []

    def log(line: str) -> None:
        flushed.append((torch.tensor([1e-39]) * 1.0).item() == 0.0)

    train(dataclasses.replace(CARTPOLE, total_steps=300), None, tmp_path / "run", log=log)
    assert flushed and all(flushed)


def test_interrupted_and_resumed_run_equals_an_uninterrupted_one(tmp_path):
    config = dataclasses.replace(CARTPOLE, log_every=150)  # the cut run logs 750, past 600
    whole = train(config, None, tmp_path / "whole", log=_quiet([]))
    cut = train(config, None, tmp_path / "cut", save_replay=True, stop_after=750,
                log=_quiet([]))
    assert cut.steps == 750 and cut.checkpoint.name == "ckpt-000000000600.pt"
    lines: list[str] = []
    resumed = train(config, None, tmp_path / "cut", resume=True, save_replay=True,
                    log=_quiet(lines))
    assert any("resumed at step 600" in line and "replay of 600" in line for line in lines)
    _assert_same_run(whole, resumed)
    # the row the cut run logged at 750 (after its last checkpoint) is not there twice
    steps = [int(r["step"]) for r in _metrics(tmp_path / "cut")]
    assert steps == [int(r["step"]) for r in _metrics(tmp_path / "whole")]
    assert steps == list(range(150, 901, 150))
    assert len(list((tmp_path / "cut" / "replay").iterdir())) == 1  # only the newest kept


def _assert_same_run(whole, resumed) -> None:
    """The final checkpoints of two runs hold the same counters, weights, optimizer and RNGs."""
    a, b = (load_checkpoint_file(r.checkpoint) for r in (whole, resumed))
    assert (a["step"], a["episodes"]) == (b["step"], b["episodes"])
    for part in ("network", "target"):
        for key, value in a["learner"][part].items():
            assert torch.equal(value, b["learner"][part][key]), (part, key)
    state_a, state_b = a["learner"]["optimizer"]["state"], b["learner"]["optimizer"]["state"]
    for key in state_a:
        assert torch.equal(state_a[key]["exp_avg_sq"], state_b[key]["exp_avg_sq"])
    assert a["actor_rng"] == b["actor_rng"] and a["env"] == b["env"]


def test_resume_takes_a_new_lr_eps_end_and_total_steps_and_refuses_other_changes(tmp_path):
    train(CARTPOLE, None, tmp_path / "run", log=_quiet([]))
    with pytest.raises(RunDirError, match="differs .* in n_step"):
        train(dataclasses.replace(CARTPOLE, n_step=1), None, tmp_path / "run", resume=True)
    lines: list[str] = []
    longer = dataclasses.replace(CARTPOLE, lr=CARTPOLE.lr / 2, total_steps=1200, eps_end=0.2)
    result = train(longer, None, tmp_path / "run", resume=True, log=_quiet(lines))
    assert result.steps == 1200
    epsilons = {r["step"]: float(r["epsilon"]) for r in _metrics(tmp_path / "run") if r["epsilon"]}
    assert epsilons["900"] == pytest.approx(0.05) and epsilons["1200"] == pytest.approx(0.2)
    assert f"resume: lr changed from {CARTPOLE.lr} to {CARTPOLE.lr / 2} (written to " \
           f"config.yaml)" in lines
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["total_steps"] == 1200


def test_a_run_from_before_an_option_existed_resumes_with_its_default(tmp_path):
    """config.yaml of a run started before `noisy` and `distributional` existed (the keys
    missing): it ran with their defaults, so it resumes; asking for noisy nets is a change."""
    train(CARTPOLE, None, tmp_path / "run", log=_quiet([]))
    config_file = tmp_path / "run" / "config.yaml"
    saved = yaml.safe_load(config_file.read_text())
    for key in ("noisy", "distributional", "atoms"):
        del saved[key]
    config_file.write_text(yaml.safe_dump(saved, sort_keys=False))
    with pytest.raises(RunDirError, match="differs .* in noisy"):
        train(dataclasses.replace(CARTPOLE, noisy=True), None, tmp_path / "run", resume=True)
    longer = dataclasses.replace(CARTPOLE, total_steps=CARTPOLE.total_steps + 100)
    assert train(longer, None, tmp_path / "run", resume=True,
                 log=_quiet([])).steps == longer.total_steps


def test_a_run_killed_before_its_first_checkpoint_resumes_from_step_0_without_old_rows(
        tmp_path):
    config = dataclasses.replace(CARTPOLE, log_every=150, checkpoint_every=600)
    train(config, None, tmp_path / "run", stop_after=450, log=_quiet([]))
    assert [r["step"] for r in _metrics(tmp_path / "run")] == ["150", "300", "450"]
    lines: list[str] = []
    train(config, None, tmp_path / "run", resume=True, stop_after=300, log=_quiet(lines))
    assert any("has no checkpoint yet; starting from step 0" in line for line in lines)
    assert [r["step"] for r in _metrics(tmp_path / "run")] == ["150", "300"]


def test_ctrl_c_checkpoints_the_step_it_arrived_in_and_resumes_exactly(tmp_path):
    """SIGINT mid-run (between the checkpoints at 600 and 900): the run ends at the end of that
    step with a checkpoint there, puts the handlers back, and resumes as if never stopped."""
    whole = train(CARTPOLE, None, tmp_path / "whole", log=_quiet([]))
    config = dataclasses.replace(CARTPOLE, log_every=250)  # a progress line at step 750
    handlers = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)]

    def ctrl_c_at_750(line: str) -> None:
        if "step 750/" in line:
            signal.raise_signal(signal.SIGINT)

    cut = train(config, None, tmp_path / "cut", save_replay=True, log=ctrl_c_at_750)
    assert (cut.stopped_by, cut.steps, cut.checkpoint.name) == (
        "SIGINT", 750, "ckpt-000000000750.pt")
    assert [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)] == handlers
    resumed = train(config, None, tmp_path / "cut", resume=True, save_replay=True,
                    log=_quiet([]))
    assert resumed.stopped_by is None
    _assert_same_run(whole, resumed)


def test_pong_smoke_train_and_resume_with_new_games(tmp_path):
    lines: list[str] = []
    first = train(PONG, "ALE/Pong-v5", tmp_path / "pong", save_replay=True, stop_after=80,
                  log=_quiet(lines))
    assert first.steps == 80 and first.updates == (80 - 64) // 8 + 1
    result = train(PONG, "Pong", tmp_path / "pong", resume=True, save_replay=True,
                   log=_quiet(lines))
    assert any("new games started" in line and "replay of 80" in line for line in lines)
    assert result.steps == 160 and result.updates == (160 - 64) // 8 + 1
    state = load_checkpoint_file(result.checkpoint)
    assert state["env_id"] == "Pong" and state["obs_shape"] == [4, 84, 84]
    network, config, _ = load_policy(tmp_path / "pong", torch.device("cpu"))
    assert config.dueling and network(torch.zeros(1, 4, 84, 84)).shape == (1, 6)


@pytest.fixture(scope="module")
def pong_run(tmp_path_factory) -> Path:
    """A Pong run of 40 steps (one update): a checkpoint to evaluate and film."""
    run = tmp_path_factory.mktemp("pong") / "run"
    train(dataclasses.replace(PONG, total_steps=40, learning_starts=40, checkpoint_every=40),
          "Pong", run, log=_quiet([]))
    return run


def test_eval_threads_apply_while_playing_and_are_restored(pong_run):
    before = torch.get_num_threads()
    seen: list[tuple[str, int]] = []
    evaluate(pong_run, episodes=1, eps=1.0, device="cpu", threads=1,
             log=lambda line: seen.append((line, torch.get_num_threads())))
    assert [n for line, n in seen if line.startswith("game 1/1: ")] == [1]
    assert torch.get_num_threads() == before


def test_video_of_a_short_clip_is_h264_that_browsers_play(pong_run, tmp_path, monkeypatch):
    """Issue 21: the .mp4 was MPEG-4 Part 2 (OpenCV's 'mp4v'), which no browser plays; it is
    H.264 in yuv420p with its index (moov) before the frames (mdat), so it streams."""
    network, config, _ = load_policy(pong_run, torch.device("cpu"))
    lines: list[str] = []
    clip = tmp_path / "clip.mp4"
    assert record_video(network, "Pong", config, 0.05, 0, torch.device("cpu"), clip,
                        _quiet(lines), max_steps=20)
    data = clip.read_bytes()
    assert data[4:8] == b"ftyp" and b"avc1" in data and b"mp4v" not in data
    assert 0 < data.index(b"moov") < data.index(b"mdat")
    video = cv2.VideoCapture(str(clip))
    codec = int(video.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little")
    assert (codec, video.get(cv2.CAP_PROP_FRAME_COUNT)) == (b"h264", 21)
    assert video.read()[1].shape == (210, 160, 3)
    video.release()
    assert not record_video(network, "Pong", config, 0.05, 0, torch.device("cpu"),
                            tmp_path / "clip.webm", _quiet(lines))
    assert "use .mp4, .avi or .gif" in lines[-1]
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if
                        name == "imageio_ffmpeg" else real_find_spec(name, *a))
    assert not record_video(network, "Pong", config, 0.05, 0, torch.device("cpu"),
                            tmp_path / "again.mp4", _quiet(lines))
    assert lines[-1] == ("no video: .mp4 needs the Python package imageio-ffmpeg (pip install "
                         "imageio-ffmpeg)")


def _cli(argv: list[str]) -> int:
    return main(["atari", *argv])


def test_a_first_run_killed_while_writing_its_config_resumes_from_the_start(tmp_path, capsys):
    """Issue 22, finding 7: killed inside config.yaml's atomic write, a first run leaves its
    folders and a half-written temporary file but no config.yaml; --resume starts it afresh
    (and a folder that never held a run still says so)."""
    run = tmp_path / "run"
    for folder in ("checkpoints", "games"):
        (run / folder).mkdir(parents=True)
    killed = atomic_file(run / "config.yaml")  # entered, never left (nor collected)
    killed.__enter__().write(b"env: CartPo")
    quick = ["--set", "total_steps=200", "--set", "learning_starts=100", "--set",
             "eval_every=0", "--set", "checkpoint_every=200", "--set", "log_every=100"]
    assert _cli(["train", "--config", "atari/cartpole", *quick, "--run-dir", str(run),
                 "--resume"]) == 0
    out = capsys.readouterr().out
    assert "holds no config.yaml (its first attempt was stopped before writing it)" in out
    assert "ckpt-000000000200.pt" in out and not list(run.rglob(".*.tmp"))
    assert yaml.safe_load((run / "config.yaml").read_text())["total_steps"] == 200
    (tmp_path / "empty").mkdir()
    assert _cli(["train", "--config", "atari/cartpole", "--run-dir", str(tmp_path / "empty"),
                 "--resume"]) == 2
    assert "holds no run (no config.yaml); start it without --resume" in \
        capsys.readouterr().err


def test_cli_train_eval_and_user_errors(tmp_path, capsys):
    run = str(tmp_path / "run")
    quick = ["--set", "total_steps=200", "--set", "learning_starts=100", "--set",
             "eval_every=0", "--set", "checkpoint_every=200", "--set", "log_every=100"]
    assert _cli(["train", "--config", "atari/cartpole", *quick,
                 "--run-dir", run]) == 0
    assert "ckpt-000000000200.pt" in capsys.readouterr().out
    assert _cli(["train", "--env", "CartPole-v1", *quick, "--run-dir", run]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert _cli(["train", "--run-dir", run, "--resume"]) == 0  # config and env from the run
    assert "resumed at step 200" in capsys.readouterr().out
    assert _cli(["eval", "--checkpoint", run, "--episodes", "2", "--eps", "0"]) == 0
    assert "CartPole-v1: 2 episodes, eps 0.0: mean" in capsys.readouterr().out
    assert _cli(["train", "--env", "Pongg", "--run-dir", str(tmp_path / "x")]) == 2
    assert "did you mean Pong" in capsys.readouterr().err
    assert _cli(["eval", "--checkpoint", run, "--env", "Pong"]) == 2
    assert "cannot play Pong" in capsys.readouterr().err
    assert _cli(["eval", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert _cli(["train", "--resume"]) == 2
    assert _cli(["train", "--env", "Pong", "--set", "replay.capacity=1000000000000",
                 "--set", "device=cpu", "--run-dir", str(tmp_path / "big")]) == 2
    assert "lower the capacity" in capsys.readouterr().err


def test_cli_sigterm_stops_with_a_checkpoint_and_the_resume_command(tmp_path, capsys):
    """What a scheduler's SIGTERM (or Ctrl-C) does to `rlgo atari train`: a checkpoint at the
    current step, the command to continue, and exit status 128 + 15."""

    before = signal.getsignal(signal.SIGTERM)  # SIG_DFL, or Ray's when a test started Ray

    def sigterm_once_handled() -> None:
        deadline = time.monotonic() + 60
        while signal.getsignal(signal.SIGTERM) == before:  # until train() listens
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    run = str(tmp_path / "run")
    sender = threading.Thread(target=sigterm_once_handled)
    sender.start()
    code = _cli(["train", "--config", "atari/cartpole", "--set", "device=cpu",
                 "--set", "total_steps=10000000", "--set", "eval_every=0", "--run-dir", run])
    sender.join()
    out = capsys.readouterr()
    assert code == 128 + signal.SIGTERM and signal.getsignal(signal.SIGTERM) == before
    assert "SIGTERM: stopping after this step with a checkpoint" in out.err
    assert f"continue with: rlgo atari train --run-dir {run} --resume" in out.out
    step = int(out.out.split("stopped: ")[1].split(" steps")[0].replace(",", ""))
    assert (Path(run) / "checkpoints" / f"ckpt-{step:012d}.pt").is_file()


def test_cli_eval_plays_whole_pong_games(pong_run, capsys):
    # eps 1 skips the network (the CartPole and video tests use it): this checks the protocol
    assert _cli(["eval", "--checkpoint", str(pong_run), "--episodes", "2", "--eps", "1",
                 "--device", "cpu", "--points"]) == 0
    out = capsys.readouterr().out
    assert "Pong: 2 episodes, eps 1.0" in out and "human-normalised score" in out
    assert "Wang et al. 2016" in out  # the baseline set: envs.atari.baselines
    # a line per game as it ends (a strong agent's 30 games take minutes), then the summary
    lines = [line.split(": ")[1].split() for line in out.splitlines() if line.startswith("game ")]
    games = [float(line[0]) for line in lines]
    assert len(games) == 2 and "game 2/2" in out and all(-21 <= g <= 21 for g in games)
    assert f"mean {sum(games) / 2:.2f}, std" in out
    # --points: each game's points in order add up to its score; a whole game reaches 21
    points = [line[-1] for line in lines]
    assert [p.count("+") - p.count("-") for p in points] == games
    assert all(max(p.count("+"), p.count("-")) == 21 for p in points)
    won, lost = sum(p.count("+") for p in points), sum(p.count("-") for p in points)
    assert f"points: {won} won, {lost} lost; lost " in out and "as a game's first" in out


def test_point_streaks_count_each_point_by_the_one_before():
    assert point_streaks(["++-", "-+--"]) == (
        "points: 3 won, 4 lost; lost after a won point 67% (2/3), after a lost point 50% (1/2), "
        "as a game's first 50% (1/2)")
    assert point_streaks(["", ""]) == "points: none scored"


def test_nature_config_is_the_dataclass_default():
    nature = load_config(DQNConfig, shipped_config("atari/dqn_nature"))
    assert dataclasses.replace(nature, grad_clip=10.0) == DQNConfig()
    assert nature.replay.capacity == 1_000_000 and nature.optimizer == "rmsprop"


def test_pong_config_is_the_longest_run_with_adam_eps_1e8_and_eps_end_005():
    """configs/atari/pong.yaml = the longest Pong run of docs/results/pong.md (its --set list)
    with Adam's epsilon at 1e-8 and exploration ending at 0.05."""
    readme_run = ["env=Pong", "total_steps=2000000", "double=true", "dueling=true",
                  "prioritized=true", "n_step=3", "optimizer=adam", "lr=0.0001", "train_every=2",
                  "learning_starts=10000", "target_update=2000", "eps_end=0.01",
                  "eps_decay_steps=100000", "eval_every=25000", "eval_episodes=5", "num_envs=4",
                  "replay.capacity=100000", "checkpoint_every=25000", "adam_eps=1.5e-4"]
    pong = load_config(DQNConfig, shipped_config("atari/pong"))
    assert pong == dataclasses.replace(load_config(DQNConfig, overrides=readme_run),
                                       adam_eps=1e-8, eps_end=0.05)


@pytest.mark.slow
def test_cartpole_is_solved_within_100k_steps(tmp_path):
    config = load_config(DQNConfig, shipped_config("atari/cartpole"))
    assert config.total_steps <= 100_000 and config.eval_episodes == 20
    train(config, None, tmp_path / "run", log=_quiet([]))
    rows = _metrics(tmp_path / "run")
    evals = [float(r["eval_return_mean"]) for r in rows if r.get("eval_return_mean")]
    assert evals and max(evals) >= 475, evals
