"""Value-net regression on the positions of value.py: MSE against the game outcome, with the
validation MSE after every epoch (the paper: 0.226 train / 0.234 test on 30M positions).

The positions fit in memory (about 4 kB each on 9x9), so an epoch is a permutation of the
train arrays, cut into batches; with `augment`, each position is seen under one of the 8
board symmetries drawn at random (the value of a position does not change under them).
The epoch's order and symmetries come from (seed, epoch) only, and a checkpoint after every
epoch holds net, optimizer, history and the best net so far, so a resumed run continues
with the next epoch as if it had never stopped. RUN/value.pt is the net of the epoch with
the lowest validation MSE, with meta {command, val_mse, train_mse, positions, epoch}.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from agents.alphago.features import transform_planes
from agents.alphago.networks import (
    NetSpec,
    ValueNet,
    as_input,
    build_network,
    load_network,
    save_network,
)
from selfplay.alphago.dataset import load_shard, shard_paths
from selfplay.rundir import RunDir


def load_split(directory, split: str) -> dict[str, np.ndarray]:
    """planes uint8 [N, C, S, S] and outcome float32 [N] of one split, all shards."""
    shards = [load_shard(p) for p in shard_paths(directory, split)]
    if not shards:
        raise ValueError(f"no {split} positions in {directory}")
    return {"planes": np.concatenate([s["planes"] for s in shards]),
            "outcome": np.concatenate([s["outcome"] for s in shards]).astype(np.float32)}


def random_symmetries(planes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """planes [B, C, S, S] with each position under a random one of the 8 symmetries."""
    ks = rng.integers(0, 8, len(planes))
    out = planes.copy()
    for k in range(1, 8):
        rows = np.flatnonzero(ks == k)
        if rows.size:
            out[rows] = transform_planes(planes[rows], k)
    return out


def mse(net: ValueNet, data: dict[str, np.ndarray], device: torch.device,
        batch_size: int = 512) -> float:
    """Mean squared error of the net (eval mode) over all of `data`."""
    net.eval()
    total = 0.0
    with torch.inference_mode():
        for i in range(0, len(data["outcome"]), batch_size):
            values = net(as_input(data["planes"][i:i + batch_size], device))
            z = torch.from_numpy(data["outcome"][i:i + batch_size]).to(device)
            total += float(((values - z) ** 2).sum())
    return total / len(data["outcome"])


def train_value_net(config, run: RunDir, resume: bool,
                    progress: Callable[[str], None] | None, command: str) -> dict[str, Any]:
    """Train a ValueNet (config: value.ValueConfig) on RUN/positions; write RUN/value.pt."""
    from selfplay.alphago.rl import resolve_device

    device = resolve_device(config.device)
    data_dir = run.path / "positions"
    train, val = load_split(data_dir, "train"), load_split(data_dir, "val")
    planes = load_network(config.policy, "policy", config.size).spec.planes
    spec = NetSpec(kind="value", size=config.size, planes=planes, layers=config.layers,
                   filters=config.filters, hidden=config.hidden)
    with torch.random.fork_rng(devices=[]):  # the init draws from torch's global generator
        torch.manual_seed(config.seed)
        net = build_network(spec).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    state = run.load_checkpoint() if resume else None
    history: list[dict[str, float]] = []
    best: dict[str, Any] = {"val_mse": float("inf")}
    if state is not None:
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        history, best = list(state["history"]), dict(state["best"])
    metrics = run.metrics()
    try:
        for epoch in range(len(history), config.epochs):
            rng = np.random.default_rng([config.seed, 211, epoch])
            order = rng.permutation(len(train["outcome"]))
            net.train()
            start, losses = time.monotonic(), []
            for i in range(0, len(order), config.batch_size):
                rows = np.sort(order[i:i + config.batch_size])
                x = train["planes"][rows]
                if config.augment:
                    x = random_symmetries(x, rng)
                z = torch.from_numpy(train["outcome"][rows]).to(device)
                loss = torch.mean((net(as_input(x, device)) - z) ** 2)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses.append(loss.item() * len(rows))
            seconds = time.monotonic() - start
            summary = {"epoch": epoch + 1, "train_mse": sum(losses) / len(order),
                       "val_mse": mse(net, val, device),
                       "positions_per_s": len(order) / max(seconds, 1e-9)}
            history.append(summary)
            if summary["val_mse"] < best["val_mse"]:
                best = {**summary, "net": {k: v.detach().cpu().clone()
                                           for k, v in net.state_dict().items()}}
            metrics.log(epoch + 1, **summary)
            run.save_checkpoint({"net": net.state_dict(), "optimizer": optimizer.state_dict(),
                                 "history": history, "best": best}, epoch + 1)
            if progress is not None:
                progress(f"epoch {epoch + 1}/{config.epochs} | train MSE "
                         f"{summary['train_mse']:.4f} | val MSE {summary['val_mse']:.4f} | "
                         f"{summary['positions_per_s']:.0f} positions/s")
    finally:
        metrics.close()
    if "net" in best:
        net.load_state_dict(best["net"])
    positions = len(train["outcome"]) + len(val["outcome"])
    path = save_network(run.path / "value.pt", net.cpu(), meta={
        "command": command, "val_mse": best.get("val_mse"), "train_mse": best.get("train_mse"),
        "positions": positions, "epoch": best.get("epoch")})
    return {"val_mse": best.get("val_mse"), "train_mse": best.get("train_mse"),
            "epochs": len(history), "history": history, "value": str(path),
            "train_positions": len(train["outcome"]), "val_positions": len(val["outcome"])}
