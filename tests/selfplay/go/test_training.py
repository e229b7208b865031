"""The shared training loop and train-sl: loss falls, exact resume, augmentation, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from agents.alphago.nets.features import features, transform_planes
from agents.alphago.nets.networks import NetSpec, PolicyNet, load_network, save_network
from envs.go import PASS, Position, Rules
from envs.go.sgf import record_from_position
from envs.go.sgf_files import save_sgf_file
from rlgo.cli import main
from selfplay.go.dataset import build_dataset
from selfplay.go.train_sl import SLConfig, policy_loss, train_sl
from selfplay.go.training import LoopSettings, augment, keep_best, run_training, val_top1
from selfplay.rundir import RunDir

TINY = dict(layers=2, filters=8, batch_size=32, lr=0.05, warmup_steps=0, threads=1,
            device="cpu", checkpoint_every=5, progress_every=0.0)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """40 9x9 games of a learnable teacher: the point after the last move when it is legal,
    else a random legal point (a small conv net sees the last move in its planes)."""
    root = tmp_path_factory.mktemp("sl")
    rng = np.random.default_rng(0)
    for g in range(40):
        position = Position.new(Rules(size=9, komi=7))
        while not position.is_game_over() and position.move_number < 40:
            legal = np.flatnonzero(position.legal_moves()[:81])
            after = (position.last_move if position.last_move is not None else -5) + 1
            move = after if after in legal else int(rng.choice(legal)) if len(legal) else PASS
            position = position.play(move)
        save_sgf_file(root / f"g{g:02d}.sgf", record_from_position(position, result="B+1"))
    build_dataset(root, root / "data", planes="simple", val_fraction=0.2, workers=1,
                  progress=None)
    return root / "data"


def test_augment_moves_planes_and_labels_together():
    rng = np.random.default_rng(1)
    position = Position.new(Rules(size=9)).play(3).play(20)  # no symmetry maps it to itself
    planes = np.stack([features(position, "simple")] * 64)
    batch = {"planes": planes, "move": np.full(64, 12, np.int16),
             "last_move": np.full(64, 20, np.int16), "ko": np.full(64, -1, np.int16)}
    batch["move"][0] = 81  # a pass stays a pass
    out = augment(batch, rng, 9)
    assert out["move"][0] == 81 and (out["ko"] == -1).all()
    for i in range(1, 64):
        k = next(k for k in range(8) if np.array_equal(transform_planes(planes[i], k),
                                                       out["planes"][i]))
        for key, point in (("move", 12), ("last_move", 20)):
            marker = np.zeros(81)
            marker[point] = 1
            assert transform_planes(marker.reshape(9, 9), k).flat[out[key][i]] == 1
    assert np.array_equal(batch["move"][1:], np.full(63, 12))  # the input is not changed


def test_train_sl_loss_falls_and_saves_the_best_net(dataset, tmp_path):
    config = SLConfig(epochs=3, **{**TINY, "optimizer": "adam", "lr": 0.01})
    lines = []
    summary = train_sl(config, dataset, tmp_path / "run", command="test",
                       progress=lines.append)
    history = summary["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < history[0]["train_loss"] - 0.2
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    assert any("samples/s" in line for line in lines)
    net = load_network(tmp_path / "run/policy.pt", "policy", 9)
    assert net.spec.planes == "simple" and net.meta["command"] == "test"
    assert net.meta["val_top1"] == summary["best_val_top1"]
    assert (tmp_path / "run/metrics.csv").read_text().count("val_top1") == 1


def _loop(dataset, run_dir, resume, crash_after_epoch=None):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = PolicyNet(NetSpec(planes="simple", layers=2, filters=8))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    settings = LoopSettings(epochs=2, batch_size=32, checkpoint_every=4, progress_every=1e9)

    def on_epoch(epoch, summary, history):
        if epoch == crash_after_epoch:
            raise KeyboardInterrupt  # killed after the last mid-epoch checkpoint

    identity = {"test": 1}
    run = RunDir(run_dir, identity, resume=resume)
    history = run_training(model, optimizer, policy_loss, dataset, run, settings,
                           resume=resume, on_epoch=on_epoch, progress=None)
    return model, history


def test_resume_continues_exactly(dataset, tmp_path):
    torch.set_num_threads(1)
    whole, history = _loop(dataset, tmp_path / "a", resume=False)
    with pytest.raises(KeyboardInterrupt):
        _loop(dataset, tmp_path / "b", resume=False, crash_after_epoch=1)
    resumed, resumed_history = _loop(dataset, tmp_path / "b", resume=True)
    assert [h["step"] for h in resumed_history] == [h["step"] for h in history]
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_train_sl_cli_and_weight_errors(dataset, tmp_path, capsys):
    args = ["go", "train-sl", "--data", str(dataset), "--run-dir", str(tmp_path / "run"),
            "--set", "epochs=1", "--set", "layers=2", "--set", "filters=8",
            "--set", "threads=1", "--device", "cpu", "--quiet"]
    assert main(args) == 0
    assert "best held-out top-1" in capsys.readouterr().out
    meta = load_network(tmp_path / "run" / "policy.pt").meta
    assert meta["command"] == "rlgo " + " ".join(args)  # what was typed, not pytest's argv
    assert main(args) == 2  # the run exists: --resume or another --run-dir
    assert "already holds a run" in capsys.readouterr().err
    assert main([*args, "--resume"]) == 0  # nothing left to do

    value = tmp_path / "value.pt"
    save_network(value, __import__("agents.alphago.nets.networks", fromlist=["ValueNet"]).ValueNet(
        NetSpec(kind="value", planes="simple", layers=1, filters=4)))
    big = tmp_path / "big.pt"
    save_network(big, PolicyNet(NetSpec(size=13, planes="simple", layers=1, filters=4)))
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a weight file")
    # a net for another board size starts this one (resize_policy), its shape kept
    assert main(["go", "train-sl", "--data", str(dataset), "--run-dir", str(tmp_path / "r13"),
                 "--set", f"init={big}", "--set", "epochs=1", "--device", "cpu",
                 "--quiet"]) == 0
    resized = load_network(tmp_path / "r13" / "policy.pt", "policy", 9)
    assert (resized.spec.layers, resized.spec.filters) == (1, 4)
    for path, message in ((value, "expected a policy network"),
                          (garbage, "not a readable weight file"),
                          (tmp_path / "missing.pt", "no such weight file")):
        code = main(["go", "train-sl", "--data", str(dataset), "--run-dir",
                     str(tmp_path / f"r-{path.stem}"), "--set", f"init={path}", "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and message in err, err


def test_policy_loss_is_cross_entropy():
    model = PolicyNet(NetSpec(planes="simple", layers=1, filters=4))
    batch = {"planes": torch.zeros(3, 16, 9, 9, dtype=torch.uint8),
             "move": torch.tensor([0, 40, 81], dtype=torch.int16)}
    loss, extra = policy_loss(model, batch)
    expected = F.cross_entropy(model(batch["planes"].float()), batch["move"].long())
    assert torch.allclose(loss, expected) and 0.0 <= extra["train_top1"] <= 1.0


def test_keep_best_saves_only_an_epoch_that_beats_every_earlier_one(tmp_path) -> None:
    path, saved = tmp_path / "best.pt", []

    def save(epoch, metrics):
        saved.append(epoch)
        path.touch()

    hook, history = keep_best(path, save, val_top1), []
    for epoch, top1 in enumerate([0.2, 0.4, 0.3, 0.5], start=1):
        history.append({"train_loss": 1.0, "val_top1": top1})
        hook(epoch, history[-1], history)
    assert saved == [1, 2, 4]
    path.unlink()  # nothing at the path (a resumed run): the next epoch is saved anyway
    history.append({"train_loss": 1.0, "val_top1": 0.1})
    hook(5, history[-1], history)
    assert saved == [1, 2, 4, 5]
    # without a val split the lowest training loss wins
    assert val_top1({"train_loss": 0.5}) > val_top1({"train_loss": 0.7})
