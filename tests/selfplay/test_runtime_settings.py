"""One RuntimeSettings and one make_backend for every driver: the local backend, embedded Ray's
size, strict loading of the `runtime:` section, the flags that feed it, and a resume that
may move a run but not change what it computes."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from rlgo.cli import build_parser
from rlgo.commands.selfplay import config_from_args
from rlgo.config import ConfigError, load_config
from selfplay.go.loop import RESUMABLE, SelfPlayConfig
from selfplay.go.rl import RLConfig
from selfplay.go.value import ValueConfig
from selfplay.rundir import RunDir, RunDirError
from selfplay.runtime import LocalBackend, RuntimeSettings, make_backend, run_identity
from selfplay.runtime.settings import placement_keys

ROOT = Path(__file__).resolve().parents[2]


def test_the_local_backend_takes_the_drivers_batch_and_seed():
    backend = make_backend(RuntimeSettings(backend="local"), seed=3, games_per_call=4)
    assert isinstance(backend, LocalBackend) and backend.games_per_call == 4


def test_embedded_ray_has_all_cores_or_room_for_the_actors_asked_for():
    assert RuntimeSettings().embedded_cpus() is None  # Ray's own default: all cores
    assert RuntimeSettings(num_cpus=3, actors=50).embedded_cpus() == 3
    many = RuntimeSettings(actors=4 * (os.cpu_count() or 1), actor_cpus=1.0, learner_cpus=1.0)
    assert many.embedded_cpus() == many.actors + 1


def test_settings_refuse_what_cannot_run():
    with pytest.raises(ValueError, match="need backend 'ray'"):
        RuntimeSettings(backend="local", address="auto")
    with pytest.raises(ValueError, match="runtime.max_in_flight"):
        RuntimeSettings(max_in_flight=0)
    with pytest.raises(ValueError, match="one learner"):
        RLConfig(runtime=RuntimeSettings(learners=2))


def test_the_runtime_section_loads_strictly_and_a_partial_one_keeps_the_drivers_defaults(
        tmp_path):
    config = load_config(SelfPlayConfig, ROOT / "configs/go/selfplay_9x9.yaml",
                         ["runtime.address=auto", "runtime.actors=16"])
    assert config.runtime.address == "auto" and config.runtime.actors == 16
    with pytest.raises(ConfigError, match="unknown key 'runtime.adress'"):
        load_config(SelfPlayConfig, None, ["runtime.adress=auto"])
    path = tmp_path / "bad.yaml"
    path.write_text("runtime:\n  actor: 2\n")
    with pytest.raises(ConfigError, match=f"{path}: unknown key 'runtime.actor'"):
        load_config(RLConfig, path)
    # train-rl reserves no CPU for its learner; a section naming only the address keeps that
    rl = load_config(RLConfig, None, ["runtime.address=auto"])
    assert rl.runtime == dataclasses.replace(RLConfig().runtime, address="auto")
    assert rl.runtime.learner_cpus == 0.0 and rl.runtime.max_in_flight == 1
    for cls, name in ((RLConfig, "rl_9x9"), (ValueConfig, "value_9x9")):
        assert load_config(cls, ROOT / f"configs/go/{name}.yaml").runtime == cls().runtime


def test_placement_flags_feed_the_runtime_section():
    args = build_parser().parse_args(
        ["go", "selfplay", "--config", str(ROOT / "configs/go/selfplay_9x9.yaml"),
         "--address", "auto", "--actors", "3", "--num-cpus", "4", "--learners", "2"])
    runtime = config_from_args(args).runtime
    assert (runtime.address, runtime.actors, runtime.num_cpus, runtime.learners) == (
        "auto", 3, 4, 2)
    args = build_parser().parse_args(["go", "selfplay", "--local"])
    assert config_from_args(args).runtime.backend == "local"
    args = build_parser().parse_args(["go", "selfplay", "--local", "--address", "auto"])
    with pytest.raises(ConfigError, match="need backend 'ray'"):
        config_from_args(args)


def test_a_resumed_run_may_move_but_not_change_what_it_computes(tmp_path):
    assert placement_keys(SelfPlayConfig, RESUMABLE) == {"runtime", *RESUMABLE}
    config = SelfPlayConfig(games=10)
    RunDir(tmp_path, run_identity(config, RESUMABLE))
    moved = dataclasses.replace(config, games=20, runtime=RuntimeSettings(
        address="auto", actors=8, learners=2, max_recoveries=0))
    RunDir(tmp_path, run_identity(moved, RESUMABLE), resume=True)
    with pytest.raises(RunDirError, match="differs .* in lr"):
        RunDir(tmp_path, run_identity(dataclasses.replace(config, lr=0.1), RESUMABLE),
               resume=True)
