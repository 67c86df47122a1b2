"""The 保安员证 card drawn by Qt onto any QPaintDevice: the desk's preview, a QPrinter at CR80, a
QImage at the Evolis printer's 300 dpi.

Every position, size, line break and QR module comes from ``shared.card_layout``; this module
only measures strings and draws, so the card looks the same here as in the server's PDF. Sizes go
from mm to device units by the device's own resolution (``logicalDpiX``), so one function serves
a 96-dpi widget, a 300-dpi printer panel and a 1200-dpi printer driver alike.

The card is always set in WenQuanYi Micro Hei, the font the PDF embeds (loaded from
``resources/fonts`` if the system lacks it): another font would break lines elsewhere. It has no
bold face; Qt emboldens it synthetically, as the PDF does with a hairline stroke.

``mono=True`` is for the printer's black resin panel: no antialiasing on shapes and text (a grey
edge pixel dithers into a ragged stroke), palette ``MONO``; only the photograph keeps its greys
for the dithering that follows (``client/devices/card_print.py``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QImage,
    QPaintDevice,
    QPainter,
    QPen,
)

from shared.card_layout import (
    CARD_HEIGHT_MM,
    CARD_WIDTH_MM,
    COLOUR,
    MM_PER_PT,
    MONO,
    SIDES,
    Align,
    CardFace,
    Fill,
    Frame,
    Ink,
    Palette,
    Photo,
    Text,
    cover_crop,
    qr_modules,
    resolved,
    typeset,
)

CARD_FAMILY = "WenQuanYi Micro Hei"
_REFERENCE_PX = 100.0  # strings are measured at this pixel size and scaled


@cache
def card_font_family() -> str:
    """Make sure the card's font is available to Qt (needs a QGuiApplication)."""
    if CARD_FAMILY not in QFontDatabase.families():
        entry = resources.files("resources").joinpath("fonts", "wqy-microhei.ttc")
        with resources.as_file(entry) as path:
            QFontDatabase.addApplicationFont(str(path))
    return CARD_FAMILY


def _font(pixel_size: float, *, bold: bool = False) -> QFont:
    font = QFont(card_font_family())
    font.setPixelSize(max(1, round(pixel_size)))
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    font.setKerning(False)  # the PDF does not kern either
    font.setBold(bold)
    return font


@cache
def _metrics() -> QFontMetricsF:
    font = QFont(card_font_family())
    font.setPixelSize(round(_REFERENCE_PX))  # pixels, not points: no screen DPI in between
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    font.setKerning(False)
    return QFontMetricsF(font)


def measure(text: str, size_pt: float) -> float:
    """Advance width in mm of ``text`` at ``size_pt`` (``shared.card_layout.Measure``)."""
    return _metrics().horizontalAdvance(text) / _REFERENCE_PX * size_pt * MM_PER_PT


def dots_per_mm(device: QPaintDevice) -> float:
    return device.logicalDpiX() / 25.4


