"""What the server's PDFs share: the embedded CJK font, binary streams, paragraph styles, Chinese
dates, the QR drawing.

The font is WenQuanYi Micro Hei from ``resources/fonts`` (TrueType outlines, so reportlab embeds
a subset of it in every PDF: the document prints the same on any machine, unlike reportlab's
built-in ``STSong-Light`` which is only referenced). It has no bold face; headings are larger.
"""

import copy
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any
from weakref import WeakKeyDictionary

from reportlab import rl_config
from reportlab.lib.colors import Color, black
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, TTFont, makeToUnicodeCMap
from reportlab.pdfgen.canvas import Canvas

from shared.china_time import china_time
from shared.qr_symbol import qr_code

FONT = "WQYMicroHei"

# Streams are written as binary (Flate), without reportlab's default ASCII85 layer on top, which
# is for 7-bit mail channels: every PDF here goes over HTTP or into a file. A card batch is a
# fifth smaller and a tenth faster (bench/cards.py).
rl_config.useA85 = 0


class _OneAtATimeTTFont(TTFont):
    """reportlab's TrueType font, whose subsets are made one document at a time.

    Subsetting reads the parsed file through a single read position shared by every document
    (``TTFontFile`` seeks, then reads): two documents saved at once by two request threads, such
    as two licences issued in the same instant, would interleave their reads and embed a broken
    font program. Saving is a few milliseconds, so waiting costs little."""

    _subsetting = threading.Lock()

    def addObjects(self, doc: Any) -> None:  # noqa: N802 (reportlab's name)
        with self._subsetting:
            super().addObjects(doc)


@cache
def font() -> str:
    """Register the shipped font once per process and return its reportlab name."""
    entry = resources.files("resources").joinpath("fonts", "wqy-microhei.ttc")
    with resources.as_file(entry) as path:
        pdfmetrics.registerFont(_OneAtATimeTTFont(FONT, str(path), subfontIndex=0))
    return FONT


