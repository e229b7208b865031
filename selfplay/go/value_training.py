"""Value-net regression on the positions of value.py, in the shared supervised loop
(training.py: shard batches, symmetry augmentation, exact resume, CSV/TensorBoard).

The loss is the mean squared error between the net's value for the player to move and the
game's outcome from that player's view; the validation MSE is reported after every epoch
(the paper: 0.226 train / 0.234 test on 30M positions). RUN/value.pt is the net of the epoch
with the lowest validation MSE, with meta {command, val_mse, train_mse, positions, epoch}.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.alphago.nets.networks import NetSpec, ValueNet, as_input, load_network, save_network
from selfplay.go.dataset import load_shard, shard_paths
from selfplay.go.training import LoopSettings, keep_best, resolve_device, run_training
from selfplay.rundir import RunDir


def value_loss(model: torch.nn.Module,
               batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """MSE of the values [B] against the outcomes [B] (int8 +1 / -1 / 0)."""
    loss = torch.mean((model(batch["planes"].float()) - batch["outcome"].float()) ** 2)
    return loss, {}


def count_positions(data_dir: str | Path, split: str) -> int:
    """Positions in one split (reads only the outcome arrays)."""
    total = 0
    for path in shard_paths(data_dir, split):
        with np.load(path) as shard:
            total += len(shard["outcome"])
    return total


def split_mse(model: ValueNet, data_dir: str | Path, split: str,
              device: torch.device, batch_size: int = 512) -> dict[str, float]:
    """{"<split>_mse", "<split>_positions"} over every position of the split (eval mode)."""
    total, count = 0.0, 0
    for path in shard_paths(data_dir, split):
        shard = load_shard(path)
        for i in range(0, len(shard["outcome"]), batch_size):
            values = model(as_input(shard["planes"][i:i + batch_size], device))
            z = torch.from_numpy(shard["outcome"][i:i + batch_size].astype(np.float32))
            total += float(((values - z.to(device)) ** 2).sum())
            count += len(z)
    return {f"{split}_mse": total / max(count, 1), f"{split}_positions": float(count)}


def train_value_net(config, run: RunDir, resume: bool,
                    progress: Callable[[str], None] | None, command: str) -> dict[str, Any]:
    """Train a ValueNet (config: value.ValueConfig) on RUN/positions; write RUN/value.pt."""
    device = resolve_device(config.device)
    data_dir = run.path / "positions"
    planes = load_network(config.policy, "policy", config.size).spec.planes
    spec = NetSpec(kind="value", size=config.size, planes=planes, layers=config.layers,
                   filters=config.filters, hidden=config.hidden)
    with torch.random.fork_rng(devices=[]):  # the init draws from torch's global generator
        torch.manual_seed(config.seed)
        model = ValueNet(spec).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    value_path = run.path / "value.pt"

    def save(epoch: int, summary: dict[str, float]) -> None:
        save_network(value_path, model, meta={
            "command": command, "val_mse": summary["val_mse"],
            "train_mse": summary["train_loss"], "epoch": epoch,
            "positions": int(summary["train_positions"] + summary["val_positions"])})

    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        return {**split_mse(model, data_dir, "val", device),
                "train_positions": float(count_positions(data_dir, "train"))}

    settings = LoopSettings(epochs=config.epochs, batch_size=config.batch_size,
                            augment=config.augment, fields=("planes", "outcome"),
                            checkpoint_every=10**9,  # each epoch's end is enough
                            progress_every=config.progress_every, seed=config.seed)
    history = run_training(model, optimizer, value_loss, data_dir, run, settings,
                           device=device, resume=resume, evaluate=evaluate,
                           on_epoch=keep_best(value_path, save, lambda h: -h["val_mse"]),
                           progress=progress, size=config.size)
    best = min(history, key=lambda h: h["val_mse"])
    return {"val_mse": best["val_mse"], "train_mse": best["train_loss"],
            "epochs": len(history), "history": history, "value": str(value_path),
            "train_positions": int(best["train_positions"]),
            "val_positions": int(best["val_positions"])}
