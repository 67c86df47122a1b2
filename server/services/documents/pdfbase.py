"""What both PDFs share: the embedded CJK font, paragraph styles, Chinese dates, the QR drawing.

The font is WenQuanYi Micro Hei from ``resources/fonts`` (TrueType outlines, so reportlab embeds
a subset of it in every PDF: the document prints the same on any machine, unlike reportlab's
built-in ``STSong-Light`` which is only referenced). It has no bold face; headings are larger.
"""

from datetime import date, datetime
from functools import cache
from importlib import resources

from reportlab.lib.colors import Color, black
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from shared.china_time import china_time
from shared.qr_symbol import dark_runs, qr_code

FONT = "WQYMicroHei"


@cache
def font() -> str:
    """Register the shipped font once per process and return its reportlab name."""
    entry = resources.files("resources").joinpath("fonts", "wqy-microhei.ttc")
    with resources.as_file(entry) as path:
        pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
    return FONT


def style(
    name: str, size: float, *, leading: float | None = None, **extra: object
) -> ParagraphStyle:
    """A paragraph style in the CJK font that wraps between any two characters (``CJK``)."""
    return ParagraphStyle(
        name,
        fontName=font(),
        bulletFontName=font(),
        fontSize=size,
        leading=leading or size * 1.35,
        wordWrap="CJK",
        **extra,
    )


def chinese_date(day: date) -> str:
    """``2026年11月24日``, as on certificates."""
    return f"{day.year}年{day.month}月{day.day}日"


def local(moment: datetime) -> datetime:
    return china_time(moment)


def local_minute(moment: datetime | None) -> str:
    return "" if moment is None else f"{local(moment):%Y-%m-%d %H:%M}"


def draw_qr(
    canvas: Canvas, payload: str, x: float, y: float, size: float, colour: Color = black
) -> None:
    """The QR code of ``payload`` as vector squares, ``size`` wide with its lower-left corner at
    (x, y); the quiet zone (4 modules) is inside ``size``."""
    modules = qr_code(payload, "m", boost=True).with_quiet_zone(4)
    unit = size / modules.shape[0]
    path = canvas.beginPath()
    for row, start, length in dark_runs(modules):
        top = y + size - (row + 1) * unit
        # a hair taller than a module, so rows meet without seams in any viewer
        path.rect(x + start * unit, top - 0.02, length * unit, unit + 0.04)
    canvas.saveState()
    canvas.setFillColor(colour)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()
