"""Rainbow's six parts together in the training loop (CartPole, a few hundred steps), the
Machado protocol on Pong, the config's new keys and their one-line errors, and Ape-X with
noisy nets (and its refusal of a distributional head)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from rlgo.cli import main
from rlgo.config import ConfigError, load_config
from selfplay.atari import DQNConfig, ReplayConfig, train
from selfplay.atari.config import make_network, protocol_text, rainbow_parts
from selfplay.atari.evaluate import play_episodes
from selfplay.rundir import load_checkpoint_file

RAINBOW_CARTPOLE = DQNConfig(
    env="CartPole-v1", total_steps=600, learning_starts=200, batch_size=16, optimizer="adam",
    lr=1e-3, n_step=3, target_update=100, train_every=2, double=True, dueling=True,
    prioritized=True, distributional=True, atoms=21, v_min=0.0, v_max=50.0, noisy=True,
    network="mlp", mlp_hidden=(32, 32), eps_start=0.0, eps_end=0.0, eps_decay_steps=0,
    eval_every=300, eval_episodes=2, eval_eps=0.0, checkpoint_every=300, log_every=300,
    num_envs=2, seed=3, device="cpu", torch_threads=1, replay=ReplayConfig(capacity=600))


def test_all_six_parts_train_on_cartpole_and_the_checkpoint_evaluates(tmp_path):
    lines: list[str] = []
    result = train(RAINBOW_CARTPOLE, None, tmp_path / "run", log=lines.append)
    assert result.steps == 600 and result.updates == (600 - 200) // 2 + 1
    assert "[CartPole-v1] agent double+dueling+prioritized+3-step+c51(21)+noisy" in lines
    assert sum("eval at step" in line for line in lines) == 2
    progress = [line for line in lines if line.startswith("[CartPole-v1] step 600/")]
    assert progress and "loss nan" not in progress[0]
    state = load_checkpoint_file(result.checkpoint)
    network = make_network(RAINBOW_CARTPOLE, state["obs_shape"], state["num_actions"])
    network.load_state_dict(state["learner"]["network"])
    assert network.distributional and network.noisy
    network.eval()  # mean weights: two evaluations with one seed play the same games
    first = play_episodes(network, "CartPole-v1", RAINBOW_CARTPOLE, 2, 0.0, seed=5)
    assert play_episodes(network, "CartPole-v1", RAINBOW_CARTPOLE, 2, 0.0, seed=5) == first


def test_machado_protocol_on_pong_is_named_in_the_log_and_plays_18_actions(tmp_path):
    config = DQNConfig(
        total_steps=96, learning_starts=48, batch_size=4, train_every=8, target_update=80,
        optimizer="adam", lr=1e-4, n_step=3, double=True, dueling=True, prioritized=True,
        distributional=True, noisy=True, eps_start=0.0, eps_end=0.0, eps_decay_steps=0,
        eval_every=0, checkpoint_every=96, log_every=48, num_envs=2, device="cpu",
        torch_threads=1, protocol="machado", replay=ReplayConfig(capacity=96))
    assert (config.sticky_actions, config.full_action_space, config.episodic_life) == \
        (True, True, False)
    lines: list[str] = []
    result = train(config, "Pong", tmp_path / "run", log=lines.append)
    assert any(line.startswith("[Pong] agent ") and line.endswith("protocol machado")
               for line in lines)
    assert any(line.startswith("[Pong | machado] step 96/96") for line in lines)
    assert load_checkpoint_file(result.checkpoint)["num_actions"] == 18


def test_protocol_keys_resolve_and_contradictions_are_one_line_errors():
    assert DQNConfig().protocol == "nature" and DQNConfig().episodic_life is True
    assert DQNConfig(sticky_actions=True, full_action_space=True,
                     episodic_life=False).protocol == "machado"
    custom = DQNConfig(sticky_actions=True)
    assert protocol_text(custom) == ("custom (sticky actions 0.25, minimal action set, life "
                                     "loss terminal)")
    assert rainbow_parts(DQNConfig()) == "dqn"
    for override, message in [
        (["protocol=machado", "episodic_life=true"],
         "protocol machado sets episodic_life to false, not true; drop episodic_life or set "
         "protocol: custom"),
        (["protocol=shiny"], "protocol must be one of"),
        (["atoms=1"], "atoms must be at least 2, got 1"),
        (["v_min=5", "v_max=5"], "v_min (5.0) must be below v_max (5.0)"),
        (["noisy_sigma0=0"], "noisy_sigma0 must be above 0, got 0.0"),
    ]:
        with pytest.raises(ConfigError) as err:
            load_config(DQNConfig, None, override)
        assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["atari/rainbow", "atari/der_100k"])
def test_the_rainbow_presets_turn_on_all_six_parts(name):
    config = load_config(DQNConfig, name)
    assert rainbow_parts(config).split("+")[:3] == ["double", "dueling", "prioritized"]
    assert config.distributional and config.noisy and config.eps_end == 0.0
    assert config.protocol == "nature"
    network = make_network(config, (4, 84, 84), 6)
    assert network(torch.zeros(2, 4, 84, 84, dtype=torch.uint8)).shape == (2, 6)


def test_ape_x_trains_noisy_nets_and_refuses_a_distributional_head(tmp_path, capsys):
    run = tmp_path / "run"
    common = ["atari", "train", "--env", "CartPole-v1", "--distributed", "--actors", "2",
              "--address", "local", "--set", "total_steps=200", "--set", "learning_starts=100",
              "--set", "log_every=100", "--set", "eval_every=0", "--set",
              "replay.capacity=400"]
    assert main([*common, "--run-dir", str(run), "--set", "noisy=true"]) == 0
    assert "Ape-X: 2 actors" in capsys.readouterr().out
    assert main([*common, "--run-dir", str(tmp_path / "c51"), "--set",
                 "distributional=true"]) == 2
    err = capsys.readouterr().err
    assert "--distributed does not take distributional: true yet" in err
    assert err.count("\n") == 1


def test_evaluation_during_training_turns_the_noise_off_and_back_on(tmp_path):
    from selfplay.atari.train import evaluate_now

    config = dataclasses.replace(RAINBOW_CARTPOLE, eval_episodes=1)
    network = make_network(config, (1, 4), 2)
    seen: list[bool] = []
    network.register_forward_pre_hook(lambda module, args: seen.append(module.training))
    evaluate_now(network, "CartPole-v1", config, 0, torch.device("cpu"), lambda line: None)
    assert seen and not any(seen) and network.training
