"""Starting or joining Ray, and refusing what the cluster cannot give, with one clear message.

Three ways to get a Ray instance:

    address None / ""      embedded: ray.init(num_cpus=...) on this machine, listening on
                           127.0.0.1 only (a laptop run must not open ports to the network)
    "auto"                 the cluster started on this machine with `ray start --head`
                           (with or without a --temp-dir of its own)
    "host:port", "ray://host:port"   a cluster's head node (GCS port, or Ray Client port)

Ray itself retries an unreachable address for minutes before failing with a long log; we
probe the port first (a TCP connect and an HTTP/2 greeting, which every Ray server, a gRPC
server, answers at once) and raise RuntimeBackendError naming the address. What Ray writes to
stderr while it starts or joins (its C++ core logs a line per retry, "InvalidAuthToken ..."
included) goes to a temporary log: a failure is one line that names the log; after a
success the log is copied to stderr as Ray wrote it.
A process that is already connected (a test session's shared Ray) is reused and left running.

Token authentication (Ray 2.60 turns it on for `ray start` and ray.init) is what Ray does
by default, without its warnings: an embedded Ray uses it, and a driver that has a token
(~/.ray/auth_token, RAY_AUTH_TOKEN) sends it to a cluster it joins by any address, not only
by "auto" as Ray would. RAY_AUTH_MODE, when the user sets it, is left alone.

An embedded Ray is this user's alone: its token file (~/.ray/auth_token) is made 0600, and
its workers give up within seconds when the driver's processes are gone (kill -9 of the run).

Resource requests are checked against `ray.cluster_resources()` before any actor exists, so
"4 actors x 1 CPU + learner 1 CPU on a 2-CPU cluster" is refused with the numbers instead of
hanging with actors that are never scheduled.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import sys
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
    """The address "auto" resolves to: RAY_ADDRESS, else the `ray start` cluster running on
    this machine (whatever its --temp-dir), else the one recorded in Ray's temp dir."""
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    running = sorted(_started_here())
    if len(running) > 1:
        raise RuntimeBackendError(f"--address auto: {len(running)} Ray clusters run on this "
                                  f"machine ({', '.join(running)}): pass one as --address")
    return running[0] if running else _recorded(_default_address_file())


def _default_address_file() -> Path:
    """Where `ray start` without --temp-dir records its GCS address (Ray's own choice of
    temp dir, which RAY_TMPDIR changes)."""
    try:
        from ray._common.utils import get_ray_address_file
    except ImportError:  # a Ray that moved it: its long-standing default
        return Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
    return Path(get_ray_address_file(None))


def _recorded(path: Path) -> str | None:
    """The GCS address in a `ray_current_cluster` file; None without one."""
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _started_here() -> set[str]:
    """GCS addresses of the `ray start` clusters on this machine, whatever their --temp-dir.

    Ray's own "auto" reads only the default temp dir (and a stale record there wins over a
    live cluster). Every raylet names its temp dir and
    GCS on its command line, and `ray start` (unlike an embedded ray.init, which must not be
    joined) records the GCS address in TEMP_DIR/ray_current_cluster.
    """
    found = set()
    for proc in Path("/proc").glob("[0-9]*"):  # none off Linux: RAY_ADDRESS is the way there
        try:
            args = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if Path(args[0]).name != "raylet":
            continue
        flags = dict(arg.split("=", 1) for arg in args if arg.startswith("--") and "=" in arg)
        gcs, temp_dir = flags.get("--gcs-address"), flags.get("--temp_dir")
        if gcs and temp_dir and _recorded(Path(temp_dir) / "ray_current_cluster") == gcs:
            found.add(gcs)
    return found


def _target(address: str) -> str:
    """`address` with "auto" resolved; RuntimeBackendError when no cluster is found."""
    if address != "auto":
        return address
    found = _auto_address()
    if found is None:
        raise RuntimeBackendError("--address auto: no Ray cluster is running on this machine "
                                  "(start one with `ray start --head`, or omit --address to "
                                  "run an embedded Ray)")
    return found


