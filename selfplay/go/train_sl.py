"""The SL policy network: predict the teacher's move (cross-entropy), as AlphaGo's first stage.

    rlgo go train-sl --data runs/alphago/data9 --run-dir runs/alphago/sl9 \\
        --config configs/go/sl_9x9.yaml [--set epochs=12] [--resume] [--device auto]

Reads a dataset (dataset.py), trains a PolicyNet (networks.py) on its train split with the
shared loop (training.py: random symmetries, checkpoints, resume, CSV/TensorBoard), and
after every epoch measures top-1 accuracy on the val split (held-out games). The best net so
far is written with save_network to RUN/policy.pt, with meta {command, val_top1, val_loss,
epochs, data, train_positions, val_positions}; copy it to
agents/alphago/weights/policy_9x9.pt to ship it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F

from agents.alphago.nets.networks import (
    NetSpec,
    PolicyNet,
    load_network,
    resize_policy,
    save_network,
)
from envs.checks import check_ranges
from selfplay.go.dataset import DatasetError, load_shard, shard_paths
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

# Where and how fast a run goes, not what it computes: these may change on --resume.
PLACEMENT_KEYS = ("device", "threads", "progress_every")


@dataclass(frozen=True)
class SLConfig:
    """An SL policy training run (configs/go/sl_9x9.yaml holds the values)."""

    layers: int = 6
    filters: int = 64
    init: str = ""                 # start from this policy weight file (its shape wins)
    epochs: int = 8
    batch_size: int = 128
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = 0.05
    momentum: float = 0.9          # sgd only
    weight_decay: float = 1e-4
    warmup_steps: int = 200        # then cosine decay to lr/100 at the last step
    augment: bool = True
    checkpoint_every: int = 500    # steps
    eval_batch: int = 1024
    seed: int = 0
    device: str = "auto"           # auto | cpu | cuda
    threads: int = 0               # torch CPU threads (0: torch's default)
    progress_every: float = 15.0   # seconds

    def __post_init__(self) -> None:
        check_ranges(self, at_least_1=("layers", "filters", "epochs", "batch_size",
                                       "checkpoint_every", "eval_batch"),
                     at_least_0=("weight_decay", "warmup_steps", "seed", "threads",
                                 "progress_every"),
                     positive=("lr",), probability=("momentum",))
        if self.optimizer == "sgd" and self.momentum == 0:
            raise ValueError("momentum must be above 0 for sgd (Nesterov momentum)")
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be sgd or adam, got {self.optimizer!r}")


def policy_loss(model: torch.nn.Module,
                batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy of the logits [B, n+1] against the teacher's move [B]; and top-1."""
    logits = model(batch["planes"].float())
    target = batch["move"].long()
    loss = F.cross_entropy(logits, target)
    top1 = (logits.argmax(1) == target).float().mean().item()
    return loss, {"train_top1": top1}


def evaluate_policy(model: torch.nn.Module, data_dir: str | Path, split: str = "val",
                    batch_size: int = 1024, device: torch.device | str = "cpu"
                    ) -> dict[str, float]:
    """{"val_top1", "val_loss", "val_positions"} of `model` on a split (no augmentation)."""
    correct, loss_sum, count = 0, 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for path in shard_paths(data_dir, split):
            shard = load_shard(path)
            for start in range(0, len(shard["move"]), batch_size):
                planes = torch.from_numpy(shard["planes"][start:start + batch_size])
                target = torch.from_numpy(shard["move"][start:start + batch_size]).long()
                logits = model(planes.to(device).float())
                target = target.to(device)
                loss_sum += float(F.cross_entropy(logits, target, reduction="sum"))
                correct += int((logits.argmax(1) == target).sum())
                count += len(target)
    model.train(was_training)
    if count == 0:
        return {}
    return {"val_top1": correct / count, "val_loss": loss_sum / count,
            "val_positions": float(count)}


def make_optimizer(model: torch.nn.Module, config: SLConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.AdamW(model.parameters(), lr=config.lr,
                                 weight_decay=config.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                           weight_decay=config.weight_decay, nesterov=True)


def train_sl(config: SLConfig, data_dir: str | Path, run_dir: str | Path,
             resume: bool = False, command: str = "",
             progress: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Train the SL policy; returns {"best_val_top1", "history", "policy", "seconds",
    "parameters"}. UserError (RunDirError, DatasetError, ...) or OSError for what a user can
    get wrong."""
    meta, device = prepare_training(data_dir, config.device, config.threads)
    if config.init:  # WeightsError (one line from the CLI) if it is not a policy net
        # another board size's net starts this one (resize_policy: the lines carried over)
        model = resize_policy(load_network(config.init, "policy", device=device),
                              meta["size"]).train()
        if model.spec.planes != meta["planes"]:
            raise DatasetError(f"{config.init} takes {model.spec.planes!r} planes, the "
                               f"dataset has {meta['planes']!r}")
    else:
        with torch.random.fork_rng():  # the run's seed, without touching the global RNG
            torch.manual_seed(config.seed)
            model = PolicyNet(NetSpec(kind="policy", size=meta["size"], planes=meta["planes"],
                                      layers=config.layers, filters=config.filters)).to(device)
    identity = {k: v for k, v in dataclasses.asdict(config).items() if k not in PLACEMENT_KEYS}
    # locked (RunLock) from here to the run's end: a second process is refused
    with RunDir(run_dir, {**identity, "data": str(data_dir)}, resume=resume) as run:
        optimizer = make_optimizer(model, config)
        total = config.epochs * steps_per_epoch(data_dir, "train", config.batch_size)
        policy_path = run.path / "policy.pt"

        def save(epoch: int, summary: dict[str, float]) -> None:
            counts = meta["counts"]
            save_network(policy_path, model, meta={
                "command": command, "val_top1": summary.get("val_top1"),
                "val_loss": summary.get("val_loss"), "epochs": epoch, "data": str(data_dir),
                "train_positions": counts["train_positions"],
                "val_positions": counts["val_positions"]})

        settings = LoopSettings(epochs=config.epochs, batch_size=config.batch_size,
                                augment=config.augment, fields=("planes", "move"),
                                checkpoint_every=config.checkpoint_every,
                                progress_every=config.progress_every, seed=config.seed)
        start = time.monotonic()
        history = run_training(
            model, optimizer, policy_loss, data_dir, run, settings,
            schedule=cosine_schedule(total, warmup=config.warmup_steps), device=device,
            resume=resume, evaluate=lambda m: evaluate_policy(m, data_dir, "val",
                                                              config.eval_batch, device),
            on_epoch=keep_best(policy_path, save, val_top1), progress=progress,
            size=meta["size"])
        tops = [h["val_top1"] for h in history if "val_top1" in h]
        return {"best_val_top1": max(tops) if tops else None, "history": history,
                "policy": str(policy_path), "seconds": time.monotonic() - start,
                "parameters": sum(p.numel() for p in model.parameters())}