class SubsetFont(TTFont):
    """The shipped font under another name, on the same parsed file, with the first 128 codes
    not kept for ASCII (a subset holds only the characters used) and, if ``tag`` is given, each
    subset's font program, ToUnicode map and widths made and compressed once per process.

    reportlab builds the subset of a TrueType font anew for every document: a new TrueType file
    and its compression, several milliseconds for a card's hundred-odd characters. A text that
    is the same in every document of a kind (a card's labels, titles and duties), set in a font
    of its own and always drawn first in the same order, gives the same subset every time, so
    all of that is done once. ``tag`` starts the six-letter subset tag, so that two of these
    fonts in one document never share a font name."""

    _cache: "OrderedDict[tuple[str, tuple[int, ...], int], tuple[bytes, int, bytes, bytes]]"
    KEEP = 8  # subsets kept by a caching font

    def __init__(self, name: str, base: TTFont, tag: str = "") -> None:
        self.__dict__.update(base.__dict__)  # the parsed file, not the 5 MB read again
        self.family = f"{base.face.name.decode('pdfdoc')}{base.face.subfontNameX.decode('pdfdoc')}"
        # a face of its own name: reportlab takes a second font of a face it knows for the
        # first; the copy shares the file's data and keeps its own read position
        self.face = copy.copy(base.face)
        self.face.name = name.encode()
        # reportlab's subsetting copies each table it reads out of the file every time, the
        # glyph table (4 MB) included, to take a few kilobytes of glyphs from it
        self.face.get_table = _tables(base.face)
        self.fontName = name
        self.state: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()
        self._asciiReadable = 0
        self.tag = tag
        self._cache = OrderedDict()
        self._reading = threading.Lock()

    def snapshot(self, doc: Any) -> tuple[dict[int, int], list[list[int]], int, str | None]:
        """Which code each character got in ``doc`` so far, to be given to another document
        by ``adopt`` (a replayed content stream needs the same codes)."""
        state = self._assignState(doc)
        subsets = [list(subset) for subset in state.subsets]
        return dict(state.assignments), subsets, state.nextCode, state.internalName

    def adopt(
        self, doc: Any, snapshot: tuple[dict[int, int], list[list[int]], int, str | None]
    ) -> bool:
        """Give a new ``doc`` the codes of ``snapshot`` and the same internal font name; False
        (and nothing done) if ``doc`` uses fonts already, so the name would differ."""
        assignments, subsets, next_code, internal_name = snapshot
        if doc.fontMapping or doc in self.state:
            return False
        state = self._assignState(doc)
        state.assignments = dict(assignments)
        state.subsets = [list(subset) for subset in subsets]
        state.nextCode = next_code
        for number in range(len(subsets)):
            self.getSubsetInternalName(number, doc)
        if state.internalName != internal_name:  # a reportlab that names fonts otherwise
            raise RuntimeError(f"font {self.fontName} became {state.internalName}")
        return True

    def addObjects(self, doc: Any) -> None:  # noqa: N802 (reportlab's name)
        """reportlab's ``TTFont.addObjects``, with the subset's parts from the cache."""
        state = self._assignState(doc)
        state.frozen = 1
        face = self.face
        for number, subset in enumerate(state.subsets):
            name = self.getSubsetInternalName(number, doc)[1:]
            prefix = f"{self.tag}{number:0{6 - len(self.tag)}d}" if self.tag else f"{number:06d}"
            base_name = f"{prefix.translate(_TAG_LETTERS)}+{self.family}"
            program, length, cmap, widths = self._parts(base_name, subset, doc.compression)
            font_file = _ready_stream(program, doc.compression, Length1=length)
            descriptor = pdfdoc.PDFDictionary(
                {
                    "Type": "/FontDescriptor",
                    "Ascent": face.ascent,
                    "CapHeight": face.capHeight,
                    "Descent": face.descent,
                    "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,  # as reportlab's
                    "FontBBox": pdfdoc.PDFArray(face.bbox),
                    "FontName": pdfdoc.PDFName(base_name),
                    "ItalicAngle": face.italicAngle,
                    "StemV": face.stemV,
                    "FontFile2": doc.Reference(font_file, f"fontFile:{name}"),
                    "MissingWidth": face.defaultWidth,
                }
            )
            pdf_font = pdfdoc.PDFTrueTypeFont()
            pdf_font.Name = name
            pdf_font.BaseFont = base_name
            pdf_font.FirstChar = 0
            pdf_font.LastChar = len(subset) - 1
            pdf_font.Widths = _Formatted(widths)
            pdf_font.ToUnicode = doc.Reference(
                _ready_stream(cmap, doc.compression), f"toUnicodeCMap:{base_name}"
            )
            pdf_font.FontDescriptor = doc.Reference(descriptor, f"fontDescriptor:{base_name}")
            doc.Reference(pdf_font, name)
            doc.idToObject["BasicFonts"].dict[name] = pdf_font
        del self.state[doc]

    def _parts(
        self, base_name: str, subset: list[int], compression: int
    ) -> tuple[bytes, int, bytes, bytes]:
        """The subset's font program (compressed if the document is) and its length before,
        its ToUnicode map (likewise), its widths as PDF text."""
        key = (base_name, tuple(subset), compression)
        parts = self._cache.get(key) if self.tag else None
        if parts is None:
            with self._reading:  # the face reads the file through one cursor
                program = self.face.makeSubset(subset)
            cmap = makeToUnicodeCMap(base_name, subset).encode()
            numbers = [fp_str(self.face.getCharWidth(code)) for code in subset]
            widths = "\n ".join(" ".join(numbers[i : i + 10]) for i in range(0, len(numbers), 10))
            parts = (
                zlib.compress(program) if compression else program,
                len(program),
                zlib.compress(cmap) if compression else cmap,
                f"[ {widths} ]".encode(),
            )
            if self.tag:
                self._cache[key] = parts
                while len(self._cache) > self.KEEP:
                    self._cache.popitem(last=False)
        return parts


@cache
def _tables(face: Any) -> Callable[[str], bytes]:
    """``face.get_table`` reading each table out of the file once (they never change)."""
    read = face.get_table

    @cache
    def get_table(tag: str) -> bytes:
        table: bytes = read(tag)
        return table

    return get_table


_TAG_LETTERS = str.maketrans("0123456789", "ABCDEFGIJK")  # reportlab's SUBSETN letters


class _Formatted(pdfdoc.PDFObject):
    """A direct object already in PDF syntax."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: Any) -> bytes:
        return self.data


def _ready_stream(content: bytes, compressed: int, **entries: int) -> Any:
    """A stream whose content is already filtered: reportlab writes it as it is."""
    dictionary = pdfdoc.PDFDictionary(dict(entries))
    if compressed:
        dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
    return pdfdoc.PDFStream(dictionary, content)


@cache
def card_fonts() -> tuple[str, str]:
    """(the layout's own texts, each card's particulars): the shipped font twice, the first
    with its subsets cached (see ``SubsetFont``)."""
    base = pdfmetrics.getFont(font())
    layout = SubsetFont(f"{FONT}-Layout", base, tag="L")
    particulars = SubsetFont(f"{FONT}-Card", base)
    pdfmetrics.registerFont(layout)
    pdfmetrics.registerFont(particulars)
    return layout.fontName, particulars.fontName


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
