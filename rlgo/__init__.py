"""rlgo: the front door. The `rlgo` CLI, config loading, the GTP engine, the GUI, benchmarks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rlgo")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0"
