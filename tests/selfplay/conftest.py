"""One local Ray for the whole test session (ray.init costs seconds and about a GB).

The instance is started here through the runtime's own `connect` (so it listens on 127.0.0.1
only), with 2 CPUs and no GPU whatever the machine has, and shut down at the end of the
session; nothing else on the machine is touched (no `ray stop`). Tests that use it take the
`ray_session` fixture; the rest of tests/selfplay never starts Ray.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ray_session():
    """The `ray` module, initialised: 2 CPUs and no GPU (so resource tests mean the same
    everywhere), no dashboard, loopback only, a small object store."""
    import ray

    from selfplay.runtime.connect import connect

    started = connect(None, num_cpus=2, num_gpus=0, object_store_memory=150 * 1024**2)
    assert ray.util.get_node_ip_address() == "127.0.0.1"
    yield ray
    if started:
        ray.shutdown()
