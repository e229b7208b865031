"""Starting and joining Ray without noise or leftovers: a port that is not Ray is refused at
once, Ray's own stderr stays out of the one-line error, the token file is the user's alone,
and an embedded Ray's workers do not outlive a killed run by long."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from selfplay.runtime import RuntimeBackendError
from selfplay.runtime import connect as connect_module


def _listener(reply: bytes | None) -> tuple[socket.socket, str]:
    """A loopback server that answers every connection with `reply` (None: says nothing)."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed: the test is over
                return
            if reply is not None:
                conn.sendall(reply)
            threading.Timer(2.0, conn.close).start()

    threading.Thread(target=serve, daemon=True).start()
    return server, f"127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.parametrize("reply", [b"HTTP/1.0 400 Bad Request\r\n\r\n", None])
def test_a_port_that_is_not_ray_is_refused_at_once(reply):
    """Ray retries such a port for many minutes, a C++ log line every few seconds."""
    server, address = _listener(reply)
    with server:
        start = time.monotonic()
        with pytest.raises(RuntimeBackendError, match=f"{address} answers, but not as a Ray"):
            connect_module.probe(address, seconds=0.5)
        assert time.monotonic() - start < 3


def test_a_real_ray_passes_the_probe(ray_session):
    gcs = ray_session._private.worker.global_worker.node.gcs_address
    connect_module.probe(gcs)


def test_auto_prefers_a_running_cluster_to_a_record_and_never_guesses(monkeypatch, tmp_path):
    """A record left by a cluster that is gone loses to a live one; two live ones are for
    the user to choose between."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    record = tmp_path / "ray_current_cluster"
    record.write_text("127.0.0.1:1\n")
    monkeypatch.setattr(connect_module, "_default_address_file", lambda: record)
    for running, found in ((set(), "127.0.0.1:1"), ({"127.0.0.1:2"}, "127.0.0.1:2")):
        monkeypatch.setattr(connect_module, "_started_here", lambda running=running: running)
        assert connect_module._auto_address() == found
    monkeypatch.setattr(connect_module, "_started_here", lambda: {"127.0.0.1:2", "[::1]:3"})
    with pytest.raises(RuntimeBackendError, match=r"2 Ray clusters .*: pass one as --address"):
        connect_module.probe("auto")


def _fake_ray(monkeypatch, tmp_path, said: bytes, error: Exception | None) -> None:
    """ray.init as Ray's C++ core behaves: lines straight to file descriptor 2, then maybe an
    error; the token file in a home of the test's own."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RAY_AUTH_MODE", "")  # whatever connect sets goes with the test
    monkeypatch.delenv("RAY_AUTH_MODE")
    monkeypatch.setattr(connect_module, "probe", lambda address: None)
    monkeypatch.setattr(connect_module.ray, "is_initialized", lambda: False)

    def init(**_):
        os.write(2, said)
        if error is not None:
            raise error

    monkeypatch.setattr(connect_module.ray, "init", init)


def test_rays_stderr_stays_out_of_a_failed_join(monkeypatch, tmp_path, capfd):
    said = b"[2026 W 1 1] gcs_client.cc:210: Unauthenticated: RPC error: InvalidAuthToken\n" * 5
    _fake_ray(monkeypatch, tmp_path, said, ConnectionError("Failed to connect to Ray cluster"))
    with pytest.raises(RuntimeBackendError) as caught:
        connect_module.connect("127.0.0.1:6379")
    message = str(caught.value)
    assert "\n" not in message and "refused this driver's auth token" in message
    assert capfd.readouterr().err == ""
    log = Path(message.rpartition("Ray's log: ")[2])
    assert log.read_bytes() == said
    log.unlink()


def test_rays_stderr_reaches_the_user_after_a_success(monkeypatch, tmp_path, capfd):
    _fake_ray(monkeypatch, tmp_path, b"INFO worker.py -- Started a local Ray instance.\n", None)
    before = set(Path(tempfile.gettempdir()).glob("rlgo-ray-*.log"))
    assert connect_module.connect(None, num_cpus=1) is True
    assert capfd.readouterr().err == "INFO worker.py -- Started a local Ray instance.\n"
    assert os.environ["RAY_AUTH_MODE"] == "token"  # chosen, so Ray does not warn it chose
    assert set(Path(tempfile.gettempdir()).glob("rlgo-ray-*.log")) == before


def test_the_token_file_is_private(monkeypatch, tmp_path):
    """Ray 2.60 writes ~/.ray/auth_token 0644 on an embedded start: any local user could
    read the key to this user's clusters."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    token = tmp_path / ".ray" / "auth_token"
    connect_module.private_token_file(create=False)  # joining: never makes one up
    assert not token.exists()
    connect_module.private_token_file(create=True)
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert len(token.read_text()) == 64 and int(token.read_text(), 16) >= 0
    assert stat.S_IMODE(token.parent.stat().st_mode) == 0o700
    token.chmod(0o644)  # as an earlier Ray, or `ray get-auth-token --generate`, left it
    connect_module.private_token_file(create=False)
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    token.unlink()
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    connect_module.private_token_file(create=True)
    assert not token.exists()


DRIVER = textwrap.dedent("""
    import time
    import ray
    from selfplay.runtime.connect import connect

    connect(None, num_cpus=2, num_gpus=0, object_store_memory=80 * 1024**2)

    @ray.remote(num_cpus=0)
    class Idle:
        pass

    actors = [Idle.remote() for _ in range(4)]  # more than the workers Ray started ahead
    print("started", flush=True)
    time.sleep(600)
