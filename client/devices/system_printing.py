"""Printing a card through the operating system's printer (Qt print support) at CR80 size: the
path for any card printer with a Windows driver, and for a PDF printer."""

from __future__ import annotations

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from client.devices.card_image import CARD_HEIGHT_MM, CARD_WIDTH_MM, CardLayout, paint_side


class SystemPrintError(Exception):
    """The operating system refused the job; ``message`` is for the clerk."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def printer_names() -> list[str]:
    return list(QPrinterInfo.availablePrinterNames())


def cr80_printer(*, printer_name: str = "", pdf_path: str = "") -> QPrinter:
    """A printer set to one CR80 card per page, no margins, landscape as the card is laid out."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if pdf_path:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(pdf_path)
    elif printer_name:
        if printer_name not in printer_names():
            raise SystemPrintError(f"找不到打印机“{printer_name}”，请在设备设置中重新选择")
        printer.setPrinterName(printer_name)
    size = QPageSize(QSizeF(CARD_WIDTH_MM, CARD_HEIGHT_MM), QPageSize.Unit.Millimeter, "CR80")
    layout = QPageLayout(
        size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter
    )
    printer.setPageLayout(layout)
    printer.setFullPage(True)
    printer.setDocName("SGSS 证卡")
    return printer


def print_card(layout: CardLayout, printer: QPrinter) -> int:
    """Paint the front (and back on a second page); returns the pages sent."""
    painter = QPainter()
    if not painter.begin(printer):
        raise SystemPrintError("打印机无法开始打印，请检查打印机是否联机、纸盒是否有卡")
    try:
        dots_per_mm = printer.resolution() / 25.4
        paint_side(painter, layout.front, dots_per_mm)
        pages = 1
        if layout.back is not None:
            if not printer.newPage():
                raise SystemPrintError("打印机无法换到背面，请检查打印机是否支持双面打印")
            paint_side(painter, layout.back, dots_per_mm)
            pages = 2
    finally:
        painter.end()
    return pages
