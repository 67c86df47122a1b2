"""The 保安员证 card face, laid out once in millimetres: pure data and arithmetic, no drawing.

Three outputs draw from this one module: the PDF (``server/services/documents/card_pdf.py``,
reportlab), the desk's preview and the operating-system printer (``client/qt/card_painter.py``,
any QPaintDevice), and the Evolis K panel (the Qt painter at 300 dpi, dithered). They agree
because every decision that shows on the card is made here: where each box is, which text goes in
it, at which size it fits, where a wrapped line breaks, where its baseline sits, which QR modules
are dark. A renderer only measures strings in the shipped font (``Measure``) and draws.

Coordinates: millimetres from the card's top-left corner, x to the right, y down, landscape
CR80 (ISO/IEC 7810 ID-1). Font sizes are in points (1 pt = 25.4 / 72 mm). Colours are named by
role (``Ink``) and looked up in a palette: ``COLOUR`` for colour outputs, ``MONO`` for the
printer's black resin panel, where every ink is solid black and only the photograph is dithered.

The look follows the public-security certificates it imitates: a police-blue title band, a
one-inch portrait, the particulars as label–value rows (four-character labels, spaced like a
form), issuing authority and date across the foot; on the back the QR code to verify the
certificate offline and the holder's duties. Sober, legible at arm's length, nothing decorative
that a monochrome resin print would turn into noise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from functools import lru_cache

from shared.qr_symbol import qr_code

CARD_WIDTH_MM = 85.60
CARD_HEIGHT_MM = 53.98
MM_PER_PT = 25.4 / 72
QR_ERROR = "q"  # issue 16 §6: the signed payload must fit version ≤ 11 at level Q
QR_QUIET_ZONE = 4  # modules of white around the symbol, inside the QR box
# where a line's visual middle sits above its baseline, in em: CJK glyphs of WenQuanYi Micro Hei
# span about −0.12 em … +0.88 em around the baseline, digits 0 … 0.73 em
MIDDLE_ABOVE_BASELINE = 0.37
LINE_SPACING = 1.45  # wrapped lines, in em
MIN_TEXT_PT = 4.5  # below this a resin print is no longer legible: shrinking stops here


# geometry ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Box:
    """A rectangle in mm: ``x``, ``y`` of the top-left corner, width ``w``, height ``h``."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def inside(self, other: Box) -> bool:
        eps = 1e-9
        return (
            self.x >= other.x - eps
            and self.y >= other.y - eps
            and self.right <= other.right + eps
            and self.bottom <= other.bottom + eps
        )

    def overlaps(self, other: Box) -> bool:
        """Share more than an edge (boxes laid edge to edge by arithmetic do not overlap)."""
        eps = 1e-9
        return (
            self.x < other.right - eps
            and other.x < self.right - eps
            and self.y < other.bottom - eps
            and other.y < self.bottom - eps
        )


CARD = Box(0.0, 0.0, CARD_WIDTH_MM, CARD_HEIGHT_MM)


class Align(StrEnum):
    LEFT = "left"
    CENTRE = "centre"
    RIGHT = "right"


class Ink(StrEnum):
    """What a colour is for; the palette decides the colour."""

    PAPER = "paper"
    TEXT = "text"  # the holder's particulars
    LABEL = "label"  # 姓名, 性别 …
    BAND = "band"  # the title band
    ON_BAND = "on_band"  # the title on the band
    ACCENT = "accent"  # the thin rule under the band
    RULE = "rule"  # frames of the photo and QR boxes
    QR = "qr"
    PLACEHOLDER = "placeholder"  # 无照片


Palette = dict[Ink, str]

COLOUR: Palette = {
    Ink.PAPER: "#ffffff",
    Ink.TEXT: "#111827",
    Ink.LABEL: "#374151",
    Ink.BAND: "#0b3d75",  # the desk's police blue (client/views/style.py BRAND)
    Ink.ON_BAND: "#ffffff",
    Ink.ACCENT: "#9b1c1c",  # the crimson of the printed licences (documents/render.py)
    Ink.RULE: "#6b7280",
    Ink.QR: "#000000",
    Ink.PLACEHOLDER: "#9ca3af",
}

