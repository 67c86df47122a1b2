"""The byte pipe every device driver talks through, over ``serial.serial_for_url``.

One interface for ``COM3``, ``/dev/ttyUSB0``, ``socket://host:port``, a pty and the simulators'
``fpsim://`` / ``evosim://`` URLs. Reads are bounded by a *deadline* (a ``time.monotonic()`` value)
rather than a per-call timeout, so a protocol layer that needs several reads for one reply cannot
wait longer than it promised. pyserial's exceptions never leave this module: they become the
``drivers.errors`` hierarchy with a message a clerk can act on.
"""

from __future__ import annotations

import contextlib
import errno
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import serial

from drivers.errors import (
    DeviceTimeoutError,
    DisconnectedError,
    PortBusyError,
    PortNotFoundError,
    TransportError,
)
from drivers.sim import install_url_handlers


class Transport(Protocol):
    """What a device class needs from a port."""

    url: str
    baudrate: int

    def open(self) -> None: ...
    def close(self) -> None: ...
    @property
    def is_open(self) -> bool: ...
    def write(self, data: bytes) -> None: ...
    def read_exact(self, n: int, deadline: float) -> bytes: ...
    def read_until(self, terminator: bytes, deadline: float, *, limit: int = 65536) -> bytes: ...
    def read_available(self, deadline: float) -> bytes: ...
    def flush_input(self) -> None: ...


_POLL = 0.02  # a read returns as soon as bytes arrive; this only bounds an idle wait

try:  # on a hung-up tty, tcflush/tcdrain raise termios.error, which is not an OSError
    import termios

    _TTY_ERRORS: tuple[type[Exception], ...] = (termios.error,)
except ImportError:  # Windows
    _TTY_ERRORS = ()
_PORT_ERRORS = (serial.SerialException, OSError, *_TTY_ERRORS)


def deadline_in(seconds: float) -> float:
    return time.monotonic() + seconds


_ERRNO_IN_TEXT = re.compile(r"\((\d+), ['\"]")
"""pyserial wraps an OSError into its text: ``read failed: (5, 'Input/output error')``. The words
are the C library's, in the machine's language (a Chinese Windows or locale says 输入/输出错误), so
the number decides."""


def _translate(err: Exception, url: str) -> TransportError:
    text = str(err)
    low = text.lower()
    code = getattr(err, "errno", None)
    if code is None and (found := _ERRNO_IN_TEXT.search(text)):
        code = int(found.group(1))
    busy = ("busy", "access is denied", "exclusively lock")
    if code in (errno.EBUSY, errno.EACCES) or any(word in low for word in busy):
        return PortBusyError(detail=url)
    if code == errno.ENOENT or ("could not open port" in low and "no such file" in low):
        return PortNotFoundError(detail=url)
    if "filenotfound" in low or "cannot find the file" in low:
        return PortNotFoundError(detail=url)
    vanished = ("returned no data", "disconnected", "input/output error", "device not present")
    if code in (errno.EIO, errno.ENXIO) or any(word in low for word in vanished):
        return DisconnectedError(detail=url)
    return TransportError(detail=f"{url}: {text}")


