"""One collection's optimizer: runs the engine's segment optimizers (indexing, merging, vacuum) in the background.

As in Qdrant, an update that makes an optimization due signals the optimizer and returns; the collection is
yellow from that signal until the optimization has run, then green (red, with the error, if it failed).
Signals that arrive close together are served by one run (``DEBOUNCE_S``).

qdrant-edge 0.9's ``optimize()`` holds Python's GIL while it runs: the whole process (every request) waits
for it. For the suite's sample it takes tens of milliseconds on this kind of machine (docs/measurements.md).
"""

from __future__ import annotations

import threading
import time
from typing import Callable

DEBOUNCE_S = 0.2  # an optimization starts this long after the last signal (a burst of writes is served once)
MAX_DELAY_S = 1.0  # ... but never later than this after the first


class Optimizer:
    """A daemon thread that calls `run` when signalled; tells whether an optimization is due or running."""

    def __init__(self, name: str, run: Callable[[], object]) -> None:
        self._run = run
        self._condition = threading.Condition()
        self._first_signal: float | None = None
        self._last_signal = 0.0
        self._running = False
        self._stopped = False
        self.error: str | None = None
        self._thread = threading.Thread(target=self._loop, name=f"optimizer-{name}", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """True while an optimization is due or running."""
        with self._condition:
            return self._first_signal is not None or self._running

    def signal(self) -> None:
        """An optimization is due: run one soon."""
        with self._condition:
            now = time.monotonic()
            if self._first_signal is None:
                self._first_signal = now
            self._last_signal = now
            self._condition.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until nothing is due or running; False when `timeout_s` passed first."""
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while self._first_signal is not None or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._condition.wait(left)
            return True

    def stop(self) -> None:
        """Stop the thread (after the optimization it may be running)."""
        with self._condition:
            self._stopped = True
            self._condition.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        while True:
            with self._condition:
                while not self._stopped and (self._first_signal is None or not self._ready()):
                    self._condition.wait(None if self._first_signal is None else self._wait_s())
                if self._stopped:
                    return
                self._first_signal = None
                self._running = True
            try:
                self._run()
                self.error = None
            except Exception as exc:  # the engine refused: reported as Qdrant reports an optimizer error
                self.error = str(exc) or type(exc).__name__
            finally:
                with self._condition:
                    self._running = False
                    self._condition.notify_all()

    def _ready(self) -> bool:
        return self._wait_s() <= 0

    def _wait_s(self) -> float:
        assert self._first_signal is not None
        now = time.monotonic()
        return min(self._last_signal + DEBOUNCE_S, self._first_signal + MAX_DELAY_S) - now
