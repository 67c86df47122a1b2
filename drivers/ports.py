"""Which serial ports this machine has, and which of them are the USB-serial bridges devices use.

Fingerprint modules and older card printers reach a PC through a USB-serial bridge chip; knowing
the chip by its USB VID/PID lets the settings page put the likely port first and name it in words
a technician recognises ("CH340 USB 串口") instead of a bare ``COM7``.
"""

from __future__ import annotations

from dataclasses import dataclass

from serial.tools import list_ports

KNOWN_BRIDGES: dict[tuple[int, int], str] = {
    (0x1A86, 0x7523): "CH340",
    (0x1A86, 0x5523): "CH341",
    (0x1A86, 0x55D4): "CH9102",
    (0x1A86, 0x7522): "CH340K",
    (0x10C4, 0xEA60): "CP210x",
    (0x10C4, 0xEA70): "CP2105",
    (0x10C4, 0xEA71): "CP2108",
    (0x0403, 0x6001): "FTDI FT232R",
    (0x0403, 0x6010): "FTDI FT2232",
    (0x0403, 0x6014): "FTDI FT232H",
    (0x0403, 0x6015): "FTDI FT-X",
    (0x067B, 0x2303): "Prolific PL2303",
    (0x067B, 0x23A3): "Prolific PL2303GC",
}


@dataclass(frozen=True)
class PortInfo:
    device: str  # what to pass as the port: COM3, /dev/ttyUSB0
    description: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    bridge: str | None  # the recognised USB-serial chip, if any

    @property
    def label(self) -> str:
        if self.bridge:
            return f"{self.device}（{self.bridge} USB 串口）"
        if self.description and self.description != "n/a":
            return f"{self.device}（{self.description}）"
        return self.device


def bridge_name(vid: int | None, pid: int | None) -> str | None:
    if vid is None or pid is None:
        return None
    return KNOWN_BRIDGES.get((vid, pid))


def describe(port: object) -> PortInfo:
    """A ``PortInfo`` from one ``serial.tools.list_ports`` entry."""
    vid = getattr(port, "vid", None)
    pid = getattr(port, "pid", None)
    return PortInfo(
        device=str(getattr(port, "device", "")),
        description=str(getattr(port, "description", "") or ""),
        vid=vid,
        pid=pid,
        serial_number=getattr(port, "serial_number", None),
        bridge=bridge_name(vid, pid),
    )


def available_ports() -> list[PortInfo]:
    """Every serial port, recognised bridges first, then by name."""
    ports = [describe(p) for p in list_ports.comports()]
    return sorted(ports, key=lambda p: (p.bridge is None, p.device))
