"""Every `rlgo` command's --help, read side by side: the same flag means the same thing,
takes the same values and has the same default everywhere, and every help text is there and
true (a file it points to exists, a default it names is the one the code uses)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from envs.go import DEFAULT_KOMI
from rlgo.cli import build_parser, main
from rlgo.commands import DEVICES

ROOT = Path(__file__).resolve().parents[2]
# the commands that train or run a network: each takes --device
DEVICE_COMMANDS = ("go gtp", "go play", "go train-sl", "go train-rl", "go train-value",
                   "go train-rollout", "go selfplay", "go gate", "go analysis", "atari train",
                   "atari eval")
QUIET_COMMANDS = ("go gtp", "go analysis", "go match", "go gate", "go selfplay", "go gen-data",
                  "go import-tygem", "go dataset", "go train-sl", "go train-rl", "go train-value",
                  "go train-rollout", "atari train", "atari eval")


def _commands(parser: argparse.ArgumentParser,
              name: str = "") -> dict[str, argparse.ArgumentParser]:
    """"go show" -> its parser, for every command (a parser without subcommands)."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                found.update(_commands(subparser, f"{name} {sub}".strip()))
    return found or {name: parser}


COMMANDS = _commands(build_parser())


def _option(command: str, flag: str) -> argparse.Action | None:
    return next((a for a in COMMANDS[command]._actions if flag in a.option_strings), None)


def _help(action: argparse.Action) -> str:
    return " ".join((action.help or "").split())


def test_the_walk_finds_every_command():
    assert {"go show", "go gtp", "go match", "atari games", "atari train", "bench go"} \
        <= set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_and_option_says_what_it_is(command, capsys):
    parser = COMMANDS[command]
    assert parser.description, f"rlgo {command} --help has no description"
    for action in parser._actions:
        assert action.help, f"rlgo {command}: {action.option_strings or action.dest} has no help"
    assert main([*command.split(), "--help"]) == 0
    assert parser.description.split()[0] in capsys.readouterr().out


def test_every_help_page_formats_cleanly():
    # argparse %-formats help strings: a bare "95% s" once printed an argparse dict into the
    # command list of `rlgo atari --help`
    def walk(parser):
        yield parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for subparser in action.choices.values():
                    yield from walk(subparser)

    for parser in walk(build_parser()):
        text = parser.format_help()
        assert "option_strings" not in text and "%%" not in text, parser.prog


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_flag_means_the_same_on_every_command(command):
    device = _option(command, "--device")
    assert (device is not None) == (command in DEVICE_COMMANDS), command
    if device is not None:
        assert tuple(device.choices) == DEVICES
    assert (_option(command, "--quiet") is not None) == (command in QUIET_COMMANDS), command
    komi = _option(command, "--komi")
    if komi is not None:
        assert komi.default in (DEFAULT_KOMI, None)  # None: play's 0.5 for handicap games
        assert f"default {DEFAULT_KOMI:g}" in _help(komi)
    threads = _option(command, "--threads")
    if threads is not None:  # the CPU cores the command computes on, never something else
        assert _help(threads).startswith("CPU cores"), command


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_files_named_in_help_exist(command):
    """A help text that points to a file points to a real one (a YAML config, not a .py)."""
    for action in COMMANDS[command]._actions:
        for path in re.findall(r"\b(?:configs|agents|selfplay)/[\w/.]+\.\w+", _help(action)):
            assert (ROOT / path).is_file(), f"rlgo {command} {action.option_strings}: {path}"
    config = _option(command, "--config")
    if config is not None:
        assert ".py" not in _help(config) or "presets.py" in _help(config)


def test_the_network_options_say_what_ships():
    from agents.alphago.nets.networks import default_weights

    value = _help(_option("go gtp", "--value-weights"))
    # the help says whether one ships (update it when one does)
    assert ("none does yet" in value) == (default_weights("value", 9) is None)
    mix = _help(_option("go gtp", "--lambda"))
    assert "without one" in mix and "L = 1" in mix


def test_match_names_engines_a_and_b_as_the_colours_alternate():
    args = build_parser().parse_args(["go", "match", "--engine-a", "x", "--engine-b", "y"])
    old = build_parser().parse_args(["go", "match", "--black", "x", "--white", "y"])
    assert (args.black, args.white) == (old.black, old.white) == ("x", "y")


def test_atari_train_and_eval_take_quiet_and_device(tmp_path, capsys):
    run = str(tmp_path / "run")
    quick = ["--set", "total_steps=200", "--set", "learning_starts=100", "--set",
             "eval_every=0", "--set", "checkpoint_every=200", "--set", "log_every=100"]
    assert main(["atari", "train", "--config", "atari/cartpole", *quick, "--run-dir", run,
                 "--device", "cpu", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()  # the run directory and checkpoint alone
    assert [line.split(":")[0] for line in out] == ["run directory", "checkpoint"]
    assert main(["atari", "eval", "--checkpoint", run, "--episodes", "2", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("CartPole-v1: 2 episodes: mean")


def test_an_os_error_reads_as_file_and_reason(tmp_path, capsys):
    """Python's "[Errno 2] No such file or directory: 'x'" becomes "'x': No such file or
    directory", for every command (rlgo.cli.error_text)."""
    data = tmp_path / "nope"
    data.mkdir()
    assert main(["go", "train-sl", "--data", str(data), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"rlgo: error: '{data / 'meta.json'}': No such file or directory"


def test_the_engine_takes_auto_and_refuses_a_missing_cuda_in_one_line(capsys):
    import torch

    from rlgo.commands.gtp import network_options

    args = build_parser().parse_args(["go", "gtp", "--device", "auto"])
    assert network_options(args)["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        assert main(["go", "gtp", "--device", "cuda"]) == 2
        assert capsys.readouterr().err == \
            "rlgo: error: --device cuda: no CUDA device is available\n"
