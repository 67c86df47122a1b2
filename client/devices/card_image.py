"""A card face described in millimetres, painted once for every output path.

The same ``paint_side`` draws onto a 300-dpi image for the Evolis K panel and onto an operating-
system printer (a Windows driver, a PDF printer) at CR80 size, so what the certificate desk sees
in a preview is what either path prints. The K panel is monochrome: ``panel_lines`` turns the
landscape image into the printer's lines (one line across the card's short side, 1016 of them
along the long side, 81 bytes each, bit 1 = ink), dithering photographs and thresholding text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QTransform

CARD_WIDTH_MM = 85.60
CARD_HEIGHT_MM = 53.98
DPI = 300
WIDTH_DOTS = 1016  # along the long side
HEIGHT_DOTS = 648  # across the short side: one printer line
LINE_BYTES = HEIGHT_DOTS // 8
FONT_FAMILY = "WenQuanYi Micro Hei"


@dataclass(frozen=True)
class Text:
    x: float  # mm from the card's left edge
    y: float  # mm from the top edge to the text box
    text: str
    size: float = 9.0  # points
    bold: bool = False
    width: float = 0.0  # mm; 0 = up to the right edge
    height: float = 0.0  # mm; 0 = one line
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float
    filled: bool = False
    line: float = 0.3  # mm


@dataclass(frozen=True)
class Picture:
    x: float
    y: float
    width: float
    height: float
    image: QImage


@dataclass(frozen=True)
class CardSide:
    items: tuple[Text | Box | Picture, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CardLayout:
    front: CardSide
    back: CardSide | None = None


def paint_side(painter: QPainter, side: CardSide, dots_per_mm: float) -> None:
    """Paint ``side`` with the painter's origin at the card's top-left corner."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    for item in side.items:
        if isinstance(item, Box):
            rect = QRectF(item.x, item.y, item.width, item.height)
            rect = QRectF(rect.topLeft() * dots_per_mm, rect.size() * dots_per_mm)
            if item.filled:
                painter.fillRect(rect, QColor("black"))
            else:
                pen = QPen(QColor("black"))
                pen.setWidthF(item.line * dots_per_mm)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(rect)
        elif isinstance(item, Picture):
            target = QRectF(
                QPointF(item.x, item.y) * dots_per_mm,
                QPointF(item.x + item.width, item.y + item.height) * dots_per_mm,
            )
            painter.drawImage(target, item.image)
        else:
            font = QFont(FONT_FAMILY)
            # points → dots at this scale: 1 pt = 25.4 / 72 mm
            font.setPixelSize(max(1, round(item.size * 25.4 / 72 * dots_per_mm)))
            font.setBold(item.bold)
            painter.setFont(font)
            painter.setPen(QColor("black"))
            width = item.width or (CARD_WIDTH_MM - item.x)
            height = item.height or item.size * 25.4 / 72 * 1.5
            rect = QRectF(
                item.x * dots_per_mm,
                item.y * dots_per_mm,
                width * dots_per_mm,
                height * dots_per_mm,
            )
            flags = item.align | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(rect, int(flags), item.text)
    painter.restore()


def render_side(side: CardSide) -> QImage:
    """The side at 300 dpi, landscape, white background (a preview and the panel's source)."""
    image = QImage(WIDTH_DOTS, HEIGHT_DOTS, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    image.setDotsPerMeterX(round(DPI / 0.0254))
    image.setDotsPerMeterY(round(DPI / 0.0254))
    painter = QPainter(image)
    paint_side(painter, side, WIDTH_DOTS / CARD_WIDTH_MM)
    painter.end()
    return image


def panel_lines(image: QImage, *, dither: bool = False) -> bytes:
    """The K panel of a landscape 1016×648 card image: line i is the image's column i, its dot j
    the image's row j (top first), MSB first, bit 1 = ink; 1016 × 81 bytes."""
    if (image.width(), image.height()) != (WIDTH_DOTS, HEIGHT_DOTS):
        image = image.scaled(
            WIDTH_DOTS,
            HEIGHT_DOTS,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    lines = image.transformed(QTransform(0, 1, 1, 0, 0, 0))  # transpose: rows become lines
    mode = (
        Qt.ImageConversionFlag.DiffuseDither if dither else Qt.ImageConversionFlag.ThresholdDither
    )
    mono = lines.convertToFormat(QImage.Format.Format_Mono, Qt.ImageConversionFlag.MonoOnly | mode)
    ink_is_one = QColor(mono.color(1)).lightness() < 128
    out = bytearray()
    stride = mono.bytesPerLine()
    raw = bytes(mono.constBits())[: stride * mono.height()]
    for row in range(mono.height()):
        line = raw[row * stride : row * stride + LINE_BYTES]
        out += line if ink_is_one else bytes(b ^ 0xFF for b in line)
    return bytes(out)


def sample_card(workstation: str, when: datetime) -> CardLayout:
    """A test card a technician recognises: border, corner marks, a filled block at the top left
    (to check orientation), a grey-free line gauge and the workstation and time printed."""
    front: list[Text | Box | Picture] = [
        Box(1.0, 1.0, CARD_WIDTH_MM - 2.0, CARD_HEIGHT_MM - 2.0, line=0.4),
        Box(3.0, 3.0, 8.0, 8.0, filled=True),
        Text(14.0, 3.0, "保安服务监管信息系统", size=11, bold=True),
        Text(14.0, 9.0, "证卡打印机测试卡 / PRINTER TEST CARD", size=7),
        Text(4.0, 18.0, f"工作站：{workstation}", size=8),
        Text(4.0, 24.0, f"打印时间：{when:%Y-%m-%d %H:%M:%S}", size=8),
        Text(4.0, 30.0, "左上角实心方块应位于卡片正面左上角", size=7),
    ]
    # a line gauge: 0.1 … 0.8 mm rules, one should vanish if the print head has dead dots
    for i in range(8):
        front.append(Box(4.0 + i * 5.0, 38.0, (i + 1) * 0.1, 10.0, filled=True))
    for i in range(6):  # a checkerboard corner
        for j in range(6):
            if (i + j) % 2 == 0:
                front.append(Box(62.0 + i * 3.0, 32.0 + j * 3.0, 3.0, 3.0, filled=True))
    back = CardSide(
        (
            Box(1.0, 1.0, CARD_WIDTH_MM - 2.0, CARD_HEIGHT_MM - 2.0, line=0.4),
            Text(4.0, 22.0, "背面 / BACK", size=12, bold=True, align=Qt.AlignmentFlag.AlignHCenter),
        )
    )
    return CardLayout(CardSide(tuple(front)), back)
