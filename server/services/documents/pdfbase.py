"""What the server's PDFs share: the embedded CJK font, binary streams, paragraph styles, Chinese
dates, the QR drawing.

The font is WenQuanYi Micro Hei from ``resources/fonts`` (TrueType outlines, so reportlab embeds
a subset of it in every PDF: the document prints the same on any machine, unlike reportlab's
built-in ``STSong-Light`` which is only referenced). It has no bold face; headings are larger.
"""

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from importlib import resources

from reportlab import rl_config
from reportlab.lib.colors import Color, black
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from shared.china_time import china_time
from shared.qr_symbol import qr_code

FONT = "WQYMicroHei"

# Streams are written as binary (Flate), without reportlab's default ASCII85 layer on top, which
# is for 7-bit mail channels: every PDF here goes over HTTP or into a file. A card batch is a
# fifth smaller and a tenth faster (bench/cards.py).
rl_config.useA85 = 0


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
    symbol = qr_code(payload, "m", boost=True)
    fill_qr(canvas, symbol.runs(4), symbol.size + 8, x, y, size, colour)


def fill_qr(
    canvas: Canvas,
    runs: Iterable[tuple[int, int, int]],
    modules: int,
    x: float,
    y: float,
    size: float,
    colour: Color,
) -> None:
    """Fill the dark ``runs`` (row, first column, length) of a QR code ``modules`` wide, quiet
    zone included, as one path ``size`` wide with its lower-left corner at (x, y).

    The path is written in module units under one transformation, a run as ``column row length
    height re`` with whole numbers bar the height: a tenth of the text reportlab's path object
    makes formatting four coordinates in points for each of the thousand-odd runs of a
    certificate's symbol. Each run is a hair taller than its row, half of it below (the shift
    is in the transformation), so that no viewer shows a seam between rows."""
    unit = size / modules
    seam = min(0.02, unit / 20)  # in points
    height = fp_str(1 + 2 * seam / unit)
    number = _numbers(modules)
    top = modules - 1  # PDF rows count upwards
    ops = [f"{number[c]} {number[top - r]} {number[n]} {height} re" for r, c, n in runs]
    canvas.saveState()
    canvas.setFillColor(colour)
    canvas.addLiteral(f"{fp_str(unit, 0, 0, unit, x, y - seam)} cm\n" + "\n".join(ops) + "\nf")
    canvas.restoreState()


@cache
def _numbers(count: int) -> tuple[str, ...]:
    return tuple(str(n) for n in range(count + 1))
