"""The closed loop learns: a short 5x5 self-play run's value head predicts the outcomes of games
it never saw better than the best constant does.

A real run of the loop (selfplay.go.loop on the in-process backend): 5x5 games of the
network-free engine (bootstrap "rollouts", 16 visits, Dirichlet noise and early temperature)
fill replay, and the learner trains the play net's four heads on them, with the 8 symmetries.
Held-out games come from another seed. The constant is the training outcomes' mean, the best a
value head could do without looking at the board.
"""

from __future__ import annotations

import numpy as np
import torch

from agents.alphago.nets.networks import NetSpec, PlayNet
from selfplay.go.actor import GoSelfPlayActor
from selfplay.go.loop import SelfPlayConfig, run_selfplay
from selfplay.rundir import load_checkpoint_file
from selfplay.runtime import RuntimeSettings


def test_a_short_loop_value_head_beats_a_constant_on_held_out_games(tmp_path):
    config = SelfPlayConfig(size=5, komi=0.5, visits=16, games=64, games_per_call=16,
                            games_in_parallel=16, leaves=4, bootstrap="rollouts",
                            layers=2, filters=16, hidden=32, min_replay=256, batch_size=64,
                            train_steps_per_game=12, gate_every=10**6, checkpoint_every=64,
                            save_replay=False, progress_every=600.0, seed=1,
                            runtime=RuntimeSettings(backend="local", actors=1))
    summary = run_selfplay(config, tmp_path / "run", progress=None)
    assert summary["counters"]["games"] == 64
    newest = sorted((tmp_path / "run" / "checkpoints").iterdir())[-1]
    state = load_checkpoint_file(newest)
    net = PlayNet(NetSpec(kind="play", size=5, planes="simple", layers=2, filters=16,
                          hidden=32))
    net.load_state_dict(state["backend"]["learner"]["net"])
    net.eval()

    held_out = GoSelfPlayActor(config.actor_settings(), actor_id=99).run(16)
    planes = np.concatenate([g["examples"]["planes"] for g in held_out])
    z = np.concatenate([g["examples"]["z"] for g in held_out])
    with torch.inference_mode():
        v = net(torch.as_tensor(planes, dtype=torch.float32)).value.numpy()
    train_mean = _training_outcome_mean(tmp_path / "run")
    value_mse = float(np.mean((v - z) ** 2))
    constant_mse = float(np.mean((train_mean - z) ** 2))
    assert value_mse < 0.7 * constant_mse, (value_mse, constant_mse, len(z))


def _training_outcome_mean(run_path) -> float:
    """The mean outcome for the player to move over the run's games (from their SGF results
    and lengths: Black moves first, so positions alternate colours)."""
    from envs.go.sgf_files import load_sgf_file

    total, count = 0.0, 0
    for path in sorted((run_path / "games").glob("game-*.sgf")):
        record = load_sgf_file(path)
        black_won = record.result.startswith("B")
        for colour, _ in record.moves:
            total += 1.0 if (colour == 1) == black_won else -1.0
            count += 1
    return total / count
