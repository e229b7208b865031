"""Strict config loading: files, overrides, nested sections, and the errors users see."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rlgo.config import (
    ConfigError,
    config_file,
    dump_config,
    load_config,
    shipped_config,
    shipped_configs,
)

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@dataclass(frozen=True)
class Replay:
    capacity: int = 1000
    alpha: float = 0.6


@dataclass(frozen=True)
class Train:
    total_steps: int = 10
    lr: float = 1e-3
    name: str = "run"
    double: bool = False
    sizes: tuple[int, ...] = (9, 19)
    device: str | None = None
    replay: Replay = field(default_factory=Replay)


def test_defaults_without_a_file():
    assert load_config(Train) == Train()


def test_file_and_overrides(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("total_steps: 500\nreplay:\n  capacity: 64\nsizes: [5, 7]\n")
    cfg = load_config(Train, path, ["lr=0.01", "replay.alpha=0.5", "double=true", "name=pong"])
    assert cfg.total_steps == 500 and cfg.replay.capacity == 64 and cfg.replay.alpha == 0.5
    assert cfg.lr == 0.01 and cfg.double is True and cfg.name == "pong" and cfg.sizes == (5, 7)
    assert load_config(Train, None, ["device=cuda"]).device == "cuda"


def test_exponents_without_a_dot_are_numbers(tmp_path):
    # YAML 1.1 (PyYAML) reads 1e-8 as a string; users write it in files and in --set
    path = tmp_path / "train.yaml"
    path.write_text("lr: 1e-8\nreplay:\n  alpha: 5E-1\n")
    cfg = load_config(Train, path, ["total_steps=20"])
    assert cfg.lr == 1e-8 and cfg.replay.alpha == 0.5
    assert load_config(Train, None, ["lr=1e-4"]).lr == 1e-4
    assert load_config(Train, None, ["lr=-2.5E+3"]).lr == -2500.0
    assert load_config(Train, None, ["name=1e4x"]).name == "1e4x"  # not a number: stays text
    assert load_config(Train, None, ["total_steps=2e6"]).total_steps == 2_000_000
    with pytest.raises(ConfigError, match="total_steps must be int"):
        load_config(Train, None, ["total_steps=2.5"])


def test_errors_name_the_override_or_the_file_at_fault(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("lr: 0.5\n")
    bad.write_text("lr: fast\n")
    with pytest.raises(ConfigError, match=r"^--set: lr must be float, got 'abc'"):
        load_config(Train, good, ["lr=abc"])
    with pytest.raises(ConfigError, match=r"^--set: unknown key 'replay.alfa'"):
        load_config(Train, good, ["replay.alfa=1"])
    with pytest.raises(ConfigError, match=r"bad\.yaml: lr must be float, got 'fast'"):
        load_config(Train, bad, ["total_steps=5"])
    assert load_config(Train, bad, ["lr=0.1"]).lr == 0.1  # an override may mend the file


def test_unknown_key_names_the_key_and_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("replay:\n  capacty: 5\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*'replay\.capacty'"):
        load_config(Train, path)
    with pytest.raises(ConfigError, match="unknown key 'totl_steps'"):
        load_config(Train, None, ["totl_steps=3"])


@pytest.mark.parametrize("override", ["total_steps=abc", "total_steps=1.5", "double=3",
                                      "replay=5", "sizes=7", "lr"])
def test_bad_values_are_refused(override):
    with pytest.raises(ConfigError):
        load_config(Train, None, [override])


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(Train, tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(Train, tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML") as caught:
        load_config(Train, tmp_path / "broken.yaml")
    assert "\n" not in str(caught.value)  # PyYAML's own message quotes the text over lines
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.yaml is not UTF-8 text \(byte 9\)"):
        load_config(Train, tmp_path / "latin1.yaml")


@pytest.mark.parametrize("override", ["sizes=[1,", "name=!!python/object/apply:os.system [ls]",
                                      "name={a: 1"])
def test_override_that_is_not_yaml_is_one_line(override):
    with pytest.raises(ConfigError, match=r"^--set .* is not valid YAML: ") as caught:
        load_config(Train, None, [override])
    assert "\n" not in str(caught.value)


def test_dump_round_trips(tmp_path):
    cfg = load_config(Train, None, ["replay.capacity=7"])
    path = tmp_path / "resolved.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(Train, path) == cfg


@pytest.mark.parametrize("name", ["go", "mcts", "atari"])
def test_shipped_bench_configs_load(name):
    """The configs the Makefile and README name for `rlgo bench` hold only known keys."""
    from rlgo.bench import atari, go, mcts

    cls = {"go": go.GoBenchConfig, "mcts": mcts.MctsBenchConfig,
           "atari": atari.AtariBenchConfig}[name]
    assert isinstance(load_config(cls, shipped_config(f"bench/{name}")), cls)


def test_every_file_in_configs_is_shipped_under_its_name():
    names = sorted(p.relative_to(CONFIGS).with_suffix("").as_posix()
                   for p in CONFIGS.rglob("*.yaml"))
    assert names and shipped_configs() == names
    assert shipped_configs("atari") == [n for n in names if n.startswith("atari/")]
    for spelling in ("atari/pong", "atari/pong.yaml", "configs/atari/pong.yaml"):
        assert shipped_config(spelling).read_bytes() == (CONFIGS / "atari/pong.yaml").read_bytes()


def test_config_accepts_a_path_or_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # configs/... is not here: the shipped file answers
    assert config_file("configs/atari/pong.yaml") == shipped_config("atari/pong")
    assert config_file("atari/cartpole") == shipped_config("atari/cartpole")
    (tmp_path / "atari").mkdir()
    (tmp_path / "atari" / "cartpole").write_text("lr: 0.5\n")
    assert config_file("atari/cartpole") == Path("atari/cartpole")  # a real file wins
    assert load_config(Train, "atari/cartpole").lr == 0.5


def test_a_missing_shipped_config_is_an_error_that_names_it(monkeypatch):
    with pytest.raises(ConfigError, match=r"no shipped config 'atari/pongg' \(shipped: .*pong"):
        shipped_config("atari/pongg")
    with pytest.raises(ConfigError, match=r"cannot read config atari/pongg: .*atari/pong"):
        load_config(Train, "atari/pongg")
    monkeypatch.setattr("rlgo.config._shipped_files", dict)  # an install without configs
    with pytest.raises(ConfigError, match="rlgo.configs is not installed"):
        shipped_config("atari/pong")