def probe(address: str, seconds: float = PROBE_SECONDS) -> None:
    """Raise RuntimeBackendError unless something listens at `address` (host:port)."""
    target = _target(address)
    hp = _host_port(target)
    if hp is None:
        raise RuntimeBackendError(f"bad Ray address {address!r}: expected auto, host:port or "
                                  f"ray://host:port")
    try:
        with socket.create_connection(hp, timeout=seconds) as sock:
            grpc = _speaks_http2(sock)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise RuntimeBackendError(f"cannot reach the Ray cluster at {target} ({reason}); is "
                                  f"`ray start --head` running there and the port open?"
                                  ) from None
    if not grpc:  # Ray would retry this for many minutes, a log line every few seconds
        raise RuntimeBackendError(f"{target} answers, but not as a Ray cluster (it does not "
                                  f"speak gRPC): give the GCS port of `ray start --head` "
                                  f"(6379 by default) or ray://host:10001")


def _speaks_http2(sock: socket.socket) -> bool:
    """Whether the server on `sock` answers the HTTP/2 client preface with its SETTINGS frame,
    as gRPC servers (Ray's GCS, raylet and client server) do before any request or token."""
    if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
        return True  # the greeting would have to go through TLS: let Ray judge
    empty_settings = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # length 0, type 4, stream 0
    sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + empty_settings)
    head = b""
    with contextlib.suppress(OSError):  # a silent server times out: not gRPC either
        while len(head) < 9 and (chunk := sock.recv(9 - len(head))):
            head += chunk
    return len(head) == 9 and head[3] == 4  # frame type 4: SETTINGS


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


# An embedded Ray's GCS dies with the run and never comes back, so its processes need not
# wait for it as long as Ray's defaults allow (5 s per connection attempt, 60 s of silence:
# sized for a cluster's GCS that restarts). With them, a worker still starting up when the
# run was killed (kill -9; workers have process groups of their own) lived on for 26 s, or
# 61 s when the kill came just after it reached the GCS; with these, 11 s (21 s).
EMBEDDED_RAY_ENV = {"RAY_gcs_rpc_server_connect_timeout_s": "2",
                    "RAY_gcs_rpc_server_reconnect_timeout_s": "20"}
# A driver joining a cluster that refuses it (a wrong token) logs the refusal once a second,
# 20 times by default.
JOIN_RAY_ENV = {"RAY_gcs_server_port_wait_time_s": "5"}


def connect(address: str | None = None, num_cpus: int | None = None,
            num_gpus: int | None = None, object_store_memory: int | None = None) -> bool:
    """Make sure this process is connected to Ray; True when we started (and so own) it."""
    if address:
        address = _target(address)  # Ray's own "auto" misses a cluster's own --temp-dir
        probe(address)
    if ray.is_initialized():
        return False
    fd, name = tempfile.mkstemp(prefix="rlgo-ray-", suffix=".log")
    os.close(fd)
    log = Path(name)
    try:
        with _stderr_to(log):
            _init(address, num_cpus, num_gpus, object_store_memory)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as err:
        raise RuntimeBackendError(_failure(address, err, log)) from None
    except BaseException:
        _replay(log)
        raise
    _replay(log)
    return True


def _init(address: str | None, num_cpus: int | None, num_gpus: int | None,
          object_store_memory: int | None) -> None:
    if address:
        # a driver joining a cluster that lives on loopback must be on loopback too
        hp = _host_port(address)
        local = hp is not None and hp[0] in ("127.0.0.1", "localhost", "::1")
        private_token_file(create=False)
        if _token_available():
            _use_token_auth()
        with (loopback_only() if local else contextlib.nullcontext(),
              _environ(JOIN_RAY_ENV)):
            ray.init(address=address, log_to_driver=False)
    else:
        # address="local": always a fresh instance, never a `ray start` cluster that
        # another user of this machine left running (ray.init() alone would join it)
        private_token_file(create=True)
        _use_token_auth()
        with loopback_only(), _environ(EMBEDDED_RAY_ENV):
            ray.init(address="local", num_cpus=num_cpus or None, num_gpus=num_gpus,
                     object_store_memory=object_store_memory, include_dashboard=False,
                     log_to_driver=False)


