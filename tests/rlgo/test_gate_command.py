"""`rlgo go gate`: two play nets in the self-play loop's gate, from the command line."""

from __future__ import annotations

import json

import torch

from agents.alphago.nets.networks import NetSpec, build_network, save_network
from rlgo.cli import main


def _net(path, seed: int):
    torch.manual_seed(seed)
    spec = NetSpec(kind="play", size=5, planes="simple", layers=1, filters=8, hidden=8)
    return save_network(path, build_network(spec))


def test_two_play_nets_play_the_gate_and_the_result_is_written(tmp_path, capsys):
    a, b = _net(tmp_path / "a.pt", 0), _net(tmp_path / "b.pt", 1)
    out = tmp_path / "gate.json"
    assert main(["go", "gate", str(a), str(b), "--games", "4", "--visits", "4", "--komi",
                 "0.5", "--json", str(out), "--sgf-dir", str(tmp_path / "sgf"), "--quiet"]) == 0
    result = json.loads(out.read_text())
    assert result["games"] == 4 == result["wins"] + result["draws"] + result["losses"]
    assert result["interval"][0] <= result["score"] <= result["interval"][1]
    assert len(list((tmp_path / "sgf").glob("game-*.sgf"))) == 4
    assert "A scores" in capsys.readouterr().out


def test_a_play_net_against_the_network_free_bootstrap(tmp_path, capsys):
    a = _net(tmp_path / "a.pt", 0)
    assert main(["go", "gate", str(a), "rollouts", "--games", "2", "--visits", "4",
                 "--quiet"]) == 0
    assert "2 games" in capsys.readouterr().out


def test_a_file_that_is_not_a_play_net_is_one_line_and_status_2(tmp_path, capsys):
    torch.manual_seed(0)
    policy = save_network(tmp_path / "p.pt", build_network(NetSpec(kind="policy", size=5,
                                                                   layers=1, filters=4)))
    assert main(["go", "gate", str(policy), "sl", "--games", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "play network" in err[0]