class _Side:
    def __init__(self, painter: QPainter, scale: float, palette: Palette, mono: bool) -> None:
        self.p = painter
        self.k = scale  # device units per mm
        self.palette = palette
        self.mono = mono

    def rect(self, x: float, y: float, w: float, h: float) -> QRectF:
        k = self.k
        return QRectF(x * k, y * k, w * k, h * k)

    def colour(self, ink: Ink) -> QColor:
        return QColor(self.palette[ink])

    def fill(self, item: Fill) -> None:
        b = item.box
        self.p.fillRect(self.rect(b.x, b.y, b.w, b.h), self.colour(item.ink))

    def frame(self, x: float, y: float, w: float, h: float, ink: Ink, line_mm: float) -> None:
        half = line_mm / 2
        pen = QPen(self.colour(ink))
        pen.setWidthF(line_mm * self.k)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        self.p.setPen(pen)
        self.p.setBrush(Qt.BrushStyle.NoBrush)
        self.p.drawRect(self.rect(x + half, y + half, w - line_mm, h - line_mm))

    def text(self, item: Text) -> None:
        if not item.text:
            return
        set_text = typeset(item, measure)
        self.p.setFont(_font(set_text.size_pt * MM_PER_PT * self.k, bold=item.bold))
        self.p.setPen(self.colour(item.ink))
        tracking = set_text.tracking_mm
        for line in set_text.lines:
            if not tracking:
                self.p.drawText(QPointF(line.x * self.k, line.baseline * self.k), line.text)
                continue
            # spaced text character by character at the layout's advances (Qt's own letter
            # spacing depends on the device's DPI and would not match the PDF)
            x = line.x
            for char in line.text:
                self.p.drawText(QPointF(x * self.k, line.baseline * self.k), char)
                x += measure(char, set_text.size_pt) + tracking

    def photo(self, item: Photo, photo: bytes | None) -> None:
        b = item.box
        image = QImage.fromData(photo) if photo else QImage()
        if image.isNull():
            self.frame(b.x, b.y, b.w, b.h, Ink.RULE, 0.25)
            self.text(
                Text(b, item.placeholder, size_pt=8.0, align=Align.CENTRE, ink=Ink.PLACEHOLDER)
            )
            return
        sx, sy, sw, sh = cover_crop(image.width(), image.height(), b)
        self.p.save()
        self.p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.p.drawImage(self.rect(b.x, b.y, b.w, b.h), image, QRectF(sx, sy, sw, sh))
        self.p.restore()

    def qr(self, box_x: float, box_y: float, box_w: float, text: str) -> None:
        symbol = qr_modules(text)
        unit = box_w / symbol.size * self.k
        left, top = box_x * self.k, box_y * self.k
        self.p.fillRect(self.rect(box_x, box_y, box_w, box_w), self.colour(Ink.PAPER))
        self.p.save()
        # module edges exactly where the layout puts them, no grey seams between modules
        self.p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        rects = []
        for row, column, length in symbol.runs:
            x0 = round(left + column * unit)
            x1 = round(left + (column + length) * unit)
            y0 = round(top + row * unit)
            rects.append(QRect(x0, y0, x1 - x0, round(top + (row + 1) * unit) - y0))
        self.p.setPen(Qt.PenStyle.NoPen)
        self.p.setBrush(self.colour(Ink.QR))
        self.p.drawRects(rects)
        self.p.restore()


def paint_side(
    painter: QPainter,
    side: str,
    face: CardFace,
    *,
    scale: float,
    palette: Palette | None = None,
    mono: bool = False,
) -> None:
    """Draw ``side`` ("front" / "back") of ``face`` with the painter's origin at the card's
    top-left corner; ``scale`` is device units per mm (``dots_per_mm(device)``)."""
    drawer = _Side(painter, scale, palette or (MONO if mono else COLOUR), mono)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, not mono)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, not mono)
    painter.fillRect(drawer.rect(0, 0, CARD_WIDTH_MM, CARD_HEIGHT_MM), drawer.colour(Ink.PAPER))
    for item in resolved(SIDES[side], face):
        if isinstance(item, Fill):
            drawer.fill(item)
        elif isinstance(item, Frame):
            b = item.box
            drawer.frame(b.x, b.y, b.w, b.h, item.ink, item.line_mm)
        elif isinstance(item, Text):
            drawer.text(item)
        elif isinstance(item, Photo):
            drawer.photo(item, face.photo)
        else:
            drawer.qr(item.box.x, item.box.y, item.box.w, face.qr_text)
    painter.restore()


def paint_card(device: QPaintDevice, side: str, face: CardFace, *, mono: bool = False) -> None:
    """Paint one side onto a whole device (an image or a printer page) at its resolution."""
    painter = QPainter(device)
    try:
        paint_side(painter, side, face, scale=dots_per_mm(device), mono=mono)
    finally:
        painter.end()


def render_side(face: CardFace, side: str, *, dpi: float = 300.0, mono: bool = False) -> QImage:
    """The side as an RGB image at ``dpi``, landscape (1011 × 637 px at 300 dpi)."""
    scale = dpi / 25.4
    image = QImage(
        round(CARD_WIDTH_MM * scale), round(CARD_HEIGHT_MM * scale), QImage.Format.Format_RGB32
    )
    dots_per_metre = round(dpi / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    image.fill(COLOUR[Ink.PAPER])
    painter = QPainter(image)
    try:
        paint_side(painter, side, face, scale=scale, mono=mono)
    finally:
        painter.end()
    return image
