"""Starting or joining Ray, and refusing what the cluster cannot give, with one clear message.

Three ways to get a Ray instance:

    address None / ""      embedded: ray.init(num_cpus=...) on this machine, listening on
                           127.0.0.1 only (a laptop run must not open ports to the network)
    "auto"                 the cluster started on this machine with `ray start --head`
    "host:port", "ray://host:port"   a cluster's head node (GCS port, or Ray Client port)

Ray itself retries an unreachable address for minutes before failing with a long log; we
probe the TCP port first (a few seconds) and raise RuntimeBackendError naming the address.
A process that is already connected (a test session's shared Ray) is reused and left running.

Resource requests are checked against `ray.cluster_resources()` before any actor exists, so
"4 actors x 1 CPU + learner 1 CPU on a 2-CPU cluster" is refused with the numbers instead of
hanging with actors that are never scheduled.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import ray

from selfplay.runtime.api import ResourceRequestError, RuntimeBackendError

PROBE_SECONDS = 5.0


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of "host:port" or "ray://host:port"; None when there is no port."""
    text = address.removeprefix("ray://")
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def _auto_address() -> str | None:
    """The address "auto" resolves to: RAY_ADDRESS, else the file `ray start` writes."""
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    current = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
    try:
        return current.read_text().strip() or None
    except OSError:
        return None


def probe(address: str, seconds: float = PROBE_SECONDS) -> None:
    """Raise RuntimeBackendError unless something listens at `address` (host:port)."""
    target = _auto_address() if address == "auto" else address
    if address == "auto" and target is None:
        raise RuntimeBackendError("--address auto: no Ray cluster is running on this machine "
                                  "(start one with `ray start --head`, or omit --address to "
                                  "run an embedded Ray)")
    hp = _host_port(target)
    if hp is None:
        raise RuntimeBackendError(f"bad Ray address {address!r}: expected auto, host:port or "
                                  f"ray://host:port")
    try:
        socket.create_connection(hp, timeout=seconds).close()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise RuntimeBackendError(f"cannot reach the Ray cluster at {target} ({reason}); is "
                                  f"`ray start --head` running there and the port open?"
                                  ) from None


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Start an embedded Ray whose servers bind 127.0.0.1 only.

    Ray 2.60 maps a node IP of 127.0.0.1 to the machine's external address (and listens on
    it) unless its "local-only" switch, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, was in the
    environment when `ray` was imported. It is read into ray_constants at import, so we flip
    that constant for the duration of ray.init (and only then: a driver joining a cluster
    must advertise its real address).
    """
    try:
        from ray._private import ray_constants
    except ImportError:  # a Ray without the switch: it binds as it likes
        yield
        return
    saved = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved


def connect(address: str | None = None, num_cpus: int | None = None,
            num_gpus: int | None = None, object_store_memory: int | None = None) -> bool:
    """Make sure this process is connected to Ray; True when we started (and so own) it."""
    if address:
        probe(address)
    if ray.is_initialized():
        return False
    try:
        if address:
            # a driver joining a cluster that lives on loopback must be on loopback too
            target = (_auto_address() or "") if address == "auto" else address
            hp = _host_port(target)
            local = hp is not None and hp[0] in ("127.0.0.1", "localhost", "::1")
            with loopback_only() if local else contextlib.nullcontext():
                ray.init(address=address, log_to_driver=False)
        else:
            # address="local": always a fresh instance, never a `ray start` cluster that
            # another user of this machine left running (ray.init() alone would join it)
            with loopback_only():
                ray.init(address="local", num_cpus=num_cpus or None, num_gpus=num_gpus,
                         object_store_memory=object_store_memory, include_dashboard=False,
                         log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        hint = ""
        if "auth" in str(err).lower() or "token" in str(err).lower():
            hint = " (RAY_AUTH_MODE must match the cluster's: token or disabled)"
        elif (address or "").startswith("ray://") and "timeout" in str(err).lower():
            # seen with Ray 2.60: the client server refuses clients without a token, and the
            # client never sends one, so the connection just times out
            hint = (" (Ray Client does not pass token authentication, which `ray start` turns"
                    " on by default: start the cluster with RAY_AUTH_MODE=disabled on a trusted"
                    " network, or run on the head node with --address auto)")
        where = f"join the Ray cluster at {address}" if address else "start a local Ray"
        raise RuntimeBackendError(f"cannot {where}: {first}{hint}") from None
    return True


def check_resources(total: Mapping[str, float], per_actor: Mapping[str, float],
                    actors: int, learner: Mapping[str, float],
                    nodes: list[Mapping[str, float]] | None = None,
                    learners: int = 1) -> None:
    """Refuse (ResourceRequestError) a request the cluster cannot meet.

    total:     ray.cluster_resources(), e.g. {"CPU": 2.0, "GPU": 0.0, ...}
    per_actor: resources of one actor; learner: one learner's (there are `learners`);
               nodes: each alive node's resources (an actor must fit on one node).
    """
    shortages = []
    for key in sorted(set(per_actor) | set(learner)):
        need = actors * per_actor.get(key, 0.0) + learners * learner.get(key, 0.0)
        have = float(total.get(key, 0.0))
        if need > have + 1e-9:
            who = "learner" if learners == 1 else f"{learners} learners x"
            shortages.append(f"{need:g} {key} ({actors} actors x {per_actor.get(key, 0.0):g} "
                             f"+ {who} {learner.get(key, 0.0):g}) but the cluster has "
                             f"{have:g}")
    if shortages:
        raise ResourceRequestError("the run asks for " + "; ".join(shortages) +
                                   ": lower --actors or the per-actor resources")
    if nodes:
        for name, request in (("an actor", per_actor), ("the learner", learner)):
            if not any(all(node.get(k, 0.0) + 1e-9 >= v for k, v in request.items())
                       for node in nodes):
                raise ResourceRequestError(f"no single node has the resources {name} needs "
                                           f"({dict(request)})")


def cluster_view() -> tuple[dict[str, float], list[dict[str, float]]]:
    """(total resources, [resources of each alive node]) of the connected cluster."""
    nodes = [dict(n.get("Resources", {})) for n in ray.nodes() if n.get("Alive")]
    return dict(ray.cluster_resources()), nodes
