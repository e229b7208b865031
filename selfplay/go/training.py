"""A small supervised training loop over dataset shards, shared by the AlphaGo networks.

    history = run_training(model, optimizer, loss_fn, data_dir, run, settings,
                           schedule=cosine_schedule(total_steps), device="cpu",
                           resume=False, evaluate=my_eval,
                           on_epoch=keep_best(path, save, val_top1))

What the loop owns, so each training command does not rewrite it:
  - epochs over the train split of a dataset (dataset.py): shards in a random order, records
    shuffled within each shard, batches of `batch_size` (the last one of a shard may be
    smaller); with `augment`, each record gets one of the 8 board symmetries at random
    (`augment`, usable on its own);
  - one optimizer step per batch on `loss_fn(model, batch) -> (loss, {name: float})`, where
    batch holds the requested shard fields as torch tensors on the device (dtypes as stored:
    planes uint8, move int16, ...; the loss converts);
  - a progress line every `progress_every` seconds (epoch, step, samples/s, loss), the same
    figures in RUN/metrics.csv and TensorBoard, and `evaluate(model)` after every epoch;
  - atomic checkpoints (model, optimizer, schedule, step, epoch, position in the epoch, torch
    RNG, per-epoch history) every `checkpoint_every` steps and at each epoch's end. The data
    order of epoch e comes only from (seed, e), so `resume=True` continues exactly where the
    newest checkpoint left off, mid-epoch included.

`on_epoch(epoch, metrics, history)` runs after each evaluation (before the checkpoint):
keep_best(path, save, score) makes the hook every stage uses to keep its best network so far.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from agents.alphago.nets.features import transform_move, transform_planes
from agents.cpu import flush_denormals
from selfplay.go.dataset import DatasetError, load_meta, load_shard, shard_paths
from selfplay.rundir import RunDir

LossFn = Callable[[torch.nn.Module, dict[str, torch.Tensor]], tuple[torch.Tensor,
                                                                     dict[str, float]]]
OnEpoch = Callable[[int, dict[str, float], list[dict[str, float]]], None]


@dataclass(frozen=True)
class LoopSettings:
    """How the loop runs (the model, optimizer and loss are the caller's)."""

    epochs: int = 10
    batch_size: int = 256
    augment: bool = True            # a random board symmetry per record
    fields: tuple[str, ...] = ("planes", "move")  # shard arrays the loss needs
    checkpoint_every: int = 500     # steps (and always at the end of an epoch)
    progress_every: float = 10.0    # seconds between progress lines
    seed: int = 0


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda when present, else cpu; 'cpu' / 'cuda' as given (ValueError when cuda
    is asked for and missing)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {name!r}")
    return torch.device(name)


# ---- data ----------------------------------------------------------------------------------

def prepare_training(data_dir: str | Path, device: str, threads: int) -> tuple[dict, torch.device]:
    """What every training stage does first: flush denormals (before torch starts its
    threads: agents/cpu.py), read the dataset's meta (DatasetError if it is not one or has no
    train shards), resolve the device, and set torch's threads (0: torch's default).
    Returns (meta, device)."""
    flush_denormals()
    meta = load_meta(data_dir)
    if not shard_paths(data_dir, "train"):
        raise DatasetError(f"{data_dir}: the dataset has no train shards")
    if threads:
        torch.set_num_threads(threads)
    return meta, resolve_device(device)


def _move_tables(size: int) -> np.ndarray:
    """int64 [8, n+1]: where move m (pass = n) lands under symmetry k."""
    n = size * size
    return np.array([[transform_move(m, k, size) for m in range(n)] + [n] for k in range(8)])


def augment(batch: dict[str, np.ndarray], rng: np.random.Generator,
            size: int) -> dict[str, np.ndarray]:
    """A random symmetry per record, applied to the fields that are on the board: planes
    [B, C, S, S], board [B, n], and the points move / ko / last_move [B] (pass = n and -1
    stay). Other fields are returned as they are."""
    ks = rng.integers(0, 8, len(next(iter(batch.values()))))
    tables = _move_tables(size)
    out = {key: value.copy() for key, value in batch.items()}
    for k in range(1, 8):
        rows = np.flatnonzero(ks == k)
        if rows.size == 0:
            continue
        if "planes" in out:
            out["planes"][rows] = transform_planes(batch["planes"][rows], k)
        if "board" in out:
            images = transform_planes(batch["board"][rows].reshape(-1, size, size), k)
            out["board"][rows] = images.reshape(len(rows), -1)
        for key in ("move", "ko", "last_move"):
            if key in out:
                points = batch[key][rows].astype(np.int64)
                moved = tables[k][np.where(points < 0, 0, points)]
                out[key][rows] = np.where(points < 0, points, moved)
    return out


def epoch_batches(data_dir: str | Path, split: str, batch_size: int,
                  rng: np.random.Generator,
                  fields: Sequence[str] | None = None) -> Iterator[dict[str, np.ndarray]]:
    """One pass over a split: shards in random order, each shuffled, cut into batches."""
    paths = shard_paths(data_dir, split)
    for index in rng.permutation(len(paths)):
        shard = load_shard(paths[index])
        if fields is not None:
            shard = {k: shard[k] for k in fields}
        order = rng.permutation(len(next(iter(shard.values()))))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            yield {k: v[rows] for k, v in shard.items()}


def steps_per_epoch(data_dir: str | Path, split: str, batch_size: int) -> int:
    """Batches in one epoch of `split` (reads only each shard's move array)."""
    total = 0
    for path in shard_paths(data_dir, split):
        with np.load(path) as shard:
            total += math.ceil(len(shard["move"]) / batch_size)
    return total


def cosine_schedule(total_steps: int, warmup: int = 0,
                    floor: float = 0.01) -> Callable[[int], float]:
    """LR multiplier per step: linear warmup, then cosine from 1 down to `floor`."""
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
    return factor


def to_device(batch: dict[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.ascontiguousarray(v)).to(device) for k, v in batch.items()}


# ---- keeping the best epoch ----------------------------------------------------------------

def keep_best(path: Path, save: Callable[[int, dict[str, float]], None],
              score: Callable[[dict[str, float]], float]) -> OnEpoch:
    """An on_epoch hook that keeps the best epoch's model at `path`: save(epoch, metrics)
    runs when this epoch scores higher than every earlier one, or when nothing is at `path`
    yet (a resumed run that stopped before its first save). A later epoch can do worse on
    held-out data (overfitting), so the last model is not always the one to keep."""
    def on_epoch(epoch: int, metrics: dict[str, float],
                 history: list[dict[str, float]]) -> None:
        earlier = [score(h) for h in history[:-1]]
        if not earlier or score(metrics) > max(earlier) or not path.exists():
            save(epoch, metrics)
    return on_epoch


def val_top1(metrics: dict[str, float]) -> float:
    """A policy's score: held-out top-1 accuracy, or minus the training loss without a val
    split."""
    return metrics.get("val_top1", -metrics["train_loss"])


# ---- the loop ------------------------------------------------------------------------------

def run_training(model: torch.nn.Module, optimizer: torch.optim.Optimizer, loss_fn: LossFn,
                 data_dir: str | Path, run: RunDir, settings: LoopSettings,
                 schedule: Callable[[int], float] | None = None,
                 device: torch.device | str = "cpu", resume: bool = False,
                 evaluate: Callable[[torch.nn.Module], dict[str, float]] | None = None,
                 on_epoch: OnEpoch | None = None,
                 progress: Callable[[str], None] | None = print,
                 size: int = 9) -> list[dict[str, float]]:
    """Train `model` for settings.epochs epochs on data_dir's train split; returns the
    per-epoch history [{"epoch", "step", "train_loss", ...evaluate's metrics}]."""
    device = torch.device(device)
    model.to(device)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule or (lambda _: 1.0))
    state = run.load_checkpoint() if resume else None
    step, epoch, skip, history = 0, 0, 0, []
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        step, epoch, skip = state["step"], state["epoch"], state["batch_in_epoch"]
        history = list(state["history"])
    # the metrics rows logged past the checkpoint (past step 0 without one: a killed first
    # attempt's) are logged again
    metrics = run.metrics(resume_step=step)

    def checkpoint(batch_in_epoch: int) -> None:
        run.save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                             "scheduler": scheduler.state_dict(), "step": step,
                             "epoch": epoch, "batch_in_epoch": batch_in_epoch,
                             "torch_rng": torch.get_rng_state(), "history": history}, step)

    try:
        while epoch < settings.epochs:
            rng = np.random.default_rng(np.random.SeedSequence([settings.seed, epoch]))
            model.train()
            losses: list[float] = []
            window_start, window_samples = time.monotonic(), 0
            next_report = window_start + settings.progress_every
            batches = epoch_batches(data_dir, "train", settings.batch_size, rng,
                                    settings.fields)
            for index, batch in enumerate(batches):
                if settings.augment:
                    batch = augment(batch, rng, size)  # before the skip: same RNG stream
                if index < skip:
                    continue
                loss, extra = loss_fn(model, to_device(batch, device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                step += 1
                losses.append(loss.item())
                window_samples += len(next(iter(batch.values())))
                now = time.monotonic()
                if now >= next_report:
                    rate = window_samples / (now - window_start)
                    recent = float(np.mean(losses[-50:]))
                    metrics.log(step, loss=recent, samples_per_s=rate,
                                lr=scheduler.get_last_lr()[0], **extra)
                    if progress is not None:
                        progress(f"epoch {epoch + 1}/{settings.epochs} | step {step} | "
                                 f"{rate:.0f} samples/s | loss {recent:.3f} | "
                                 f"lr {scheduler.get_last_lr()[0]:.2e}")
                    window_start, window_samples = now, 0
                    next_report = now + settings.progress_every
                if step % settings.checkpoint_every == 0:
                    checkpoint(index + 1)
            skip = 0
            summary = {"epoch": epoch + 1, "step": step,
                       "train_loss": float(np.mean(losses)) if losses else float("nan")}
            if evaluate is not None:
                model.eval()
                with torch.no_grad():
                    summary.update(evaluate(model))
            history.append(summary)
            metrics.log(step, **{k: v for k, v in summary.items() if k != "step"})
            if progress is not None:
                progress("epoch done: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float)
                                                    else f"{k} {v}" for k, v in summary.items()))
            if on_epoch is not None:
                on_epoch(epoch + 1, summary, history)
            epoch += 1
            checkpoint(0)
    finally:
        metrics.close()
    return history
