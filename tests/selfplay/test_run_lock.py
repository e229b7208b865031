"""One process at a time per run directory (issue 22, finding 1): a second run on a live
directory, whether `--resume` or a fresh start, is one line and exit status 2, naming the
holder, and writes nothing; every run kind takes the lock; a dead holder's lock is taken over.

The two-process tests run the first run as a real `rlgo` process, freeze it (SIGSTOP) once
it has checkpointed and logged, and start the second one in this process through
rlgo.cli.main."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agents.alphago.nets.networks import WEIGHTS_DIR
from envs.go import Position, Rules
from envs.go.sgf import record_from_position
from envs.go.sgf_files import save_sgf_file
from rlgo.cli import main
from selfplay.atari import DQNConfig, train
from selfplay.atari.apex import ApexSettings, train_distributed
from selfplay.go.dataset import build_dataset
from selfplay.go.loop import SelfPlayConfig, run_selfplay
from selfplay.go.rl import RLConfig, run_rl
from selfplay.go.teacher import TeacherSettings, run_generation
from selfplay.go.train_rollout import RolloutTrainConfig, train_rollout
from selfplay.go.train_sl import SLConfig, train_sl
from selfplay.go.value import ValueConfig, run_value
from selfplay.rundir import LOCK_FILE, RunDir, RunDirError, RunLock
from selfplay.runtime import RuntimeSettings

ROOT = Path(__file__).resolve().parents[2]
HOLDER = f"pid {{}} on host {socket.gethostname()}"

ATARI = ["atari", "train", "--config", "atari/cartpole", "--set", "total_steps=100000000",
         "--set", "learning_starts=50", "--set", "batch_size=8", "--set", "mlp_hidden=[8]",
         "--set", "log_every=50", "--set", "checkpoint_every=100", "--set", "eval_every=0"]
SELFPLAY = ["go", "selfplay", "--config", str(ROOT / "configs/go/selfplay_9x9.yaml"),
            "--local", "--games", "100000", "--quiet", "--set", "size=5", "--set", "komi=0.5",
            "--set", "visits=4", "--set", "min_replay=16", "--set", "batch_size=8",
            "--set", "checkpoint_every=1", "--set", "progress_every=0.1"]
SHORT = {"atari": ["--set", "total_steps=200"], "go": ["--games", "1"]}  # if not refused


def _files(run: Path) -> dict[str, tuple[int, int]]:
    """Every file under `run`: (size, mtime in ns)."""
    return {str(p.relative_to(run)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(run.rglob("*")) if p.is_file()}


def _wait(proc: subprocess.Popen, ready, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, f"the first run never {what}"
        time.sleep(0.05)


def _second_run_is_refused(tmp_path: Path, argv: list[str], capsys) -> None:
    """Start `rlgo ARGV --run-dir RUN` as a process; once it holds the lock and has written a
    checkpoint and metrics, freeze it and run `rlgo ARGV` again here, fresh and --resume:
    both are refused in one line naming its pid, and its files are as it left them. Then
    kill it: its lock is taken over."""
    run = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "rlgo.cli", *argv, "--run-dir", str(run)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait(first, lambda: (run / LOCK_FILE).is_file() and (run / LOCK_FILE).read_text()
              .startswith(f"{first.pid} "), "took the lock")
        _wait(first, lambda: list(run.glob("checkpoints/ckpt-*.pt"))
              and (run / "metrics.csv").is_file(), "checkpointed")
        first.send_signal(signal.SIGSTOP)  # a live run, frozen mid-way
        before = _files(run)
        second = [*argv, *SHORT[argv[0]], "--run-dir", str(run)]
        assert main([*second, "--resume"]) == 2
        assert main(second) == 2  # a fresh start on it too
        err = capsys.readouterr().err.splitlines()
        assert err == [f"rlgo: error: {run} is in use by another run "
                       f"({HOLDER.format(first.pid)}); wait for it to end or stop it, or "
                       f"choose another directory"] * 2
        assert _files(run) == before  # nothing written, nothing truncated
    finally:
        first.kill()  # SIGKILL (it works on a stopped process): the kernel drops its lock
        first.wait()
    with RunLock(run, create=False):
        assert (run / LOCK_FILE).read_text().startswith(f"{os.getpid()} ")


def test_a_second_atari_run_on_a_live_directory_is_refused(tmp_path, capsys):
    _second_run_is_refused(tmp_path, ATARI, capsys)


def test_a_second_selfplay_run_on_a_live_directory_is_refused(tmp_path, capsys):
    _second_run_is_refused(tmp_path, SELFPLAY, capsys)


# ---- every run kind takes the lock before anything else ------------------------------------

HOLD = textwrap.dedent("""
    import fcntl, os, socket, sys
    fd = os.open(os.path.join(sys.argv[1], ".lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, f"{os.getpid()} {socket.gethostname()}\\n".encode())
    print("held", flush=True)
    sys.stdin.read()
""")


@pytest.fixture
def held(tmp_path):
    """A run directory locked by another process (a plain flock, as a live run holds it),
    with a run's config.yaml and checkpoints/ (so a --resume gets as far as the lock)."""
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text("{}\n")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    assert holder.stdout.readline() == b"held\n"
    yield run, holder.pid
    holder.stdin.close()
    holder.wait()


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A dataset of two short 5x5 games (train-sl and train-rollout read it first)."""
    root = tmp_path_factory.mktemp("games")
    for game in range(2):
        position = Position.new(Rules(size=5, komi=0.5)).play(6 + game).play(12).play(18)
        save_sgf_file(root / f"g{game}.sgf", record_from_position(position, result="B+1"))
    build_dataset(root, root / "data", planes="simple", size=5, val_fraction=0.5, workers=1,
                  progress=None)
    return root / "data"


CARTPOLE = DQNConfig(env="CartPole-v1", network="mlp")
POLICY = str(WEIGHTS_DIR / "policy_9x9.pt")
LOCAL = RuntimeSettings(backend="local")
STARTS = {  # (run directory, resume, dataset) -> a run of each kind
    "atari": lambda run, resume, data: train(CARTPOLE, None, run, resume=resume),
    "apex": lambda run, resume, data: train_distributed(
        CARTPOLE, None, run, ApexSettings(runtime=LOCAL), resume=resume),
    "selfplay": lambda run, resume, data: run_selfplay(SelfPlayConfig(size=5, runtime=LOCAL),
                                                       run, resume=resume),
    "gen-data": lambda run, resume, data: run_generation(TeacherSettings(size=5), run, 1),
    "train-sl": lambda run, resume, data: train_sl(SLConfig(layers=1, filters=4), data, run,
                                                   resume=resume),
    "train-rollout": lambda run, resume, data: train_rollout(RolloutTrainConfig(), data, run,
                                                             resume=resume),
    "train-rl": lambda run, resume, data: run_rl(RLConfig(init=POLICY), run, resume=resume),
    "train-value": lambda run, resume, data: run_value(ValueConfig(policy=POLICY), run,
                                                       resume=resume),
    "RunDir": lambda run, resume, data: RunDir(run, {}, resume=resume),
}


@pytest.mark.parametrize("resume", [False, True], ids=["fresh", "resume"])
@pytest.mark.parametrize("kind", STARTS)
def test_every_run_kind_is_refused_on_a_locked_directory_before_it_writes(held, data, kind,
                                                                          resume):
    run, pid = held
    before = _files(run)
    with pytest.raises(RunDirError, match=rf"in use by another run \({HOLDER.format(pid)}\)"):
        STARTS[kind](run, resume, data)
    assert _files(run) == before


def _locked(run: Path) -> bool:
    """Whether some open file holds RUN/.lock's flock (this process's own RunLock counts:
    flock belongs to an open file, not to a process)."""
    fd = os.open(run / LOCK_FILE, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_the_lock_is_reentrant_in_a_process_and_only_its_taker_releases_it(tmp_path):
    """A driver holds the lock for its whole call; the RunDir it opens (again on each
    recovery attempt) finds it held and leaves it held when it closes."""
    run = tmp_path / "run"
    with pytest.raises(RunDirError, match="holds no run"):
        RunLock(run, create=False)
    assert not run.exists()
    with RunLock(run) as outer:
        RunDir(run, {"lr": 0.1}).close()
        with RunDir(run, {"lr": 0.1}, resume=True) as inner:
            assert outer.owned and not inner.lock.owned
        assert _locked(run)
    assert not _locked(run)
    with RunDir(run, {"lr": 0.1}, resume=True) as alone:  # a RunDir on its own takes it
        assert alone.lock.owned and _locked(run)
    assert not _locked(run)
