"""Stopping a long-running command when asked, without cutting a unit of work in half.

A service manager stops a process with SIGTERM (systemd, Docker) or Ctrl-C / Ctrl-Break (Windows
service wrappers); a background launch from a shell ignores SIGINT altogether. Python's default
turns SIGINT into ``KeyboardInterrupt`` wherever the main thread happens to be and lets SIGTERM
kill the process outright — midway through a pass that has claimed rows and called a gateway.

:class:`GracefulStop` treats all of them alike: while a unit of work is running (``busy()``), a
signal only asks for a stop, which the loop honours once the unit is done; while idle (sleeping
between passes), it stops at once. A second signal during a unit abandons it — its transaction
rolls back — for an operator who cannot wait for a hung gateway.

The handler sets plain attributes or raises; it never takes a lock (``threading.Event.set`` from
a handler can deadlock against the main thread's own ``wait``) and never writes to a stream.
"""

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any


class Stopped(BaseException):
    """Raised inside the main thread by a stop signal that arrives while it is idle, or by a
    second one while it is busy. A ``BaseException``, like ``KeyboardInterrupt``, so no
    ``except Exception`` on the way swallows it."""

    def __init__(self, *, abandoned: bool) -> None:
        super().__init__("stopped by signal")
        self.abandoned = abandoned


def _stop_signals() -> list[signal.Signals]:
    names = ("SIGINT", "SIGTERM", "SIGBREAK")  # SIGBREAK: Ctrl-Break, Windows only
    return [getattr(signal, name) for name in names if hasattr(signal, name)]


class GracefulStop:
    """Install with ``with GracefulStop() as stop:`` in the main thread; handlers are restored
    on exit."""

    def __init__(self) -> None:
        self.requested = False
        self._busy = False
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> "GracefulStop":
        for sig in _stop_signals():
            # a launch that ignores a signal (``nohup``, ``cmd &`` in a script) keeps ignoring it,
            # as Python itself does for SIGINT
            if signal.getsignal(sig) is not signal.SIG_IGN:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del signum, frame
        if self._busy and not self.requested:
            self.requested = True
            return
        raise Stopped(abandoned=self._busy)

    @contextmanager
    def busy(self) -> Iterator[None]:
        """A unit of work that a first stop signal lets finish."""
        self._busy = True
        try:
            yield
        finally:
            self._busy = False
        if self.requested:
            raise Stopped(abandoned=False)

    def sleep(self, seconds: float) -> None:
        """Wait between units; a stop signal ends the wait (and the loop) at once."""
        if self.requested:
            raise Stopped(abandoned=False)
        time.sleep(seconds)