# The black resin panel: no greys (a dithered grey text stroke falls apart), so every ink is
# solid black and the band is a solid black field with the title knocked out in white.
MONO: Palette = {ink: "#000000" for ink in Ink} | {Ink.PAPER: "#ffffff", Ink.ON_BAND: "#ffffff"}


# elements ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fill:
    box: Box
    ink: Ink


@dataclass(frozen=True)
class Frame:
    """A rectangle outline; the line is drawn inside ``box``."""

    box: Box
    ink: Ink
    line_mm: float = 0.25


@dataclass(frozen=True)
class Text:
    """A text box. ``field`` names a ``CardFace`` value (see ``field_text``); otherwise ``text``
    is printed as it stands. Single-line text shrinks to its box's width; ``wrap`` breaks between
    any two characters (and at ``\\n``) and shrinks until the lines fit the box's height."""

    box: Box
    text: str = ""
    field: str | None = None
    size_pt: float = 8.0
    bold: bool = False
    align: Align = Align.LEFT
    ink: Ink = Ink.TEXT
    tracking_mm: float = 0.0  # extra space after each character
    wrap: bool = False


@dataclass(frozen=True)
class Photo:
    box: Box
    placeholder: str = "无照片"


@dataclass(frozen=True)
class Qr:
    box: Box  # square; the quiet zone is inside it


Element = Fill | Frame | Text | Photo | Qr


@dataclass(frozen=True)
class CardFace:
    """What the card shows; ``qr_text`` is opaque here (the signed payload is made elsewhere)."""

    name: str
    gender: str  # 男 / 女
    birth_date: date
    id_number: str
    certificate_number: str
    issuing_authority: str
    issue_date: date
    photo: bytes | None  # JPEG or PNG; None: the preview says 无照片, printing is refused
    qr_text: str


def chinese_date(day: date) -> str:
    """``1990年3月7日``: how Chinese certificates print dates."""
    return f"{day.year}年{day.month}月{day.day}日"


def field_text(face: CardFace, field: str) -> str:
    """The printed form of one ``CardFace`` value."""
    value = getattr(face, field)
    if isinstance(value, date):
        return chinese_date(value)
    return str(value).strip()


# the layout ----------------------------------------------------------------------------------
BAND_H = 10.5
LABEL_X, LABEL_W = 5.0, 11.5
VALUE_X = 17.5
ROW_Y, ROW_H = 13.0, 5.2
PHOTO = Box(61.1, 13.0, 20.0, 26.5)  # 3 : 4, a one-inch portrait trimmed to the card
FULL_VALUE_W = PHOTO.right - VALUE_X
SIDE_VALUE_W = PHOTO.x - 2.5 - VALUE_X

# (label, field, value size, bold); the first five rows run beside the photo, the rest below it
ROWS: tuple[tuple[str, str, float, bool], ...] = (
    ("姓　　名", "name", 10.5, True),
    ("性　　别", "gender", 8.5, False),
    ("出生日期", "birth_date", 8.5, False),
    ("身份证号", "id_number", 8.5, False),
    ("证件编号", "certificate_number", 8.5, True),
    ("发证机关", "issuing_authority", 8.5, False),
    ("发证日期", "issue_date", 8.5, False),
)
BESIDE_PHOTO = 5


def _rows() -> Iterator[Element]:
    for index, (label, field, size, bold) in enumerate(ROWS):
        y = ROW_Y + index * ROW_H + (1.0 if index >= BESIDE_PHOTO else 0.0)
        width = SIDE_VALUE_W if index < BESIDE_PHOTO else FULL_VALUE_W
        yield Text(Box(LABEL_X, y, LABEL_W, ROW_H), label, size_pt=7.0, ink=Ink.LABEL)
        yield Text(Box(VALUE_X, y, width, ROW_H), field=field, size_pt=size, bold=bold)


