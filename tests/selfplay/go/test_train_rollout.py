"""train-rollout on a tiny dataset of MoGo-playout games: the loss falls, the policy is
written and loads, and the held-out accuracy beats a uniform choice."""

from __future__ import annotations

import json

import numpy as np

from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.playouts.linear import RolloutPolicy
from envs.go import PASS, Position, Rules
from selfplay.go.dataset import FORMAT
from selfplay.go.train_rollout import RolloutTrainConfig, train_rollout

SIZE = 7


def _games(count: int, seed: int) -> dict[str, np.ndarray]:
    """Dataset records of `count` games whose moves are heavy (MoGo-policy) playouts."""
    evaluator = RolloutEvaluator(seed=seed, priors=False, threads=1)
    rows: dict[str, list] = {k: [] for k in ("board", "to_play", "ko", "last_move", "move",
                                             "game")}
    for game in range(count):
        pos = Position.new(Rules(size=SIZE))
        for move in evaluator.evaluate([pos]).tails[0]:
            move = PASS if move < 0 else int(move)
            if pos.is_game_over() or not pos.is_legal(move):
                break  # playouts use simple ko; the dataset stops at a superko repeat
            last = pos.last_move
            for key, value in (("board", pos.board), ("to_play", pos.to_play), ("ko", pos.ko),
                               ("last_move", last if last is not None and last >= 0 else -1),
                               ("move", move), ("game", game)):
                rows[key].append(value)
            pos = pos.play(move)
    types = {"board": np.int8, "to_play": np.int8, "ko": np.int16, "last_move": np.int16,
             "move": np.int16, "game": np.int32}
    return {k: np.asarray(v, types[k]) for k, v in rows.items()}


def _dataset(path) -> None:
    for split, count, seed in (("train", 24, 1), ("val", 6, 2)):
        (path / split).mkdir(parents=True)
        np.savez_compressed(path / split / "shard-00000.npz", **_games(count, seed))
    (path / "meta.json").write_text(json.dumps({"format": FORMAT, "size": SIZE,
                                                "planes": "simple"}))


def test_tiny_training_run_learns(tmp_path) -> None:
    _dataset(tmp_path / "data")
    config = RolloutTrainConfig(epochs=3, batch_size=64, lr=0.05, progress_every=1e9)
    summary = train_rollout(config, tmp_path / "data", tmp_path / "run", progress=None)
    history = summary["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    policy = RolloutPolicy.load(summary["policy"])
    assert policy.pattern and policy.meta["val_top1"] == summary["best_val_top1"]
    assert summary["best_val_top1"] > 1.5 / (SIZE * SIZE / 2)  # well above a uniform guess
    assert summary["us_per_move"] > 0
    assert (tmp_path / "run" / "metrics.csv").exists()


def test_command_errors_are_one_line(tmp_path, capsys) -> None:
    from rlgo.cli import main

    assert main(["go", "train-rollout", "--data", str(tmp_path / "none"), "--run-dir",
                 str(tmp_path / "run")]) == 2
    assert main(["go", "train-rollout", "--data", str(tmp_path), "--run-dir",
                 str(tmp_path / "run"), "--set", "epochz=2"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("rlgo: error:") for line in lines)
    assert "epochz" in lines[1]
