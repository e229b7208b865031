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
    edge_map,
    load_network,
    resize_policy,
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


@pytest.mark.parametrize("size", [9, 13, 19])
def test_a_policy_net_ships_for_every_size_the_gui_offers(size):
    path = default_weights("policy", size)
    assert path is not None, f"no policy_{size}x{size}.pt in agents/alphago/weights"
    net = load_network(path, "policy", size)
    planes = torch.zeros(2, net.spec.in_planes, size, size)
    assert net(planes).shape == (2, size * size + 1)
    assert path.stat().st_size < 10 * 2**20


def test_a_resized_policy_keeps_its_lines_and_its_convolutions():
    """edge_map: lines as far from the nearest edge, capped at the middle, mirrored; a 19x19
    net on 13x13 gives each point the bias of its 19x19 counterpart, the trunk unchanged."""
    assert list(edge_map(13, 19)) == [0, 1, 2, 3, 4, 5, 6, 13, 14, 15, 16, 17, 18]
    assert list(edge_map(19, 9)) == [0, 1, 2, 3] + [4] * 11 + [5, 6, 7, 8]
    net = PolicyNet(NetSpec(size=19, planes="simple", layers=1, filters=4))
    with torch.no_grad():
        net.point_bias.copy_(torch.arange(361, dtype=torch.float32))
    small = resize_policy(net, 13)
    assert small.spec.size == 13 and small.meta["resized_from"] == 19
    bias = small.point_bias.view(13, 13)
    assert bias[0, 0] == 0 and bias[12, 12] == 360 and bias[2, 10] == 2 * 19 + 16
    assert torch.equal(small.trunk.body[0].weight, net.trunk.body[0].weight)
    assert resize_policy(net, 19) is net