FRONT: tuple[Element, ...] = (
    Fill(Box(0.0, 0.0, CARD_WIDTH_MM, BAND_H), Ink.BAND),
    Fill(Box(0.0, BAND_H, CARD_WIDTH_MM, 0.6), Ink.ACCENT),
    Text(
        Box(10.0, 1.0, CARD_WIDTH_MM - 20.0, BAND_H - 2.0),
        "保安员证",
        size_pt=15.0,
        bold=True,
        align=Align.CENTRE,
        ink=Ink.ON_BAND,
        tracking_mm=2.5,
    ),
    *_rows(),
    Photo(PHOTO),
)

QR_BOX = Box(4.0, 9.5, 33.0, 33.0)
NOTES_X = QR_BOX.right + 3.5
NOTES_W = CARD_WIDTH_MM - 4.0 - NOTES_X
NOTES = "\n".join(
    (
        "1. 本证是保安员从事保安服务的资格凭证，仅限持证人本人使用。",
        "2. 不得涂改、转借、出租、出卖本证。",
        "3. 扫描左侧二维码可离线核验本证真伪，并查询本证当前状态。",
        "4. 本证遗失、损坏或信息有误，请向发证机关申请补发或更正换发。",
    )
)

BACK: tuple[Element, ...] = (
    Fill(Box(0.0, 0.0, CARD_WIDTH_MM, 6.5), Ink.BAND),
    Fill(Box(0.0, 6.5, CARD_WIDTH_MM, 0.5), Ink.ACCENT),
    Text(
        Box(10.0, 0.5, CARD_WIDTH_MM - 20.0, 5.5),
        "保安员证",
        size_pt=9.0,
        bold=True,
        align=Align.CENTRE,
        ink=Ink.ON_BAND,
        tracking_mm=1.5,
    ),
    Qr(QR_BOX),
    Text(
        Box(QR_BOX.x, QR_BOX.bottom + 0.3, QR_BOX.w, 4.2),
        "扫码核验",
        size_pt=8.0,
        bold=True,
        align=Align.CENTRE,
    ),
    Text(
        Box(QR_BOX.x, QR_BOX.bottom + 4.5, QR_BOX.w, 3.6),
        field="certificate_number",
        size_pt=6.5,
        align=Align.CENTRE,
        ink=Ink.LABEL,
    ),
    Text(Box(NOTES_X, 10.0, NOTES_W, 5.0), "注意事项", size_pt=8.5, bold=True),
    Text(Box(NOTES_X, 15.5, NOTES_W, 34.0), NOTES, size_pt=6.5, ink=Ink.LABEL, wrap=True),
)

SIDES: dict[str, tuple[Element, ...]] = {"front": FRONT, "back": BACK}


def resolved(side: tuple[Element, ...], face: CardFace) -> list[Element]:
    """The side's elements with each field's text filled in from ``face``."""
    return [
        replace(item, text=field_text(face, item.field))
        if isinstance(item, Text) and item.field
        else item
        for item in side
    ]


# text fitting --------------------------------------------------------------------------------
Measure = Callable[[str, float], float]
"""``measure(text, size_pt)`` → the text's advance width in mm in the card font, no tracking."""


@dataclass(frozen=True)
class Line:
    text: str
    x: float  # mm, left end of the line
    baseline: float  # mm from the top


@dataclass(frozen=True)
class SetText:
    """A ``Text`` element typeset: the size it got and each line where it goes."""

    size_pt: float
    tracking_mm: float
    lines: tuple[Line, ...]


def width_mm(text: str, size_pt: float, tracking_mm: float, measure: Measure) -> float:
    return measure(text, size_pt) + tracking_mm * max(len(text) - 1, 0)