def _failure(address: str | None, err: Exception, log: Path) -> str:
    """The one-line message for a failed ray.init, with a hint where we know the cause."""
    said = log.read_text(errors="replace")
    first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
    hint = ""
    if address and "InvalidAuthToken" in said:
        hint = (" (the cluster refused this driver's auth token: put the cluster's token,"
                " from `ray get-auth-token` on its head node, in RAY_AUTH_TOKEN or"
                " ~/.ray/auth_token)")
    elif address and ("auth" in str(err).lower() or "token" in str(err).lower()):
        hint = " (RAY_AUTH_MODE must match the cluster's: token or disabled)"
    elif (address or "").startswith("ray://") and "timeout" in str(err).lower():
        # seen with Ray 2.60: the client server refuses clients without a token, and the
        # client never sends one, so the connection just times out
        hint = (" (Ray Client does not pass token authentication, which `ray start` turns"
                " on by default: start the cluster with RAY_AUTH_MODE=disabled on a trusted"
                " network, or run on the head node with --address auto)")
    if said.strip():
        hint += f"; Ray's log: {log}"
    else:
        log.unlink(missing_ok=True)
    where = f"join the Ray cluster at {address}" if address else "start a local Ray"
    return f"cannot {where}: {first}{hint}"


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Point this process's stderr at `path`: the file descriptor, since Ray's C++ core
    writes to fd 2 directly."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _replay(log: Path) -> None:
    """After a success (or a bug's traceback) Ray's messages go to stderr as Ray wrote them."""
    with contextlib.suppress(OSError):
        sys.stderr.write(log.read_text(errors="replace"))
        sys.stderr.flush()
    log.unlink(missing_ok=True)


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables the user has not set for what Ray reads and spawns now
    (its processes keep the environment they started with)."""
    added = {key: value for key, value in values.items() if key not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _token_available() -> bool:
    """Whether this user has a Ray token where Ray looks for one."""
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token"
    return bool(os.environ.get("RAY_AUTH_TOKEN")) or Path(path).is_file()


def _use_token_auth() -> None:
    """Token authentication (RAY_AUTH_MODE=token) unless the user chose a mode.

    An embedded start: Ray 2.60 turns it on anyway, with a warning on every start that says
    how to opt out; choosing it here keeps the default without the warning. A driver joining
    by host:port: Ray sends this user's token only for --address auto, so a `ray start`
    cluster (token authentication on by default) refuses it with InvalidAuthToken; one
    without token authentication accepts a driver that sends a token, so a joining driver
    that has one sends it. The mode stays set, as Ray leaves it: this driver's later
    connections and the processes it starts read it too.
    """
    if "RAY_AUTH_MODE" in os.environ:
        return
    os.environ["RAY_AUTH_MODE"] = "token"
    with contextlib.suppress(ImportError, AttributeError):
        from ray._raylet import Config

        Config.initialize("")  # Ray read the variable into its config at import


def private_token_file(create: bool) -> None:
    """Keep Ray's token, the key to this user's clusters, readable by this user only.

    Ray 2.60 turns token authentication on for an embedded ray.init and, the first time,
    writes ~/.ray/auth_token under the process umask: 0644 as a rule, so every user of the
    machine could read it. `create` (an embedded start, where Ray would write it): write it
    first, 0600, and Ray uses ours; in every case make an existing one 0600.
    """
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return  # the user keeps the token elsewhere
    path = Path.home() / ".ray" / "auth_token"
    try:
        if path.exists():
            path.chmod(0o600)
        elif create and os.environ.get("RAY_AUTH_MODE", "token").lower() == "token":
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
            with os.fdopen(os.open(path, flags, 0o600), "w") as out:
                out.write(secrets.token_hex(32))  # what Ray's own generator writes
    except OSError:  # another user's file, a read-only home: Ray says what matters
        pass


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
