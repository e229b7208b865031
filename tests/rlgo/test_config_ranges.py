"""Config values are range-checked where they are loaded (issue 22, finding 5): `go selfplay
--set runtime.actors=-1` (then `actors=-1`), `runtime.actor_cpus=0`, `temperature=-1` and
`dirichlet_alpha=-1` all played a game and exited 0. Every config a command loads now refuses
a value out of range in one line that names the key (envs.checks.check_ranges)."""

from __future__ import annotations

import pytest

from agents.alphago.search.mcts import MCTSConfig
from rlgo.cli import main
from rlgo.config import ConfigError, load_config, shipped_config, shipped_configs
from selfplay.atari.config import DQNConfig
from selfplay.go.loop import SelfPlayConfig
from selfplay.go.rl import RLConfig
from selfplay.go.teacher import TeacherSettings
from selfplay.go.train_rollout import RolloutTrainConfig
from selfplay.go.train_sl import SLConfig
from selfplay.go.value import ValueConfig

CONFIGS = (SelfPlayConfig, RLConfig, ValueConfig, SLConfig, RolloutTrainConfig,
           TeacherSettings, DQNConfig, MCTSConfig)


@pytest.mark.parametrize("override", ["runtime.actors=-1", "runtime.actor_cpus=0",
                                      "temperature=-1", "dirichlet_alpha=-1"])
def test_selfplay_refuses_the_values_it_used_to_play_with(tmp_path, capsys, override):
    run_dir = tmp_path / "run"
    assert main(["go", "selfplay", "--set", override, "--set", "games=1", "--local",
                 "--quiet", "--run-dir", str(run_dir)]) == 2
    captured = capsys.readouterr()
    key = override.split("=")[0]
    assert captured.out == "" and captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith(f"rlgo: error: --set: {key} must be "), captured.err
    assert not run_dir.exists()  # nothing played, nothing written


@pytest.mark.parametrize("cls, override, message", [
    (SelfPlayConfig, "dirichlet_weight=1.5", "dirichlet_weight must be in [0, 1]"),
    (SelfPlayConfig, "lr=0", "lr must be above 0"),
    (SelfPlayConfig, "lr=.inf", "lr must be a finite number"),
    (SelfPlayConfig, "seed=-1", "seed must be 0 or more"),
    (SelfPlayConfig, "size=1", "board size"),
    (SelfPlayConfig, "runtime.max_in_flight=0", "runtime.max_in_flight must be at least 1"),
    (SelfPlayConfig, "lr=1" + "0" * 400, "lr is too large a number"),
    (RLConfig, "momentum=-0.1", "momentum must be in [0, 1]"),
    (RLConfig, "threads=0", "threads must be at least 1"),
    (RLConfig, "komi=.nan", "komi"),
    (ValueConfig, "u_max=-1", "u_max must be 0 or more"),
    (ValueConfig, "lr=-0.003", "lr must be above 0"),
    (SLConfig, "weight_decay=-1", "weight_decay must be 0 or more"),
    (SLConfig, "momentum=0", "momentum must be above 0 for sgd"),
    (RolloutTrainConfig, "progress_every=-1", "progress_every must be 0 or more"),
    (TeacherSettings, "move_timeout=0", "move_timeout must be above 0"),
    (TeacherSettings, "levels=[-1]", "levels must be 0 or more"),
    (DQNConfig, "adam_eps=0", "adam_eps must be above 0"),
    (DQNConfig, "grad_clip=-1", "grad_clip must be above 0"),
    (DQNConfig, "gamma=0", "gamma must be above 0"),
    (DQNConfig, "mlp_hidden=[64, 0]", "mlp_hidden widths must be at least 1"),
    (DQNConfig, "replay.priority_eps=0", "replay.priority_eps must be above 0"),
    (DQNConfig, "replay.priority_alpha=2", "replay.priority_alpha must be in [0, 1]"),
    (MCTSConfig, "temperature=-1", "temperature must be 0 or more"),
    (MCTSConfig, "resign_threshold=1.5", "resign_threshold must be in [0, 1]"),
])
def test_each_config_refuses_values_out_of_range(cls, override, message):
    with pytest.raises(ConfigError) as err:
        load_config(cls, None, [override])
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("cls", CONFIGS)
def test_defaults_are_in_range(cls):
    load_config(cls)


@pytest.mark.parametrize("name", shipped_configs("go") + shipped_configs("atari"))
def test_shipped_configs_are_in_range(name):
    cls = {"go/rl_9x9": RLConfig, "go/rollout_9x9": RolloutTrainConfig,
           "go/selfplay_9x9": SelfPlayConfig, "go/sl_9x9": SLConfig, "go/sl_19x19": SLConfig,
           "go/value_9x9": ValueConfig}.get(name, DQNConfig)
    load_config(cls, shipped_config(name))


def test_atari_train_refuses_a_bad_value_before_it_starts(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["atari", "train", "--env", "CartPole-v1", "--set", "eps_end=-0.1",
                 "--run-dir", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err == "rlgo: error: --set: eps_end must be in [0, 1], got -0.1\n"
    assert not run_dir.exists()
