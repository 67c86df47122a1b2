"""The device side of a simulated serial link: bytes in from the host, timed bytes out.

A simulator subclasses ``SimulatedDevice`` and implements ``receive``; it answers with ``emit``.
Faults every simulator shares live here: replies split into fragments with gaps, delayed replies,
silence, and unplugging (reads and writes fail as a vanished USB adapter does).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


class UnpluggedError(Exception):
    """Raised to the link when the simulated device has been pulled out."""


@dataclass
class LinkFaults:
    """Faults of the wire rather than of the device."""

    fragment_size: int = 0  # >0: replies arrive in pieces of this many bytes …
    fragment_gap: float = 0.0  # … separated by this many seconds
    reply_delay: float = 0.0  # every reply starts this late
    silent: bool = False  # the device swallows everything (powered off, wrong port)


class SimulatedDevice:
    """Base of all simulators. Thread-safe: a pty bridge thread and a test may touch it at once."""

    def __init__(self) -> None:
        self.link = LinkFaults()
        self._cond = threading.Condition()
        self._pending: list[tuple[float, bytes]] = []  # (ready at, bytes), in order
        self.unplugged = False
        self.host_baudrate: int | None = None

    # host side -------------------------------------------------------------------------------
    def host_write(self, data: bytes, baudrate: int | None = None) -> None:
        if self.unplugged:
            raise UnpluggedError
        self.host_baudrate = baudrate
        if self.link.silent:
            return
        self.receive(bytes(data))

    def host_read(self, size: int, timeout: float | None) -> bytes:
        """Up to ``size`` ready bytes, waiting at most ``timeout`` for the first one."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self.unplugged:
                    raise UnpluggedError
                now = time.monotonic()
                out = bytearray()
                while self._pending and self._pending[0][0] <= now and len(out) < size:
                    ready, chunk = self._pending[0]
                    take = chunk[: size - len(out)]
                    out += take
                    if len(take) < len(chunk):
                        self._pending[0] = (ready, chunk[len(take) :])
                    else:
                        self._pending.pop(0)
                if out:
                    return bytes(out)
                wait = 0.05
                if self._pending:
                    wait = min(wait, max(self._pending[0][0] - now, 0.0))
                if end is not None:
                    if now >= end:
                        return b""
                    wait = min(wait, end - now)
                self._cond.wait(wait)

    def host_waiting(self) -> int:
        now = time.monotonic()
        with self._cond:
            if self.unplugged:
                raise UnpluggedError
            return sum(len(c) for t, c in self._pending if t <= now)

    def host_flush_input(self) -> None:
        """Drop what has already arrived; what the device is still sending keeps coming."""
        now = time.monotonic()
        with self._cond:
            self._pending = [(t, c) for t, c in self._pending if t > now]

    def configure(self, options: dict[str, str]) -> None:
        """Options from the URL query (``fpsim://demo?finger=A``); simulators override."""
        raise ValueError(f"unknown simulator options: {sorted(options)}")

    # device side -----------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        raise NotImplementedError

    def emit(self, data: bytes, *, delay: float = 0.0) -> None:
        """Queue a reply; the link faults decide when and in how many pieces it arrives."""
        with self._cond:
            start = time.monotonic() + self.link.reply_delay + delay
            if self._pending:
                start = max(start, self._pending[-1][0])
            size = self.link.fragment_size
            if size > 0:
                for i in range(0, len(data), size):
                    self._pending.append((start, data[i : i + size]))
                    start += self.link.fragment_gap
            else:
                self._pending.append((start, data))
            self._cond.notify_all()

    def unplug(self) -> None:
        with self._cond:
            self.unplugged = True
            self._pending.clear()
            self._cond.notify_all()

    def replug(self) -> None:
        with self._cond:
            self.unplugged = False