class SerialTransport:
    """A ``Transport`` over any pyserial URL, opened exclusively (no second program on the port)."""

    def __init__(self, url: str, baudrate: int = 57600, *, exclusive: bool = True) -> None:
        install_url_handlers()
        self.url = url
        self.baudrate = baudrate
        self._exclusive = exclusive
        self._port: serial.SerialBase | None = None

    def __enter__(self) -> SerialTransport:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._port is not None and self._port.is_open

    def open(self) -> None:
        if self.is_open:
            return
        try:
            port = serial.serial_for_url(
                self.url,
                baudrate=self.baudrate,
                timeout=_POLL,
                write_timeout=2.0,
                exclusive=self._exclusive,
                do_not_open=True,
            )
            port.open()
        except ValueError as err:  # unknown URL scheme or bad settings
            raise PortNotFoundError(detail=f"{self.url}: {err}") from err
        except _PORT_ERRORS as err:
            raise _translate(err, self.url) from err
        self._port = port

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            # closing a vanished device must not hide the error that made us close it
            with contextlib.suppress(*_PORT_ERRORS):
                port.close()

    def _require(self) -> serial.SerialBase:
        if self._port is None or not self._port.is_open:
            raise DisconnectedError("端口未打开，请先连接设备")
        return self._port

    def write(self, data: bytes) -> None:
        port = self._require()
        try:
            port.write(data)
            port.flush()
        except serial.SerialTimeoutException as err:
            raise DeviceTimeoutError("向设备发送数据超时，请检查连接", detail=self.url) from err
        except _PORT_ERRORS as err:
            raise _translate(err, self.url) from err

    def _read(self, size: int, deadline: float) -> bytes:
        port = self._require()
        if time.monotonic() >= deadline:
            return b""
        try:
            return bytes(port.read(size))
        except _PORT_ERRORS as err:
            raise _translate(err, self.url) from err

    def read_exact(self, n: int, deadline: float) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self._read(n - len(buf), deadline)
            buf += chunk
            if not chunk and time.monotonic() >= deadline:
                raise DeviceTimeoutError(detail=f"期望 {n} 字节，收到 {len(buf)} 字节")
        return bytes(buf)

    def read_until(self, terminator: bytes, deadline: float, *, limit: int = 65536) -> bytes:
        buf = bytearray()
        while not buf.endswith(terminator):
            if len(buf) >= limit:
                raise DeviceTimeoutError("设备应答过长，已停止接收", detail=f"超过 {limit} 字节")
            chunk = self._read(1, deadline)
            buf += chunk
            if not chunk and time.monotonic() >= deadline:
                raise DeviceTimeoutError(detail=f"未收到结束符，已收到 {len(buf)} 字节")
        return bytes(buf)

    def read_available(self, deadline: float) -> bytes:
        """Whatever arrives before the deadline, at least one byte unless it passes."""
        port = self._require()
        first = self._read(1, deadline)
        if not first:
            return b""
        try:
            waiting = port.in_waiting
        except _PORT_ERRORS as err:
            raise _translate(err, self.url) from err
        return first + (self._read(waiting, deadline) if waiting else b"")

    def flush_input(self) -> None:
        port = self._require()
        try:
            port.reset_input_buffer()
        except _PORT_ERRORS as err:
            raise _translate(err, self.url) from err


@dataclass
class Recorded:
    direction: str  # "w" host → device, "r" device → host
    data: bytes
    at: float


@dataclass
class RecordingTransport:
    """Wraps a transport and keeps every byte in both directions, for tests and diagnostics."""

    inner: Transport
    events: list[Recorded] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic

    @property
    def url(self) -> str:  # type: ignore[override]
        return self.inner.url

    @property
    def baudrate(self) -> int:  # type: ignore[override]
        return self.inner.baudrate

    @property
    def is_open(self) -> bool:
        return self.inner.is_open

    def open(self) -> None:
        self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def _keep(self, direction: str, data: bytes) -> bytes:
        if data:
            self.events.append(Recorded(direction, bytes(data), self.clock()))
        return data

    def write(self, data: bytes) -> None:
        self._keep("w", data)
        self.inner.write(data)

    def read_exact(self, n: int, deadline: float) -> bytes:
        return self._keep("r", self.inner.read_exact(n, deadline))

    def read_until(self, terminator: bytes, deadline: float, *, limit: int = 65536) -> bytes:
        return self._keep("r", self.inner.read_until(terminator, deadline, limit=limit))

    def read_available(self, deadline: float) -> bytes:
        return self._keep("r", self.inner.read_available(deadline))

    def flush_input(self) -> None:
        self.inner.flush_input()

    def written(self) -> bytes:
        return b"".join(e.data for e in self.events if e.direction == "w")

    def received(self) -> bytes:
        return b"".join(e.data for e in self.events if e.direction == "r")
