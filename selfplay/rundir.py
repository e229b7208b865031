"""The run directory: everything a training run writes, and what it resumes from.

    RUN/
      .lock                the run's lock (RunLock): the pid and host of the process using it
      config.yaml          the resolved config (written once; a resumed run checks it)
      checkpoints/         ckpt-000001000.pt ... (atomic; the newest few are kept)
      metrics.csv          one row per logged step (any keys; new keys extend the header)
      tb/                  TensorBoard event files (when tensorboard is installed)
      games/               game records (SGF for Go; made by the first one written)
      replay/              optional replay snapshots

Checkpoints are written to a temporary file in the same folder, fsynced, and renamed over the
final name, so a run killed at any instant leaves either the old checkpoint or the new one,
never half of one; a resumed run deletes the temporary files such a kill leaves behind.
Loading checks the file and says which one is broken. One process at a time uses a run
directory: a second one (a second --resume, or a fresh start before the first checkpoint) is
refused by RunLock before it writes anything.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import re
import socket
from pathlib import Path
from typing import Any

import torch
import yaml

from envs.atomic import atomic_write_bytes, remove_partial_files
from envs.checks import archive_problem
from envs.errors import UserError

CHECKPOINT = re.compile(r"ckpt-(\d+)\.pt$")


class RunDirError(UserError, ValueError):
    """A run directory that cannot be used as asked (clear message, nothing overwritten)."""


LOCK_FILE = ".lock"
_HELD: dict[str, int] = {}  # the run directories this process holds (real path -> lock fd)


class RunLock:
    """The lock that lets one process at a time use a run directory, held for the run's life.

    A second run on a live directory would write the same checkpoint names and game numbers
    and rewrite its metrics.csv; instead it gets a RunDirError naming the holder's pid and
    host, before it writes anything. The lock is flock(2) on RUN/.lock: the kernel drops it
    when the holder's process ends however it ends (SIGKILL included), so the lock of a dead
    run is simply taken over; the pid and host in the file only tell the user who holds it.

    Within one process it is re-entrant: a driver holds it for its whole call and the RunDir
    it opens (again on each recovery attempt) finds it held. Only the RunLock that took it
    lets it go, in `release()` (or at the end of a `with` block, or when the process ends).

    Over NFS, Linux carries flock as a byte-range lock to the server, so two hosts exclude
    each other only where the server keeps locks (mounts with `nolock` or `local_lock=flock`
    do not): on such shares run each directory from one host at a time.

    create: make the directory when it is missing; otherwise a missing one is a RunDirError.
    """

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_dir():
            raise RunDirError(f"--resume: {self.path} holds no run (no such directory)")
        self.path.mkdir(parents=True, exist_ok=True)
        self._key = os.path.realpath(self.path)
        self.owned = self._key not in _HELD
        if self.owned:
            _HELD[self._key] = _take(self.path / LOCK_FILE)

    def release(self) -> None:
        """Unlock, if this RunLock took the lock (the holder's pid stays in the file)."""
        if self.owned and self._key in _HELD:
            os.close(_HELD.pop(self._key))
        self.owned = False

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _take(lock_file: Path) -> int:
    """Lock `lock_file` (made if missing) and write this process's pid and host into it;
    the open descriptor that holds the lock. RunDirError naming the holder if it is taken."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(os.pread(fd, 300, 0))
        os.close(fd)
        raise RunDirError(f"{lock_file.parent} is in use by another run ({holder}); wait for "
                          f"it to end or stop it, or choose another directory") from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
    return fd


def _holder(text: bytes) -> str:
    """'pid 1234 on host NAME' from a lock file's 'PID HOST' (cut and made printable: the
    file may be anything)."""
    pid, _, host = text.decode(errors="replace").strip().partition(" ")
    host = "".join(c if c.isprintable() else "?" for c in host[:80])
    if not pid.isdigit():  # written by the holder a moment after it took the lock
        return "its pid is not written yet"
    return f"pid {pid} on host {host or '?'}"


class RunDir:
    """One run's folder, locked by RunLock while it is open (until `close()`; a `with` block
    closes it). `resume=False` refuses a folder that already holds checkpoints (so a
    finished run is never overwritten by accident); `resume=True` requires the same config,
    except for the keys in `changeable` (settings a trainer can take up mid-run, such as the
    learning rate or total_steps): those changes are written to config.yaml and listed in
    `changes` as (key, old, new). `defaults` (the config's default values) let a run started
    before an option existed resume: its config.yaml lacks the key, and it ran with the
    default. A run whose first attempt was stopped before it wrote its
    config.yaml (it holds no checkpoint) resumes from the start, as a fresh run."""

    def __init__(self, path: str | Path, config: dict[str, Any], resume: bool = False,
                 keep: int = 3, changeable: frozenset[str] = frozenset(),
                 defaults: dict[str, Any] | None = None):
        self.path = Path(path)
        self.keep = keep
        self.checkpoints = self.path / "checkpoints"
        self.games = self.path / "games"
        self.changes: list[tuple[str, Any, Any]] = []
        self.notes: list[str] = []
        config_file = self.path / "config.yaml"
        # checkpoints/ is made before config.yaml is written: without either, no run was here
        if resume and not config_file.exists() and not self.checkpoints.is_dir():
            raise RunDirError(f"--resume: {self.path} holds no run (no config.yaml); start "
                              f"it without --resume")
        self.lock = RunLock(self.path, create=not resume)
        if resume and not config_file.exists():
            if self.checkpoint_paths():
                raise RunDirError(f"--resume: {self.path} holds checkpoints but no "
                                  f"config.yaml to check them against")
            self.notes.append(f"resume: {self.path} holds no config.yaml (its first attempt "
                              f"was stopped before writing it); starting the run afresh")
            remove_partial_files(self.path)
            resume = False
        if resume:
            saved = yaml.safe_load(config_file.read_text())
            # a key the saved config lacks is an option newer than the run: it ran with what
            # is now that option's default
            saved = {**{k: v for k, v in (defaults or {}).items() if k not in saved}, **saved}
            changed = sorted(k for k in set(saved) | set(config)
                             if saved.get(k) != config.get(k))
            fixed = [k for k in changed if k not in changeable]
            if fixed:
                hint = (f" (these may change on resume: {', '.join(sorted(changeable))})"
                        if changeable else "")
                raise RunDirError(f"--resume: the config differs from {config_file} in "
                                  f"{', '.join(fixed)}; resume with the same settings{hint}")
            self.changes = [(k, saved.get(k), config.get(k)) for k in changed]
            remove_partial_files(self.path)  # half-written files of the run that was killed
        elif self.checkpoint_paths():
            raise RunDirError(f"{self.path} already holds a run; pass --resume to continue it "
                              f"or choose another --run-dir")
        # games/ waits for its first record: an Atari or training run writes none
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        if not resume or self.changes:
            atomic_write_bytes(config_file, yaml.safe_dump(config, sort_keys=False).encode())

    def change_notes(self) -> list[str]:
        """One line per setting this resume changed (and what it had to do first), for the
        run's log."""
        return self.notes + [f"resume: {key} changed from {old} to {new} (written to "
                             f"config.yaml)" for key, old, new in self.changes]

    def close(self) -> None:
        """Unlock the directory (if this RunDir locked it: a driver's own lock stays)."""
        self.lock.release()

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- checkpoints ---------------------------------------------------------------------------

    def checkpoint_paths(self) -> list[Path]:
        """Existing checkpoints, oldest first."""
        if not self.checkpoints.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.checkpoints.iterdir()
                 if (m := CHECKPOINT.match(p.name))]
        return [p for _, p in sorted(found)]

    def save_checkpoint(self, state: dict[str, Any], step: int) -> Path:
        """Atomically write `state` (anything torch.save takes) as the checkpoint of `step`,
        then drop all but the newest `keep`."""
        buffer = io.BytesIO()
        torch.save(state, buffer)
        path = self.checkpoints / f"ckpt-{step:012d}.pt"
        atomic_write_bytes(path, buffer.getvalue())
        for old in self.checkpoint_paths()[: -self.keep]:
            old.unlink(missing_ok=True)
        return path

    def load_checkpoint(self, path: str | Path | None = None) -> dict[str, Any] | None:
        """The newest checkpoint (or `path`), or None when there is none. A damaged file is a
        RunDirError naming it; the file is left as it is."""
        if path is None:
            paths = self.checkpoint_paths()
            if not paths:
                return None
            path = paths[-1]
        return load_checkpoint_file(path)

    # ---- metrics -------------------------------------------------------------------------------

    def metrics(self, resume_step: int | None = None) -> Metrics:
        """The run's Metrics. `resume_step`: the step the run continues from, that of the
        checkpoint it loaded or 0 without one (the rows a killed attempt logged before its first
        checkpoint go too); None keeps every row."""
        return Metrics(self.path, resume_step=resume_step)


