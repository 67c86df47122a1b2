"""Byte-accurate device simulators, reachable as serial URLs in-process and over a pty pair.

``fpsim://NAME`` is a fingerprint module, ``evosim://NAME`` an Evolis card printer. The same NAME
in one process reaches the same simulated device (``registry.device``), so a test or the demo can
configure faults on the object the driver is talking to.
"""

import serial

_PACKAGE = "drivers.sim"


def install_url_handlers() -> None:
    """Teach ``serial.serial_for_url`` the simulator schemes (idempotent)."""
    if _PACKAGE not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(_PACKAGE)
