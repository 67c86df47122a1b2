"""A 保安员证 face on the operating system's printer: front and back, in colour, one CR80 page
each, painted by the same ``paint_side`` as the preview (the PDF and the Evolis K panel follow
the same layout). The printer comes from ``system_printing.cr80_printer`` (or the print dialog
that set one up)."""

from __future__ import annotations

from PySide6.QtGui import QPainter
from PySide6.QtPrintSupport import QPrinter

from client.devices.system_printing import SystemPrintError
from client.qt.card_painter import paint_side
from shared.card_layout import CardFace


def print_face_on(printer: QPrinter, face: CardFace) -> int:
    """Paint the front, then the back on a second page; answers the pages sent. A face
    without a photo is refused before anything reaches the printer."""
    if not face.photo:
        raise SystemPrintError("该证件没有照片，不能打印；请先补充照片")
    painter = QPainter()
    if not painter.begin(printer):
        raise SystemPrintError("打印机无法开始打印，请检查打印机是否联机、是否有卡")
    try:
        scale = printer.resolution() / 25.4
        paint_side(painter, "front", face, scale=scale)
        if not printer.newPage():
            raise SystemPrintError("打印机无法换到背面，请检查打印机是否支持双面打印")
        paint_side(painter, "back", face, scale=scale)
    finally:
        painter.end()
    return 2
