"""Ctrl-C (SIGINT) and SIGTERM as a request to stop cleanly, for long training loops.

Killing a run loses everything since its last checkpoint (up to `checkpoint_every` steps, often
tens of minutes). Inside `StopOnSignal` the first SIGINT or SIGTERM only sets `signum`; the
loop finishes its step, writes a checkpoint and returns, and `--resume` continues from exactly
there. A second signal is not caught: it does what it would have done without us (SIGINT:
KeyboardInterrupt; SIGTERM: the process ends), for a user who will not wait.
"""

from __future__ import annotations

import signal
import sys
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnSignal:
    """`with StopOnSignal() as stop:` ... `if stop.requested: save and return`.

    Handlers can only be installed from the main thread; elsewhere (a Ray worker thread, a
    test runner's thread) this does nothing and `requested` stays False."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def signal_name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        self._restore()

    def _restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame) -> None:
        self.signum = signum
        self._restore()  # the next one acts as if we had never been here
        print(f"\n{self.signal_name}: stopping after this step with a checkpoint "
              f"(send it again to stop at once)", file=sys.stderr, flush=True)
