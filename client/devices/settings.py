"""Which devices this workstation uses, remembered per workstation (QSettings, not the server):
the fingerprint module's port and baud, and the card printer — an Evolis on a serial port, or any
printer the operating system knows (a Windows driver, a PDF printer)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings

from shared.enums import LabelledEnum


class PrinterPath(LabelledEnum):
    evolis_serial = ("evolis_serial", "Evolis 串口直连")
    system = ("system", "系统打印机（Windows 驱动）")


FINGERPRINT_BAUDS = (9600, 19200, 38400, 57600, 115200)
PRINTER_BAUDS = (9600, 19200, 38400, 57600, 115200)


@dataclass
class DeviceSettings:
    fingerprint_port: str = ""
    fingerprint_baud: int = 57600
    printer_path: PrinterPath = PrinterPath.evolis_serial
    printer_port: str = ""
    printer_baud: int = 9600
    system_printer: str = ""

    @classmethod
    def load(cls, settings: QSettings) -> DeviceSettings:
        d = cls()

        def text(key: str, default: str) -> str:
            value = settings.value(f"devices/{key}", default)
            return str(value) if value is not None else default

        def number(key: str, default: int) -> int:
            try:
                return int(text(key, str(default)))
            except ValueError:
                return default

        path = text("printer_path", str(d.printer_path))
        known = path in PrinterPath._value2member_map_
        return cls(
            fingerprint_port=text("fingerprint_port", ""),
            fingerprint_baud=number("fingerprint_baud", d.fingerprint_baud),
            printer_path=PrinterPath(path) if known else d.printer_path,
            printer_port=text("printer_port", ""),
            printer_baud=number("printer_baud", d.printer_baud),
            system_printer=text("system_printer", ""),
        )

    def save(self, settings: QSettings) -> None:
        settings.setValue("devices/fingerprint_port", self.fingerprint_port)
        settings.setValue("devices/fingerprint_baud", self.fingerprint_baud)
        settings.setValue("devices/printer_path", str(self.printer_path))
        settings.setValue("devices/printer_port", self.printer_port)
        settings.setValue("devices/printer_baud", self.printer_baud)
        settings.setValue("devices/system_printer", self.system_printer)
        settings.sync()