def wrap(text: str, size_pt: float, width: float, measure: Measure) -> list[str]:
    """Lines no wider than ``width``: Chinese breaks between any two characters; a line does not
    start with closing punctuation (it stays with the character before, as in print)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for char in paragraph:
            trial = current + char
            if current and measure(trial, size_pt) > width and char not in _NO_LINE_START:
                lines.append(current)
                current = char
            else:
                current = trial
        lines.append(current)
    return lines


_NO_LINE_START = frozenset("，。、；：？！）》」』”’,.;:?!)")


def typeset(item: Text, measure: Measure) -> SetText:
    """Fit ``item`` in its box and place its lines; see ``Text`` for the rules."""
    box = item.box
    size = item.size_pt
    tracking = item.tracking_mm
    if item.wrap:
        lines = wrap(item.text, size, box.w, measure)
        while size > MIN_TEXT_PT and len(lines) * size * MM_PER_PT * LINE_SPACING > box.h:
            size = max(MIN_TEXT_PT, size - 0.25)
            lines = wrap(item.text, size, box.w, measure)
    else:
        lines = [item.text]
        natural = width_mm(item.text, size, tracking, measure)
        if natural > box.w:
            scale = box.w / natural
            size, tracking = max(MIN_TEXT_PT, size * scale), tracking * scale
    step = size * MM_PER_PT * LINE_SPACING
    middle = box.y + box.h / 2 if not item.wrap else box.y + step / 2
    first = middle - (len(lines) - 1) * step / 2 if not item.wrap else middle
    placed = []
    for index, line in enumerate(lines):
        used = width_mm(line, size, tracking, measure)
        if item.align is Align.CENTRE:
            x = box.x + (box.w - used) / 2
        elif item.align is Align.RIGHT:
            x = box.right - used
        else:
            x = box.x
        baseline = first + index * step + MIDDLE_ABOVE_BASELINE * size * MM_PER_PT
        placed.append(Line(line, x, baseline))
    return SetText(size, tracking, tuple(placed))


# the photo -----------------------------------------------------------------------------------
def cover_crop(width: int, height: int, box: Box) -> tuple[float, float, float, float]:
    """The part of a ``width`` × ``height`` photo that fills ``box`` at the box's aspect ratio,
    centred (a wider photo loses its sides, a taller one its top and bottom equally):
    ``(x, y, w, h)`` in the photo's pixels."""
    target = box.w / box.h
    if width / height > target:
        used = height * target
        return (width - used) / 2, 0.0, used, float(height)
    used = width / target
    return 0.0, (height - used) / 2, float(width), used


# the QR code ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class QrModules:
    """A QR symbol as runs of dark modules, quiet zone included in ``size``."""

    size: int  # modules across, quiet zone included
    version: int
    runs: tuple[tuple[int, int, int], ...]  # (row, first column, length)

    def module_mm(self, box: Box) -> float:
        return box.w / self.size


@lru_cache(maxsize=64)
def qr_modules(text: str) -> QrModules:
    """The symbol for ``text`` at level Q (the smallest version that holds it), as dark runs."""
    symbol = qr_code(text, QR_ERROR)
    runs = tuple(symbol.runs(QR_QUIET_ZONE))
    return QrModules(symbol.size + 2 * QR_QUIET_ZONE, symbol.version, runs)


# what every card shares ----------------------------------------------------------------------
def shared(item: Element) -> bool:
    """Whether ``item`` looks the same on every card: a fill, a frame or a text of the layout's
    own (not a field, the photo or the QR)."""
    return isinstance(item, Fill | Frame) or (isinstance(item, Text) and item.field is None)


def shared_first(side: tuple[Element, ...]) -> tuple[tuple[Element, ...], tuple[Element, ...]]:
    """``side`` as (what every card shares, what is each card's own), for a renderer that draws
    the shared part once and places it under every card (a PDF form). Drawing it first changes
    nothing as long as no shared element lies on an own element listed before it; a layout where
    one does is refused here, not drawn differently."""
    for index, item in enumerate(side):
        if shared(item):
            for earlier in side[:index]:
                if not shared(earlier) and item.box.overlaps(earlier.box):
                    raise ValueError(f"{item!r} lies on {earlier!r}: it cannot be drawn first")
    return tuple(i for i in side if shared(i)), tuple(i for i in side if not shared(i))


# checks used by the tests and by anyone who edits the layout ---------------------------------
def content_boxes(side: tuple[Element, ...]) -> list[Box]:
    """Boxes that carry information (texts, photo, QR): these may not overlap each other.
    Fills and frames are backgrounds and may lie under them."""
    return [item.box for item in side if isinstance(item, Text | Photo | Qr)]
