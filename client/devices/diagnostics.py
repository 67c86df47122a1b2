"""What the device settings dialog and the review dialog ask of the devices, as plain calls
for a worker thread: list ports, open the configured module, report a device's state in
``key: value`` lines, print the test card by either path."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from client.devices.card_image import panel_lines, render_side, sample_card
from client.devices.settings import DeviceSettings, PrinterPath
from client.devices.system_printing import SystemPrintError, cr80_printer, print_card, printer_names
from drivers.evolis.device import EvolisPrinter
from drivers.evolis.panel import Panel
from drivers.fingerprint.device import FingerprintModule
from drivers.ports import PortInfo, available_ports
from drivers.transport import SerialTransport
from shared.china_time import china_now


def ports() -> list[PortInfo]:
    return available_ports()


def system_printers() -> list[str]:
    return printer_names()


def open_fingerprint(settings: DeviceSettings) -> FingerprintModule:
    return FingerprintModule(SerialTransport(settings.fingerprint_port, settings.fingerprint_baud))


def fingerprint_report(port: str, baud: int) -> list[tuple[str, str]]:
    """Everything the module reports, and which identity enrolment files its templates under.

    A module without a usable notepad is healthy: the report says so and shows the port identity
    (``drivers.fingerprint.identity``) instead of failing the test."""
    module = FingerprintModule(SerialTransport(port, baud))
    try:
        params = module.connect()
        identity = module.identity()
        count = module.template_count()
    finally:
        module.close()
    if identity.notepad_problem is None:
        notepad, device = "可用", identity.value
    else:
        notepad = f"不可用（{identity.notepad_problem}）"
        device = f"{identity.value}（备用编号：按本机和端口生成，模块须固定接在此端口）"
    return [
        ("端口", port),
        ("波特率", str(baud)),
        ("设备编号", device),
        ("记事本", notepad),
        ("指纹库容量", str(params.library_size)),
        ("已存指纹数", str(count)),
        ("安全等级", str(params.security_level)),
        ("数据包大小", f"{params.packet_size} 字节"),
        ("模块地址", f"{params.address:08X}"),
        ("系统标识", f"0x{params.system_id:04X}"),
        ("状态", "正常"),
    ]


STATUS_LABELS = {
    "model": "型号",
    "firmware": "固件版本",
    "serial": "序列号",
    "ribbon": "色带",
    "ribbon_state": "色带状态",
    "feeder_empty": "进卡器无卡",
    "feeder_low": "进卡器卡片不足",
    "last_print": "上次打印",
    "needs_cleaning": "需要清洁",
    "cover_open": "上盖打开",
    "counter.cards": "累计打印卡片",
    "counter.rejected": "累计废卡",
    "counter.panels": "累计打印面数",
}


def open_printer(settings: DeviceSettings) -> EvolisPrinter:
    return EvolisPrinter(SerialTransport(settings.printer_port, settings.printer_baud))


def _need_printer(settings: DeviceSettings) -> None:
    if settings.printer_path == PrinterPath.system and not settings.system_printer:
        raise SystemPrintError("请先选择系统打印机")
    if settings.printer_path == PrinterPath.evolis_serial and not settings.printer_port:
        raise SystemPrintError("请先选择证卡打印机的端口")


def printer_report(settings: DeviceSettings) -> list[tuple[str, str]]:
    _need_printer(settings)
    if settings.printer_path == PrinterPath.system:
        if settings.system_printer not in printer_names():
            raise SystemPrintError(f"找不到打印机“{settings.system_printer}”")
        return [("打印方式", PrinterPath.system.label), ("打印机", settings.system_printer)]
    with open_printer(settings) as printer:
        status = printer.status()
    rows = [("打印方式", PrinterPath.evolis_serial.label), ("端口", settings.printer_port)]
    for key, value in status.lines():
        label = STATUS_LABELS.get(key) or key.replace("counter.", "计数器 ")
        rows.append((label, value))
    return rows


def print_test_card(
    settings: DeviceSettings,
    workstation: str,
    *,
    cancel: threading.Event,
    now: datetime | None = None,
    on_progress: Callable[[str, float], None] | None = None,
) -> list[tuple[str, str]]:
    """Print the test card on the configured path; a failure raises with the clerk's message."""
    _need_printer(settings)
    layout = sample_card(workstation, now or china_now())
    if settings.printer_path == PrinterPath.system:
        pages = print_card(layout, cr80_printer(printer_name=settings.system_printer))
        return [
            ("打印方式", PrinterPath.system.label),
            ("打印机", settings.system_printer),
            ("已发送", f"{pages} 面"),
        ]
    front = Panel(panel_lines(render_side(layout.front)))
    back = Panel(panel_lines(render_side(layout.back))) if layout.back else None
    with open_printer(settings) as printer:
        printer.print_card(
            front, overlay=True, back_k=back, cancel=cancel.is_set, on_progress=on_progress
        )
    return [("打印方式", PrinterPath.evolis_serial.label), ("结果", "测试卡已打印并送出")]
