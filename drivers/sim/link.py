"""A pyserial ``Serial`` class whose other end is a simulator in this process.

The protocol modules (``protocol_fpsim``, ``protocol_evosim``) subclass it with their scheme, so
``serial.serial_for_url("fpsim://desk1")`` gives an object that behaves like a real port: reads
honour the timeout, ``in_waiting`` and ``reset_input_buffer`` work, and an unplugged simulator
raises ``SerialException`` the way a vanished USB adapter does.
"""

from __future__ import annotations

import time
import urllib.parse

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from drivers.sim import registry
from drivers.sim.base import SimulatedDevice, UnpluggedError


class SimulatorSerial(SerialBase):
    scheme = ""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.device: SimulatedDevice | None = None
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        parts = urllib.parse.urlsplit(self._port)
        if parts.scheme != self.scheme:
            raise SerialException(f"expected {self.scheme}://NAME, got {self._port!r}")
        name = (parts.netloc + parts.path).strip("/") or "default"
        self.device = registry.device(self.scheme, name)
        options = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        if options:
            self.device.configure(options)
        if self.device.unplugged:
            raise SerialException(f"could not open port {self._port}: device not present")
        self.is_open = True

    def close(self) -> None:
        self.is_open = False
        super().close()

    def _reconfigure_port(self) -> None:
        pass

    def _dev(self) -> SimulatedDevice:
        if not self.is_open or self.device is None:
            raise PortNotOpenError()
        return self.device

    @property
    def in_waiting(self) -> int:
        try:
            return self._dev().host_waiting()
        except UnpluggedError as err:
            raise SerialException("device reports readiness to read but returned no data") from err

    def read(self, size: int = 1) -> bytes:
        dev = self._dev()
        end = None if self._timeout is None else time.monotonic() + self._timeout
        out = bytearray()
        try:
            while len(out) < size:
                left = None if end is None else max(end - time.monotonic(), 0.0)
                chunk = dev.host_read(size - len(out), left)
                if not chunk:
                    break
                out += chunk
        except UnpluggedError as err:
            raise SerialException("device reports readiness to read but returned no data") from err
        return bytes(out)

    def write(self, data: bytes) -> int:
        dev = self._dev()
        try:
            dev.host_write(bytes(data), self._baudrate)
        except UnpluggedError as err:
            raise SerialException("write failed: device disconnected") from err
        return len(data)

    def reset_input_buffer(self) -> None:
        self._dev().host_flush_input()

    def reset_output_buffer(self) -> None:
        pass

    def flush(self) -> None:
        pass
