"""The Go networks in torch: AlphaGo's policy and value nets, the play net, their weight files.

Both are a convolutional trunk over the feature planes (features.py) as in Silver et al. 2016:
a 5x5 convolution, then `layers - 1` 3x3 convolutions of `filters` channels (the paper: 13
layers of 192 filters on 19x19; 9x9 needs far less). Batch norm is added after every
convolution: it lets a small net train in minutes on a CPU, and costs nothing at play time
(eval mode folds it into an affine map).

    PolicyNet  planes -> logits [B, size*size + 1]: a 1x1 convolution to one plane with a
               bias per point (the paper's position bias), and a pass logit from the pooled
               trunk (9x9 games end with passes, so the net must be able to say it).
               Only the bias is tied to the board size: resize_policy carries a net to
               another size (a 19x19 net starts the 13x13 one).
    ValueNet   planes (+ the player colour plane) -> value [B] in [-1, 1] for the player to
               move: 1x1 convolution, a hidden fully connected layer, tanh.
    PlayNet    the self-play loop's one network (AlphaGo Zero's residual tower with KataGo's
               auxiliary heads): planes (+ colour) -> PlayOutput(logits, value, ownership,
               score). A 3x3 stem, `layers` residual blocks of two 3x3 convolutions, and
               heads: policy (1x1 conv to 2 planes, fully connected to size*size + 1), value
               and score (1x1 conv, mean and max pooled with the trunk's mean, a hidden layer),
               ownership (1x1 conv, tanh per point). The auxiliary targets (who owns each point
               at the end, by how much the game is won) give every position size*size + 1
               more numbers to learn from than its single outcome, which is what lets a small
               data set train a value head (Wu 2019, "Accelerating Self-Play Learning in Go").

The rollout policy is not here: it is a linear softmax evaluated inside the numba playouts.

Weight files are a dict {"format", "spec", "state", "meta"} written atomically by
`save_network`; `load_network` checks the zip's CRCs (envs.checks), reads them with
torch.load(weights_only=True) and says clearly what is wrong with a file that is not one, is
damaged, or does not fit (wrong kind or size).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from agents.alphago.nets.features import num_planes
from envs.atomic import atomic_file
from envs.checks import archive_problem
from envs.errors import UserError

FORMAT = "rlgo-alphago-net-1"
KINDS = ("policy", "value", "play")
WEIGHTS_DIR = Path(__file__).parents[1] / "weights"  # the trained weights shipped in the package


class WeightsError(UserError, ValueError):
    """A weight file that cannot be used (missing, damaged, wrong kind, wrong shape). The
    message is for the user (one line)."""


@dataclass(frozen=True)
class NetSpec:
    """Everything needed to rebuild a network before loading its weights."""

    kind: str = "policy"        # policy | value | play
    size: int = 9
    planes: str = "alphago"     # features.py plane set
    layers: int = 6             # convolutions in the trunk (play: residual blocks)
    filters: int = 64
    hidden: int = 128           # value head's fully connected layer

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise WeightsError(f"unknown network kind {self.kind!r} "
                               f"(expected one of {', '.join(KINDS)})")
        if self.layers < 1 or self.filters < 1 or not 2 <= self.size <= 25:
            raise WeightsError(f"bad network shape: {self}")

    @property
    def in_planes(self) -> int:
        """Input planes: the plane set, plus the player colour for the value net."""
        return num_planes(self.planes, player_colour=self.kind != "policy")


class _Trunk(nn.Module):
    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        convs: list[nn.Module] = []
        channels = spec.in_planes
        for i in range(spec.layers):
            kernel = 5 if i == 0 else 3
            convs += [nn.Conv2d(channels, spec.filters, kernel, padding=kernel // 2, bias=False),
                      nn.BatchNorm2d(spec.filters), nn.ReLU(inplace=True)]
            channels = spec.filters
        self.body = nn.Sequential(*convs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class PolicyNet(nn.Module):
    """Move logits [B, size*size + 1] (pass last) for float planes [B, C, size, size]."""

    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        n = spec.size * spec.size
        self.trunk = _Trunk(spec)
        self.head = nn.Conv2d(spec.filters, 1, 1, bias=False)
        self.point_bias = nn.Parameter(torch.zeros(n))
        self.pass_logit = nn.Linear(spec.filters, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)
        points = self.head(h).flatten(1) + self.point_bias
        return torch.cat([points, self.pass_logit(h.mean(dim=(2, 3)))], dim=1)


class ValueNet(nn.Module):
    """Values [B] in [-1, 1] for the player to move, for float planes [B, C+1, size, size]."""

    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        n = spec.size * spec.size
        self.trunk = _Trunk(spec)
        self.head = nn.Sequential(
            nn.Conv2d(spec.filters, 1, 1), nn.ReLU(inplace=True), nn.Flatten(),
            nn.Linear(n, spec.hidden), nn.ReLU(inplace=True), nn.Linear(spec.hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.head(self.trunk(x))).squeeze(1)


class PlayOutput(NamedTuple):
    """PlayNet's answer for B positions, all for the player to move.

    logits     [B, size*size + 1]  move logits, pass last
    value      [B]                 expected outcome in [-1, 1] (tanh)
    ownership  [B, size*size]      final owner of each point in [-1, 1]: +1 ours, -1 theirs
    score      [B]                 final area margin (komi included) divided by size*size
    """

    logits: torch.Tensor
    value: torch.Tensor
    ownership: torch.Tensor
    score: torch.Tensor


class _Block(nn.Module):
    def __init__(self, filters: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(filters, filters, 3, padding=1, bias=False), nn.BatchNorm2d(filters),
            nn.ReLU(inplace=True),
            nn.Conv2d(filters, filters, 3, padding=1, bias=False), nn.BatchNorm2d(filters))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


class PlayNet(nn.Module):
    """PlayOutput for float planes [B, C+1, size, size] (the plane set and the colour plane)."""

    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        n, f = spec.size * spec.size, spec.filters
        self.stem = nn.Sequential(nn.Conv2d(spec.in_planes, f, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(f), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*(_Block(f) for _ in range(spec.layers)))
        self.policy_conv = nn.Sequential(nn.Conv2d(f, 2, 1, bias=False), nn.BatchNorm2d(2),
                                         nn.ReLU(inplace=True), nn.Flatten())
        self.policy_fc = nn.Linear(2 * n, n + 1)
        self.value_conv = nn.Sequential(nn.Conv2d(f, 2, 1, bias=False), nn.BatchNorm2d(2),
                                        nn.ReLU(inplace=True))
        # pooled: the value planes' mean and max, and the trunk's mean (its global view)
        self.value_fc = nn.Sequential(nn.Linear(4 + f, spec.hidden), nn.ReLU(inplace=True),
                                      nn.Linear(spec.hidden, 2))
        self.ownership = nn.Conv2d(f, 1, 1)

    def forward(self, x: torch.Tensor) -> PlayOutput:
        h = self.blocks(self.stem(x))
        logits = self.policy_fc(self.policy_conv(h))
        v = self.value_conv(h)
        pooled = torch.cat([v.mean(dim=(2, 3)), v.amax(dim=(2, 3)), h.mean(dim=(2, 3))], dim=1)
        value, score = self.value_fc(pooled).unbind(1)
        ownership = torch.tanh(self.ownership(h).flatten(1))
        return PlayOutput(logits, torch.tanh(value), ownership, score)


class ValueHead(nn.Module):
    """A PlayNet's value head alone: what ValueNet answers (values [B] for the player to move)
    from the same input planes, so the alphago player can mix a self-play net's judgement with
    its rollouts (load_value_network)."""

    def __init__(self, net: PlayNet) -> None:
        super().__init__()
        self.net = net
        self.spec = net.spec
        self.meta = getattr(net, "meta", {})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).value


def edge_map(size: int, source: int) -> np.ndarray:
    """int [size]: for each line of a size x size board, the line of a source x source board
    as far from its nearest edge (capped at the source's middle), on the same side."""
    lines = np.arange(size)
    depth = np.minimum(np.minimum(lines, size - 1 - lines), (source - 1) // 2)
    return np.where(lines <= (size - 1) / 2, depth, source - 1 - depth)


def resize_policy(net: PolicyNet, size: int) -> PolicyNet:
    """The policy net for size x size boards: its convolutions apply to any board, and each
    point's bias (the paper's position bias) is that of the net's point as far from the
    nearest edges (edge_map). A 19x19 net so starts, or plays, on 13x13 knowing the lines."""
    if net.spec.size == size:
        return net
    resized = PolicyNet(dataclasses.replace(net.spec, size=size))
    state = dict(net.state_dict())
    rows = edge_map(size, net.spec.size)
    bias = state["point_bias"].view(net.spec.size, net.spec.size)
    state["point_bias"] = bias[rows][:, rows].reshape(-1).clone()
    resized.load_state_dict(state)
    resized.meta = {**getattr(net, "meta", {}), "resized_from": net.spec.size}
    return resized.to(next(net.parameters()).device).train(net.training)


def build_network(spec: NetSpec) -> PolicyNet | ValueNet | PlayNet:
    return {"policy": PolicyNet, "value": ValueNet, "play": PlayNet}[spec.kind](spec)


def network_payload(net: PolicyNet | ValueNet | PlayNet) -> dict[str, Any]:
    """{"spec": dict, "state": {name: float32 array}}: a net as plain picklable data, what
    the self-play runtime broadcasts to its actors (network_from_payload rebuilds it)."""
    return {"spec": dataclasses.asdict(net.spec),
            "state": {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}}


def network_from_payload(payload: dict[str, Any], kind: str | None = None
                         ) -> PolicyNet | ValueNet | PlayNet:
    """The net (eval mode, CPU) that network_payload described; ValueError for another kind."""
    spec = NetSpec(**payload["spec"])
    if kind is not None and spec.kind != kind:
        raise ValueError(f"expected a {kind} network, got a {spec.kind} one")
    net = build_network(spec)
    net.load_state_dict({k: torch.as_tensor(np.array(v)) for k, v in payload["state"].items()})
    return net.eval()


def as_input(planes: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 planes [B, C, S, S] (features.py) -> the float tensor the networks take."""
    return torch.from_numpy(np.ascontiguousarray(planes)).to(device).float()


def save_network(path: str | Path, net: PolicyNet | ValueNet | PlayNet,
                 meta: dict[str, Any] | None = None) -> Path:
    """Write the net's weights atomically (temp file + rename: a crash leaves the old file).
    `meta` is plain data (the command that trained it, its metrics)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    payload = {"format": FORMAT, "spec": dataclasses.asdict(net.spec), "state": state,
               "meta": dict(meta or {})}
    with atomic_file(path) as f:
        torch.save(payload, f)
    return path


def load_network(path: str | Path, kind: str | None = None, size: int | None = None,
                 device: torch.device | str = "cpu") -> PolicyNet | ValueNet | PlayNet:
    """The network saved at `path`, in eval mode. WeightsError when the file is missing or
    damaged, is not an rlgo network, or is not of the expected kind and board size."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weight file")
    if problem := archive_problem(path):  # torch.load does not check the zip CRCs
        raise WeightsError(f"{path}: not a readable weight file: {problem}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle, zip and torch errors all mean "not a weight file"
        raise WeightsError(f"{path}: not a readable weight file "
                           f"({type(err).__name__}: {str(err)[:120]!r})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise WeightsError(f"{path}: not an rlgo network file (expected format {FORMAT})")
    try:
        spec = NetSpec(**payload["spec"])
    except (TypeError, KeyError) as err:
        raise WeightsError(f"{path}: bad network description: {err}") from None
    if kind is not None and spec.kind != kind:
        raise WeightsError(f"{path}: holds a {spec.kind} network, expected a {kind} network")
    if size is not None and spec.size != size:
        raise WeightsError(f"{path}: a network for {spec.size}x{spec.size}, "
                           f"but the board is {size}x{size}")
    net = build_network(spec)
    try:
        net.load_state_dict(payload["state"])
    except (RuntimeError, KeyError) as err:
        first = str(err).splitlines()[0][:160]
        raise WeightsError(f"{path}: weights do not match the network's shape ({first})") from None
    net.meta = payload.get("meta", {})
    return net.to(device).eval()


def load_value_network(path: str | Path, size: int | None = None,
                       device: torch.device | str = "cpu") -> ValueNet | ValueHead:
    """A value net from `path`: a ValueNet file, or a play net's value head (ValueHead).
    WeightsError as load_network, and for a policy net."""
    net = load_network(path, None, size, device)
    if net.spec.kind == "policy":
        raise WeightsError(f"{path}: holds a policy network, expected a value or play network")
    return ValueHead(net) if isinstance(net, PlayNet) else net


def default_weights(kind: str, size: int) -> Path | None:
    """The shipped weight file for `kind` on `size`x`size`, or None if there is none."""
    path = WEIGHTS_DIR / f"{kind}_{size}x{size}.pt"
    return path if path.is_file() else None

