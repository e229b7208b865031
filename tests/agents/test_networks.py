"""Networks: output shapes, weight files that round-trip, and clear errors for bad files."""

from __future__ import annotations

import pytest
import torch

from agents.alphago.nets.networks import (
    NetSpec,
    PolicyNet,
    ValueNet,
    WeightsError,
    as_input,
    default_weights,
    load_network,
    save_network,
)


def test_shapes():
    planes = torch.zeros(5, 48, 9, 9)
    assert PolicyNet(NetSpec(layers=2, filters=8))(planes).shape == (5, 82)
    value = ValueNet(NetSpec(kind="value", layers=2, filters=8))(torch.zeros(5, 49, 9, 9))
    assert value.shape == (5,) and bool((value.abs() <= 1).all())


def test_round_trip_keeps_weights_and_meta(tmp_path):
    net = PolicyNet(NetSpec(planes="simple", layers=2, filters=8)).eval()
    save_network(tmp_path / "p.pt", net, meta={"val_top1": 0.5})
    loaded = load_network(tmp_path / "p.pt", "policy", 9)
    x = as_input(torch.randint(0, 2, (3, 16, 9, 9), dtype=torch.uint8).numpy())
    assert torch.equal(net(x), loaded(x)) and loaded.meta == {"val_top1": 0.5}
    assert not loaded.training


@pytest.mark.parametrize("case, message", [
    ("value", "holds a value network, expected a policy network"),
    ("size", "a network for 13x13, but the board is 9x9"),
    ("garbage", "not a readable weight file"),
    ("missing", "no such weight file"),
    ("other", "not an rlgo network file"),
    ("shape", "weights do not match"),
])
def test_bad_files_are_one_line_errors(tmp_path, case, message):
    path = tmp_path / f"{case}.pt"
    if case == "value":
        save_network(path, ValueNet(NetSpec(kind="value", layers=1, filters=4)))
    elif case == "size":
        save_network(path, PolicyNet(NetSpec(size=13, layers=1, filters=4)))
    elif case == "garbage":
        path.write_bytes(b"\x00garbage")
    elif case == "other":
        torch.save({"weights": torch.zeros(3)}, path)
    elif case == "shape":
        save_network(path, PolicyNet(NetSpec(layers=1, filters=4)))
        payload = torch.load(path, weights_only=True)
        payload["spec"]["filters"] = 8
        torch.save(payload, path)
    with pytest.raises(WeightsError) as err:
        load_network(path, "policy", 9)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_shipped_policy_loads_if_present():
    path = default_weights("policy", 9)
    if path is None:
        pytest.skip("no shipped 9x9 policy weights")
    net = load_network(path, "policy", 9)
    assert net(torch.zeros(2, net.spec.in_planes, 9, 9)).shape == (2, 82)
    assert path.stat().st_size < 5 * 2**20
