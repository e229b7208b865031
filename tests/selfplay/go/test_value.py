"""The value stage: one position per self-play game with the outcome for its player to move,
resumable shards, a small value training whose loss falls, and the CLI."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from agents.alphago.nets.features import features
from agents.alphago.nets.networks import NetSpec, build_network, load_network, save_network
from envs.go import BLACK, PASS, Position, Rules
from rlgo.cli import main
from selfplay.go.dataset import load_shard, shard_paths
from selfplay.go.reinforce import numpy_state
from selfplay.go.value import (
    ValueActorSettings,
    ValueConfig,
    ValueDataActor,
    generate_positions,
    run_value,
)
from selfplay.rundir import RunDirError
from selfplay.runtime import RuntimeSettings

SPEC = NetSpec(kind="policy", size=5, layers=2, filters=8)


def tiny_policy(seed: int):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_network(SPEC).eval()


@pytest.fixture
def policies(tmp_path):
    return (str(save_network(tmp_path / "rl.pt", tiny_policy(0))),
            str(save_network(tmp_path / "sl.pt", tiny_policy(1))))


def test_each_game_gives_one_position_after_move_u_with_the_movers_outcome():
    actor = ValueDataActor(ValueActorSettings(size=5, komi=0.5, move_cap=50, last_u=12,
                                              opening_passes=False, batch_games=8, seed=2),
                           {"rl": SPEC.__dict__, "sl": SPEC.__dict__}, actor_id=0)
    actor.set_weights(0, {"rl": numpy_state(tiny_policy(0)), "sl": numpy_state(tiny_policy(1))})
    games = actor.run(10)
    assert len(games) == 10  # exactly one position per game, even across lockstep batches
    for game in games:
        assert 1 <= game["u"] <= 12
        assert PASS not in [move for _, move in game["moves"][:game["u"]]]
        position = Position.new(Rules(size=5, komi=0.5))
        for colour, move in game["moves"][:game["u"]]:
            position = position.play(move, colour)
        assert game["to_play"] == position.to_play
        assert np.array_equal(game["planes"], features(position, player_colour=True))
        assert game["planes"][-1].all() == (position.to_play == BLACK)
        for colour, move in game["moves"][game["u"]:]:
            position = position.play(move, colour)
        assert position.result() == game["result"] and game["length"] == len(game["moves"])
        winner = BLACK if game["result"].startswith("B") else 3 - BLACK
        assert game["outcome"] == (1 if winner == game["to_play"] else -1)


def small_config(policies, **changes) -> ValueConfig:
    rl, sl = policies
    settings = dict(policy=rl, sl_policy=sl, size=5, komi=0.5, max_moves=40, u_max=10,
                    positions=60, shard_positions=25, val_fraction=0.2, batch_games=10,
                    layers=2, filters=8, hidden=16, epochs=8, batch_size=16, lr=0.01,
                    progress_every=0.0,
                    runtime=RuntimeSettings(backend="local", actors=1, learner_cpus=0.0))
    return ValueConfig(**{**settings, **changes})


def test_positions_go_to_train_and_val_shards_and_a_rerun_adds_only_the_missing(
        tmp_path, policies):
    data = tmp_path / "positions"
    first = generate_positions(small_config(policies), data, progress=None)
    assert first["positions"] == first["new"] == 60
    shards = {s: [load_shard(p) for p in shard_paths(data, s)] for s in ("train", "val")}
    counts = {s: sum(len(x["outcome"]) for x in v) for s, v in shards.items()}
    assert counts["train"] + counts["val"] == 60 and counts["val"] > 0
    shard = shards["train"][0]
    assert shard["planes"].dtype == np.uint8 and shard["planes"].shape[1:] == (49, 5, 5)
    assert set(np.unique(shard["outcome"])) <= {-1, 0, 1}
    again = generate_positions(small_config(policies, positions=80), data, progress=None)
    assert again["positions"] == 80 and again["new"] == 20
    nothing = generate_positions(small_config(policies, positions=80), data, progress=None)
    assert nothing["new"] == 0


def test_a_small_value_training_lowers_its_loss_and_writes_the_value_net(tmp_path, policies):
    run = tmp_path / "run"
    lines: list[str] = []
    summary = run_value(small_config(policies), run, progress=lines.append,
                        command="rlgo go train-value test")
    losses = [h["train_loss"] for h in summary["history"]]
    assert len(losses) == 8 and losses[-1] < 0.8 * losses[0]
    assert any("val_mse" in line for line in lines)
    value = load_network(run / "value.pt", "value", 5)
    assert value.meta["positions"] == 60 and value.meta["command"] == "rlgo go train-value test"
    assert value.meta["val_mse"] == pytest.approx(min(h["val_mse"] for h in summary["history"]))
    with pytest.raises(RunDirError, match="already holds"):
        run_value(small_config(policies), run, progress=None)
    more = run_value(dataclasses.replace(small_config(policies), positions=70, epochs=9), run,
                     resume=True, progress=None)
    assert more["new"] == 10 and more["epochs"] == 9


def test_the_train_value_command_runs_and_reports_user_errors_in_one_line(
        tmp_path, policies, capsys):
    rl, sl = policies
    def command(args: list[str]) -> int:
        return main(["go", "train-value", *args])

    small = [f"--set={k}={v}" for k, v in dataclasses.asdict(small_config(policies)).items()
             if k not in ("policy", "sl_policy")]
    run = str(tmp_path / "run")
    assert command(["--policy", rl, "--sl", sl, "--run-dir", run, "--positions", "30",
                    "--epochs", "1", "--quiet", *small]) == 0
    assert "train-value done: 30 positions (30 new" in capsys.readouterr().out
    assert command(["--run-dir", run]) == 2
    assert "needs the RL policy" in capsys.readouterr().err
    assert command(["--policy", str(tmp_path / "missing.pt"), "--run-dir", run]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such weight file" in err