""")


def _session(sid: int) -> list[tuple[int, str, bytes]]:
    """(pid, name, command line) of the live processes (not zombies) of session `sid`: the
    driver and everything Ray started, whatever their process groups."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            text, cmdline = (proc / "stat").read_text(), (proc / "cmdline").read_bytes()
        except OSError:
            continue
        fields = text.rpartition(")")[2].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append((int(proc.name), text[text.index("(") + 1:text.rindex(")")], cmdline))
    return found


def _starting_worker(sid: int) -> bool:
    """Whether a Ray worker of session `sid` is still starting (it names itself ray::...
    once connected)."""
    return any(cmdline.split(b"\0")[1].endswith(b"default_worker.py")
               and not name.startswith("ray::")
               for _, name, cmdline in _session(sid) if cmdline.count(b"\0") > 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_an_embedded_rays_workers_die_soon_after_the_run_is_killed(tmp_path):
    """kill -9 of a run's process group while its actors' workers start up (they are in
    process groups of their own): with Ray's defaults they waited 26 s for the dead GCS, now
    11 s. The same start leaves a private token file, and warns of nothing."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("RAY_AUTH")} | {"HOME": str(tmp_path)}
    said = tmp_path / "stderr"
    with said.open("w") as stderr:
        driver = subprocess.Popen([sys.executable, "-c", DRIVER], stdout=subprocess.PIPE,
                                  stderr=stderr, text=True, env=env, start_new_session=True)
    try:
        assert driver.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 30
        while not _starting_worker(driver.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    killed = time.monotonic()
    while (alive := _session(driver.pid)) and time.monotonic() - killed < 18:
        time.sleep(0.2)
    alive = [name for _, name, _ in alive]
    assert not alive, f"{alive} still alive {time.monotonic() - killed:.0f} s after the kill"
    token = tmp_path / ".ray" / "auth_token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert "Token authentication" not in said.read_text()  # the default needs no warning


JOIN = textwrap.dedent("""
    import sys
    import ray
    from selfplay.runtime.connect import connect

    for address in sys.argv[1:]:
        connect(address)
        print(address, ray.cluster_resources()["CPU"], flush=True)
        ray.shutdown()
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_ray_start_cluster_with_token_auth_is_joined_by_address_and_by_auto(tmp_path):
    """`ray start --head` (Ray 2.60: token authentication on, as it finds a token) with a
    --temp-dir of its own, on loopback: --address HOST:PORT sends this user's token (Ray
    sends it only for auto), --address auto finds the cluster outside Ray's default temp
    dir, neither prints Ray's token warning; with the wrong token the error is one line
    that says what to do."""
    home, temp_dir = tmp_path / "home", Path(tempfile.mkdtemp(prefix="rlgo-"))  # short:
    (home / ".ray").mkdir(parents=True)                    # Ray's socket paths must fit
    (home / ".ray" / "auth_token").write_text("ab" * 32)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("RAY_AUTH", "RAY_ADDRESS"))} | {"HOME": str(home)}
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    head = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block",
         "--node-ip-address=127.0.0.1", f"--port={port}", f"--temp-dir={temp_dir}",
         "--num-cpus=1", "--include-dashboard=false", "--disable-usage-stats"],
        env=env | {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (temp_dir / "ray_current_cluster").exists():
            assert head.poll() is None and time.monotonic() < deadline, "ray start failed"
            time.sleep(0.2)
        address = f"127.0.0.1:{port}"
        joined = subprocess.run([sys.executable, "-c", JOIN, address, "auto"], env=env,
                                capture_output=True, text=True, timeout=120)
        assert joined.stdout.split("\n")[:2] == [f"{address} 1.0", "auto 1.0"], joined.stderr
        assert "Token authentication" not in joined.stderr
        rlgo = str(Path(sys.executable).parent / "rlgo")
        refused = subprocess.run([rlgo, "go", "selfplay", "--address", address,
                                  "--run-dir", str(tmp_path / "run")],
                                 env=env | {"RAY_AUTH_TOKEN": "cd" * 32},
                                 capture_output=True, text=True, timeout=120)
        error = refused.stderr.strip()
        assert refused.returncode == 2 and "\n" not in error, error
        assert "refused this driver's auth token" in error and "ray get-auth-token" in error
        Path(error.rpartition("Ray's log: ")[2]).unlink()
    finally:
        for pid, _, _ in _session(head.pid):  # `ray start` and all it started
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        head.wait()
        shutil.rmtree(temp_dir, ignore_errors=True)
