"""Training the fast rollout policy: a linear softmax over pattern features, fit in torch.

    rlgo go train-rollout --data runs/alphago/data9 --run-dir runs/alphago/rollout9

The features of every candidate move (agents.alphago.playouts.linear: 3x3 pattern with atari
bits, response ring and ring pattern, save-atari, self-atari; plus a pass candidate) are
extracted per batch by the same compiled scan the playouts run, so training and play cannot
disagree. The model is one weight per feature, held densely over the code space (2**20
pattern codes, 3 x 2**16 ring patterns: 5 MB; only canonical codes are ever touched); a
position's logits are the sums over its candidates, and the loss is the cross-entropy of the
teacher's move among the candidates. A teacher move that is not a candidate (filling its own
eye) is left out of the loss and counted as a miss in the accuracy.

The shared loop (training.py) runs epochs, progress, checkpoints and resume; after every epoch
the held-out (val split) top-1 accuracy is measured and the best policy so far is written to
RUN/rollout.npz (copy it to agents/alphago/weights/rollout_9x9.npz to ship it).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.alphago.playouts import linear
from envs.checks import check_ranges
from envs.go import kernels
from selfplay.go.dataset import load_shard, shard_paths
from selfplay.go.training import (
    LoopSettings,
    cosine_schedule,
    keep_best,
    prepare_training,
    run_training,
    steps_per_epoch,
    val_top1,
)
from selfplay.rundir import RunDir

FIELDS = ("board", "to_play", "ko", "last_move", "move")
PLACEMENT_KEYS = ("device", "threads", "progress_every")
IGNORE = -100  # target of a position whose teacher move is not a candidate


@dataclass(frozen=True)
class RolloutTrainConfig:
    """A rollout-policy training run."""

    epochs: int = 4
    batch_size: int = 512
    lr: float = 0.05               # Adam; cosine decay to lr/100
    weight_decay: float = 1e-4
    checkpoint_every: int = 500    # steps
    eval_batch: int = 2048
    seed: int = 0
    device: str = "cpu"            # a linear model: the feature scan dominates, CPU is right
    threads: int = 1
    progress_every: float = 15.0   # seconds

    def __post_init__(self) -> None:
        check_ranges(self, at_least_1=("epochs", "batch_size", "checkpoint_every", "eval_batch"),
                     at_least_0=("weight_decay", "seed", "threads", "progress_every"),
                     positive=("lr",))


class LinearSoftmax(nn.Module):
    """The rollout policy's weights, as torch parameters (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.pattern = nn.Parameter(torch.zeros(linear.PATTERN_CODES))
        self.response = nn.Parameter(torch.zeros(linear.RINGS, linear.COLOUR_CODES))
        self.rings = nn.Parameter(torch.zeros(linear.RINGS))
        self.flags = nn.Parameter(torch.zeros(3))
        self.pass_weight = nn.Parameter(torch.zeros(1))

    def forward(self, cand: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits [B, K] (K: most candidates of a position in the batch; -inf pads)."""
        code, colour, ring, flags = cand["code"], cand["colour"], cand["ring"], cand["flags"]
        is_pass = code < 0
        logit = torch.where(is_pass, self.pass_weight, self.pattern[code.clamp(min=0)])
        r = (ring - 1).clamp(min=0)
        near = ring > 0
        logit = logit + near * (self.rings[r] + self.response[r, colour.clamp(min=0)])
        bits = ((flags[:, None] >> torch.arange(3, device=flags.device)) & 1).float()
        logit = logit + bits @ self.flags
        out = torch.full(cand["shape"], float("-inf"), device=logit.device)
        out[cand["row"], cand["slot"]] = logit
        return out

    def to_policy(self, meta: dict[str, Any] | None = None) -> linear.RolloutPolicy:
        """The trained weights as a RolloutPolicy (non-zero entries only)."""
        pattern = self.pattern.detach().cpu().numpy()
        response = self.response.detach().cpu().numpy().reshape(-1)
        pk, rk = np.flatnonzero(pattern), np.flatnonzero(response)
        return linear.RolloutPolicy(dict(zip(pk.tolist(), pattern[pk].tolist(), strict=True)),
                                    dict(zip(rk.tolist(), response[rk].tolist(), strict=True)),
                                    self.rings.detach().cpu().numpy(),
                                    self.flags.detach().cpu().numpy(),
                                    float(self.pass_weight.detach()), meta)


def featurize(batch: dict[str, np.ndarray], size: int,
              device: torch.device | str = "cpu") -> dict[str, Any]:
    """The candidates of a batch of dataset records, as tensors for LinearSoftmax, with
    "target" [B]: the teacher move's slot among its position's candidates, or IGNORE."""
    boards = np.ascontiguousarray(batch["board"], np.int8)
    count, n = boards.shape
    index = np.empty(count + 1, np.int64)
    cap = count * (n + 1)
    codes, colours = np.empty(cap, np.int32), np.empty(cap, np.int32)
    rings, flags, moves = np.empty(cap, np.int8), np.empty(cap, np.int8), np.empty(cap, np.int32)
    m = linear.extract_features(boards, batch["to_play"].astype(np.int8),
                                batch["ko"].astype(np.int32),
                                batch["last_move"].astype(np.int32),
                                kernels.neighbour_table(size), kernels.diagonal_table(size),
                                kernels.neighbour8_table(size), linear.canonical_codes(), index,
                                codes, colours, rings, flags, moves)
    row = np.repeat(np.arange(count), np.diff(index))
    slot = np.arange(m) - index[row]
    move = batch["move"].astype(np.int64)
    wanted = np.where(move == n, -1, move)
    hit = moves[:m] == wanted[row]
    target = np.full(count, IGNORE, np.int64)
    target[row[hit]] = slot[hit]

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(device)

    return {"code": t(codes[:m].astype(np.int64)), "colour": t(colours[:m].astype(np.int64)),
            "ring": t(rings[:m].astype(np.int64)), "flags": t(flags[:m].astype(np.int64)),
            "row": t(row), "slot": t(slot), "shape": (count, int(np.diff(index).max())),
            "target": t(target)}


def _numpy(batch: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    return {k: v.cpu().numpy() for k, v in batch.items()}


def make_loss(size: int) -> Callable:
    def loss_fn(model: LinearSoftmax, batch: dict[str, torch.Tensor]
                ) -> tuple[torch.Tensor, dict[str, float]]:
        cand = featurize(_numpy(batch), size, model.pattern.device)
        logits = model(cand)
        loss = F.cross_entropy(logits, cand["target"], ignore_index=IGNORE)
        top1 = (logits.argmax(1) == cand["target"]).float().mean().item()
        return loss, {"train_top1": top1}
    return loss_fn


def evaluate(model: LinearSoftmax, data_dir: str | Path, size: int, split: str = "val",
             batch_size: int = 2048) -> dict[str, float]:
    """{"val_top1", "val_loss", "val_positions"}: top-1 over every position of the split
    (a teacher move outside the candidates is a miss; the loss leaves those out)."""
    correct, loss_sum, counted, total = 0, 0.0, 0, 0
    with torch.no_grad():
        for path in shard_paths(data_dir, split):
            shard = load_shard(path)
            for start in range(0, len(shard["move"]), batch_size):
                rows = {k: shard[k][start:start + batch_size] for k in FIELDS}
                cand = featurize(rows, size, model.pattern.device)
                logits = model(cand)
                target = cand["target"]
                valid = target != IGNORE
                correct += int((logits.argmax(1) == target).sum())
                if valid.any():
                    loss_sum += float(F.cross_entropy(logits[valid], target[valid],
                                                      reduction="sum"))
                counted += int(valid.sum())
                total += len(target)
    if total == 0:
        return {}
    return {"val_top1": correct / total, "val_loss": loss_sum / max(1, counted),
            "val_positions": float(total)}


def train_rollout(config: RolloutTrainConfig, data_dir: str | Path, run_dir: str | Path,
                  resume: bool = False, command: str = "",
                  progress: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Train the rollout policy; returns {"best_val_top1", "history", "policy", "seconds",
    "us_per_move"}. UserError (RunDirError, DatasetError, ...) or OSError for what a user can
    get wrong."""
    meta, device = prepare_training(data_dir, config.device, config.threads)
    size = int(meta["size"])
    model = LinearSoftmax().to(device)
    identity = {k: v for k, v in dataclasses.asdict(config).items() if k not in PLACEMENT_KEYS}
    # locked (RunLock) from here to the run's end: a second process is refused
    with RunDir(run_dir, {**identity, "data": str(data_dir)}, resume=resume) as run:
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                      weight_decay=config.weight_decay)
        total = config.epochs * steps_per_epoch(data_dir, "train", config.batch_size)
        policy_path = run.path / "rollout.npz"

        def save(epoch: int, summary: dict[str, float]) -> None:
            model.to_policy({"command": command, "val_top1": summary.get("val_top1"),
                             "val_loss": summary.get("val_loss"), "epochs": epoch,
                             "data": str(data_dir), "size": size}).save(policy_path)

        settings = LoopSettings(epochs=config.epochs, batch_size=config.batch_size, augment=False,
                                fields=FIELDS, checkpoint_every=config.checkpoint_every,
                                progress_every=config.progress_every, seed=config.seed)
        start = time.monotonic()
        history = run_training(
            model, optimizer, make_loss(size), data_dir, run, settings,
            schedule=cosine_schedule(total), device=device, resume=resume,
            evaluate=lambda m: evaluate(m, data_dir, size, "val", config.eval_batch),
            on_epoch=keep_best(policy_path, save, val_top1), progress=progress, size=size)
        tops = [h["val_top1"] for h in history if "val_top1" in h]
        speed = linear.selection_speed(linear.RolloutPolicy.load(policy_path), size)
        return {"best_val_top1": max(tops) if tops else None, "history": history,
                "policy": str(policy_path), "seconds": time.monotonic() - start,
                "us_per_move": speed}
