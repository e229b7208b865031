"""The RL policy stage: lockstep self-play games (legal, complete, correctly scored), the
REINFORCE step's sign, the opponent pool, a train-rl run on real Ray that resumes, and the CLI."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest
import torch

from agents.alphago.nets.features import features, sensible_moves
from agents.alphago.nets.networks import NetSpec, build_network, load_network, save_network
from envs.go import BLACK, PASS, WHITE, Position, Rules
from rlgo.cli import main
from selfplay.go.batched_games import play_games, sample_moves
from selfplay.go.reinforce import ReinforceLearner, numpy_state
from selfplay.go.rl import RLActor, RLActorSettings, RLConfig, run_rl
from selfplay.rundir import RunDirError
from selfplay.runtime import RuntimeSettings

SPEC = NetSpec(kind="policy", size=5, layers=2, filters=8)
RULES = Rules(size=5, komi=0.5)


def tiny_policy(seed: int = 0):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_network(SPEC).eval()


@pytest.fixture
def sl_file(tmp_path):
    return str(save_network(tmp_path / "sl.pt", tiny_policy()))


def test_sampled_moves_are_always_legal():
    legal = np.zeros((50, 26), bool)
    legal[:, [3, 7, 25]] = True
    logits = torch.zeros(50, 26)
    logits[:, 0] = 50.0  # the illegal point 0 would win every draw if it were not masked
    moves = sample_moves(logits, legal, np.random.default_rng(0))
    assert set(moves.tolist()) <= {3, 7, 25} and len(set(moves.tolist())) == 3


def test_with_passes_off_a_net_that_wants_to_pass_plays_a_point_while_it_can():
    net = tiny_policy()
    with torch.no_grad():
        net.pass_logit.bias.fill_(100.0)
    rng = np.random.default_rng(0)
    played = play_games([Position.new(RULES)] * 4, lambda g, p: 0, [net], rng, 12,
                        passes=False)
    for final in played.finals:
        assert final.move_number == 12 and PASS not in [m for _, m in final.moves()]
    passing = play_games([Position.new(RULES)] * 4, lambda g, p: 0, [net], rng, 12)
    assert all(final.move_number == 2 for final in passing.finals)  # two passes end it


def test_batched_self_play_games_are_legal_complete_and_scored_for_the_learner():
    actor = RLActor(RLActorSettings(size=5, komi=0.5, move_cap=50, batch_games=6, seed=1),
                    SPEC.__dict__, actor_id=0)
    weights = numpy_state(tiny_policy(0))
    actor.set_weights(3, {"policy": weights, "pool": {0: numpy_state(tiny_policy(1))}})
    games = actor.run(6)
    assert len(games) == 6 and {g["colour"] for g in games} == {BLACK, WHITE}
    for game in games:
        assert game["weights_version"] == 3 and game["opponent"] == 0
        position, kept = Position.new(RULES), 0
        for colour, move in game["moves"]:
            assert colour == position.to_play
            if colour == game["colour"]:  # the learner's move: its planes, mask and index
                assert np.array_equal(game["planes"][kept], features(position))
                # the moves it was drawn from: sensible ones (legal, no own-eye filling)
                assert np.array_equal(game["legal"][kept], sensible_moves(position))
                assert not (sensible_moves(position) & ~position.legal_moves()).any()
                assert game["actions"][kept] == (25 if move == PASS else move)
                kept += 1
            position = position.play(move)  # IllegalMove if a move were illegal
        assert kept == game["positions"] == len(game["actions"])
        assert position.is_game_over() or position.move_number == 50
        assert position.result() == game["result"]
        winner = BLACK if game["result"].startswith("B") else WHITE
        assert game["z"] == (1.0 if winner == game["colour"] else -1.0)


def _one_move_batch(z: float) -> dict[str, np.ndarray]:
    position = Position.new(RULES)
    return {"planes": features(position)[None], "legal": position.legal_moves()[None].copy(),
            "move": np.array([12]), "z": np.array([z], np.float32)}


@pytest.mark.parametrize("z", [1.0, -1.0])
def test_a_reinforce_step_makes_a_won_move_likelier_and_a_lost_one_rarer(z):
    learner = ReinforceLearner(SPEC.__dict__, numpy_state(tiny_policy()), lr=0.1,
                               baseline="none", device="cpu")
    batch = _one_move_batch(z)

    def p_move() -> float:
        with torch.no_grad():
            logits = learner.net(torch.from_numpy(batch["planes"]).float())
        return torch.softmax(logits, 1)[0, 12].item()

    before = p_move()
    learner.step(batch)
    assert (p_move() - before) * z > 0
    assert learner.get_weights()[0] == 1


def test_the_pool_grows_every_pool_every_steps_keeps_the_newest_and_survives_a_checkpoint():
    learner = ReinforceLearner(SPEC.__dict__, numpy_state(tiny_policy()), lr=0.01,
                               pool_every=2, pool_size=2, device="cpu")
    for _ in range(6):
        learner.step(_one_move_batch(1.0))
    version, weights = learner.get_weights()
    assert version == 6 and sorted(weights["pool"]) == [4, 6]
    buffer = io.BytesIO()
    torch.save(learner.state_dict(), buffer)
    buffer.seek(0)
    resumed = ReinforceLearner(SPEC.__dict__, numpy_state(tiny_policy(5)), device="cpu")
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert resumed.steps == 6 and sorted(resumed.pool) == [4, 6]
    for key, value in weights["policy"].items():
        assert np.array_equal(resumed.get_weights()[1]["policy"][key], value)


SMALL = dict(size=5, komi=0.5, max_moves=40, games_per_iteration=8, batch_games=4,
             pool_every=2, eval_every=2, eval_games=8, checkpoint_every=1, sgf_every=1,
             progress_every=0.0)
TWO_ACTORS = RuntimeSettings(actors=2, actor_cpus=0.5, learner_cpus=0.0, max_in_flight=1)


def test_train_rl_on_ray_writes_checkpoints_pool_and_policy_then_resumes(ray_session,
                                                                          tmp_path, sl_file):
    run = tmp_path / "run"
    config = RLConfig(init=sl_file, iterations=2, runtime=TWO_ACTORS, **SMALL)
    lines: list[str] = []
    summary = run_rl(config, run, progress=lines.append, command="rlgo go train-rl test")
    assert summary["iterations"] == 2 and summary["games"] == 16
    assert 0.0 <= summary["win_rate_vs_sl"] <= 1.0
    assert any("vs SL" in line and "weights v2" in line for line in lines)
    assert sorted(p.name for p in (run / "pool").iterdir()) == ["policy-v000000.pt",
                                                                 "policy-v000002.pt"]
    assert list((run / "checkpoints").glob("ckpt-*.pt"))
    policy = load_network(run / "rl_policy.pt", "policy", 5)
    assert policy.meta["iterations"] == 2 and policy.meta["command"] == "rlgo go train-rl test"
    assert policy.meta["win_rate_vs_sl"] == summary["win_rate_vs_sl"]
    with pytest.raises(RunDirError, match="already holds a run"):
        run_rl(config, run, progress=None)
    more = run_rl(RLConfig(init=sl_file, iterations=3, runtime=TWO_ACTORS, **SMALL),
                  run, resume=True, progress=None)
    assert more["iterations"] == 3 and more["games"] == 24
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    assert {float(r["weights_version"]) for r in rows} == {1.0, 2.0, 3.0}


def _command(args: list[str]) -> int:
    """`rlgo go ARGS` (rlgo.cli.main: user errors are one line and exit status 2)."""
    return main(["go", *args])


def test_the_train_rl_command_reports_the_win_rate_and_user_errors_in_one_line(
        tmp_path, sl_file, capsys):
    small = [f"--set={k}={v}" for k, v in SMALL.items()]
    run = str(tmp_path / "run")
    assert _command(["train-rl", "--init", sl_file, "--run-dir", run, "--iterations", "1",
                     "--local", "--actors", "1", "--quiet", *small]) == 0
    out = capsys.readouterr().out
    assert re.search(r"train-rl done: 1 iterations, 8 games .* win rate vs SL [\d.]+% over 8 "
                     r"games", out)
    assert _command(["train-rl", "--run-dir", run]) == 2
    assert "needs the SL policy" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a network")
    assert _command(["train-rl", "--init", str(bad), "--run-dir", str(tmp_path / "r2")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a readable weight file" in err
    assert _command(["train-rl", "--init", sl_file, "--run-dir", str(tmp_path / "r3"),
                     "--set", "pool_evry=3"]) == 2
    assert "pool_evry" in capsys.readouterr().err