def load_checkpoint_file(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by RunDir.save_checkpoint (weights_only: no code runs), after
    checking its zip CRCs: torch.load would take damaged bytes as weights."""
    path = Path(path)
    if not path.exists():
        raise RunDirError(f"checkpoint {path} does not exist")
    if problem := archive_problem(path):
        raise RunDirError(f"checkpoint {path} is not usable: {problem}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds for a damaged zip or pickle
        raise RunDirError(f"checkpoint {path} is damaged or not a checkpoint "
                          f"({type(err).__name__}: {str(err)[:120]!r})") from None
    if not isinstance(state, dict):
        raise RunDirError(f"checkpoint {path} does not hold a state dict")
    return state


class Metrics:
    """Scalars to metrics.csv (always) and TensorBoard (when installed). Appends on resume.

    A run resumed from the checkpoint of step S logs again every step after S, so rows a killed
    run wrote past its last checkpoint belong to a discarded branch: with `resume_step=S` they
    are dropped from the CSV (rows up to S stay, in order) and TensorBoard hides its events
    from step S + 1 on (purge_step), so neither shows a step twice."""

    def __init__(self, path: Path, resume_step: int | None = None):
        self.csv_path = path / "metrics.csv"
        self._fields: list[str] = []
        if self.csv_path.exists():
            with open(self.csv_path, newline="") as f:
                self._fields = next(csv.reader(f), [])
            if resume_step is not None:
                self._rewrite(self._fields, last_step=resume_step)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional; the CSV always has everything
            self._tb = None
        else:
            purge = None if resume_step is None else resume_step + 1  # purges steps >= this
            self._tb = SummaryWriter(str(path / "tb"), purge_step=purge)

    def log(self, step: int, **values: float) -> None:
        row = {"step": step, **values}
        new = [k for k in row if k not in self._fields]
        if new:
            self._rewrite(self._fields + new)
        with open(self.csv_path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=self._fields).writerow(row)
        if self._tb is not None:
            for key, value in values.items():
                self._tb.add_scalar(key, value, step)

    def _rewrite(self, fields: list[str], last_step: int | None = None) -> None:
        """Atomically rewrite the CSV with header `fields`, keeping the rows up to `last_step`
        (all rows when None)."""
        rows = []
        if self.csv_path.exists():
            with open(self.csv_path, newline="") as f:
                rows = list(csv.DictReader(f))
        if last_step is not None:
            rows = [row for row in rows if int(row["step"]) <= last_step]
        self._fields = fields
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_bytes(self.csv_path, out.getvalue().encode())

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
