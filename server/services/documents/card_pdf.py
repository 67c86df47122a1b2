"""The 保安员证 card as PDF: front and back pages at CR80 size, or both on an A4 sheet.

Everything that shows is decided by ``shared.card_layout``; this module measures strings in the
embedded WenQuanYi Micro Hei (``pdfbase.font``) and draws. The QR code is one vector path of the
layout's dark runs (sharp at any zoom and on any printer, and what a reader decodes is exactly
the layout's symbol). In a document, what every card shares is drawn once as a form per side.
The layout's own texts are set in the font under a name of their own, the particulars under
another (``pdfbase.card_fonts``): the layout's subset is the same in every file, so it is made
once a process, and so are the forms' operators (``_forms``); a one-card file costs little more
than its own particulars, photo and QR.
The font has no bold face: bold text is filled and stroked with a hairline of its own colour,
the usual way to embolden a single-weight CJK font in PDF.

A missing photo is drawn as an empty frame saying 无照片 — the PDF is also the preview; printing a
card without a photo is refused before it gets here.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache
from io import BytesIO
from typing import Any, cast

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from server.services.documents.pdfbase import SubsetFont, card_fonts, fill_qr, font
from shared.card_layout import (
    BACK,
    CARD_HEIGHT_MM,
    CARD_WIDTH_MM,
    COLOUR,
    FRONT,
    MM_PER_PT,
    SIDES,
    Align,
    CardFace,
    Element,
    Fill,
    Frame,
    Ink,
    Palette,
    Photo,
    Qr,
    SetText,
    Text,
    cover_crop,
    qr_modules,
    resolved,
    shared_first,
    typeset,
)

CARD_SIZE = (CARD_WIDTH_MM * mm, CARD_HEIGHT_MM * mm)
BOLD_STROKE_EM = 0.035  # hairline around bold glyphs, in em
SHEET_GAP_MM = 12.0
JPEG_START = b"\xff\xd8"  # the start-of-image marker
# each side as (what every card shares, each card's own): the first part is one form a document
_LAYERS = {name: shared_first(side) for name, side in SIDES.items()}


def measure(text: str, size_pt: float) -> float:
    """Advance width in mm of ``text`` in the embedded font (``shared.card_layout.Measure``)."""
    return stringWidth(text, font(), size_pt) * MM_PER_PT


@cache
def _colour(value: str) -> Color:
    return HexColor(value)


@lru_cache(maxsize=64)
def _fixed_text(item: Text) -> SetText:
    """A text of the layout itself (a label, a title, the duties): the same on every card, so it
    is fitted once per process rather than once a card."""
    return typeset(item, measure)


class _Jpeg(ImageReader):
    """A JPEG photo, written into the PDF as it is (DCTDecode) and never decoded. reportlab
    passes a JPEG through anyway, but ``drawImage`` first decodes it to RGB only to name the
    image by a digest of its pixels; the file's own bytes name it just as well (the same photo
    twice is still one image in the file)."""

    def getRGBData(self) -> bytes:  # noqa: N802 (reportlab's name)
        self._dataA = None  # drawImage asks for the soft mask next: a JPEG has none
        data: bytes = self.fp.getvalue()
        return data


class _Side:
    """Draws one side with its top-left corner at ``(left, top)`` in PDF points."""

    def __init__(self, canvas: Canvas, left: float, top: float, palette: Palette) -> None:
        self.canvas = canvas
        self.left = left
        self.top = top
        self.palette = palette

    def x(self, mm_x: float) -> float:
        return self.left + mm_x * mm

    def y(self, mm_y: float) -> float:
        """PDF y grows upwards; the layout's grows downwards."""
        return self.top - mm_y * mm

    def ink(self, ink: Ink) -> Color:
        return _colour(self.palette[ink])

    def draw(self, items: Iterable[Element], face: CardFace) -> None:
        for item in items:
            if isinstance(item, Fill):
                self.fill(item)
            elif isinstance(item, Frame):
                self.frame(item.box.x, item.box.y, item.box.w, item.box.h, item.ink, item.line_mm)
            elif isinstance(item, Text):
                self.text(item)
            elif isinstance(item, Photo):
                self.photo(item, face.photo)
            else:
                self.qr(item, face.qr_text)

    def fill(self, item: Fill) -> None:
        c = self.canvas
        box = item.box
        c.setFillColor(self.ink(item.ink))
        c.rect(self.x(box.x), self.y(box.bottom), box.w * mm, box.h * mm, stroke=0, fill=1)

    def frame(self, x: float, y: float, w: float, h: float, ink: Ink, line_mm: float) -> None:
        c = self.canvas
        half = line_mm / 2
        c.setStrokeColor(self.ink(ink))
        c.setLineWidth(line_mm * mm)
        c.rect(
            self.x(x + half),
            self.y(y + h - half),
            (w - line_mm) * mm,
            (h - line_mm) * mm,
            stroke=1,
            fill=0,
        )

    def text(self, item: Text) -> None:
        if not item.text:
            return
        c = self.canvas
        set_text = _fixed_text(item) if item.field is None else typeset(item, measure)
        colour = self.ink(item.ink)
        layout, particulars = card_fonts()
        c.saveState()  # the render mode outlives the text object: keep it to this text
        obj = c.beginText()
        obj.setFont(layout if item.field is None else particulars, set_text.size_pt)
        obj.setCharSpace(set_text.tracking_mm * mm)
        obj.setFillColor(colour)
        if item.bold:
            obj.setTextRenderMode(2)  # fill, then stroke: a synthetic bold
            obj.setStrokeColor(colour)
            c.setLineWidth(set_text.size_pt * BOLD_STROKE_EM)
        for line in set_text.lines:
            obj.setTextOrigin(self.x(line.x), self.y(line.baseline))
            obj.textOut(line.text)
        c.drawText(obj)
        c.restoreState()

    def photo(self, item: Photo, photo: bytes | None) -> None:
        box = item.box
        if photo is None:
            self.frame(box.x, box.y, box.w, box.h, Ink.RULE, 0.25)
            self.text(
                Text(box, item.placeholder, size_pt=8.0, align=Align.CENTRE, ink=Ink.PLACEHOLDER)
            )
            return
        image = (_Jpeg if photo.startswith(JPEG_START) else ImageReader)(BytesIO(photo))
        width, height = image.getSize()
        sx, sy, sw, sh = cover_crop(width, height, box)
        scale = box.w * mm / sw  # points per photo pixel
        c = self.canvas
        c.saveState()
        clip = c.beginPath()
        clip.rect(self.x(box.x), self.y(box.bottom), box.w * mm, box.h * mm)
        c.clipPath(clip, stroke=0, fill=0)
        # the whole photo, placed so that its crop lies exactly on the box
        c.drawImage(
            image,
            self.x(box.x) - sx * scale,
            self.y(box.bottom) - (height - sy - sh) * scale,
            width * scale,
            height * scale,
        )
        c.restoreState()

    def qr(self, item: Qr, text: str) -> None:
        box = item.box
        c = self.canvas
        c.setFillColor(self.ink(Ink.PAPER))
        c.rect(self.x(box.x), self.y(box.bottom), box.w * mm, box.h * mm, stroke=0, fill=1)
        symbol = qr_modules(text)
        left, bottom = self.x(box.x), self.y(box.bottom)
        fill_qr(c, symbol.runs, symbol.size, left, bottom, box.w * mm, self.ink(Ink.QR))


def _canvas(buffer: BytesIO, size: tuple[float, float], face: CardFace) -> Canvas:
    # initialFontName: the PDF names no font it does not embed (reportlab starts in Helvetica)
    canvas = Canvas(buffer, pagesize=size, pageCompression=1, initialFontName=card_fonts()[1])
    canvas.setTitle(f"保安员证 {face.certificate_number}")
    canvas.setAuthor(face.issuing_authority)
    canvas.setSubject("保安员证")
    return canvas


def card_pdf(face: CardFace, *, palette: Palette = COLOUR) -> bytes:
    """Two pages at CR80 size, front then back: for a card printer's PDF path and for archiving."""
    return cards_pdf([face], palette=palette, title=f"保安员证 {face.certificate_number}")


def cards_pdf(
    faces: Iterable[CardFace], *, palette: Palette = COLOUR, title: str | None = None
) -> bytes:
    """Many cards in one document, front and back of each in turn: a 制证名单 batch for a card
    printer's PDF path. What every card shares (bands, titles, labels, the duties) is one form
    per side, drawn once and placed under each card's own particulars, photo and QR; the font
    subset and the document's fixed parts are written once too, which makes a batch still
    cheaper per card than one file per card (bench/cards.py)."""
    buffer = BytesIO()
    canvas: Canvas | None = None
    count = 0
    for face in faces:
        if canvas is None:
            canvas = _canvas(buffer, CARD_SIZE, face)
            _forms(canvas, face, palette)
        for name, (_, own) in _LAYERS.items():
            canvas.doForm(name)
            _Side(canvas, 0.0, CARD_SIZE[1], palette).draw(resolved(own, face), face)
            canvas.showPage()
        count += 1
    if canvas is None:
        raise ValueError("no cards")
    canvas.setTitle(title or f"保安员证 {count} 张")
    canvas.save()
    return buffer.getvalue()


# per palette: each side's shared form as PDF operators, and the codes its characters got
_FORMS: dict[tuple[tuple[Ink, str], ...], tuple[list[tuple[str, str]], Any]] = {}


def _forms(canvas: Canvas, face: CardFace, palette: Palette) -> None:
    """What every card shares, one form per side. The first document of a palette draws them;
    later ones get the same operators and the layout font's codes for them (the forms are the
    first thing a document draws, so its first font is the layout font), which saves drawing
    and fitting twenty-odd texts for every one-card file."""
    layout = cast(SubsetFont, pdfmetrics.getFont(card_fonts()[0]))
    doc = canvas._doc
    key = tuple(sorted(palette.items()))
    recorded = _FORMS.get(key)
    if recorded is not None and layout.adopt(doc, recorded[1]):
        for name, operators in recorded[0]:
            canvas.beginForm(name)
            canvas.addLiteral(operators)
            canvas.endForm()
        return
    fresh = not doc.fontMapping
    forms = []
    for name, (common, _) in _LAYERS.items():
        canvas.beginForm(name)
        start = len(canvas._code)
        _Side(canvas, 0.0, CARD_SIZE[1], palette).draw(common, face)
        forms.append((name, "\n".join(canvas._code[start:])))
        canvas.endForm()
    if fresh:
        _FORMS[key] = (forms, layout.snapshot(doc))


def card_sheet_pdf(face: CardFace, *, palette: Palette = COLOUR) -> bytes:
    """One A4 portrait page with front and back at true size, framed by a cutting line: for an
    office printer, or to show the holder what the card will say."""
    buffer = BytesIO()
    width, height = A4
    canvas = _canvas(buffer, A4, face)
    left = (width - CARD_SIZE[0]) / 2
    top = height - 30 * mm
    canvas.setFont(card_fonts()[1], 12)
    canvas.drawCentredString(width / 2, top + 10 * mm, f"保安员证　{face.certificate_number}")
    for index, side in enumerate((FRONT, BACK)):
        side_top = top - index * (CARD_SIZE[1] + SHEET_GAP_MM * mm)
        drawer = _Side(canvas, left, side_top, palette)
        drawer.draw(resolved(side, face), face)
        canvas.setDash(2, 2)
        drawer.frame(0.0, 0.0, CARD_WIDTH_MM, CARD_HEIGHT_MM, Ink.RULE, 0.15)
        canvas.setDash()
        canvas.setFont(card_fonts()[1], 8)
        canvas.setFillColor(_colour(palette[Ink.LABEL]))
        canvas.drawString(left, side_top - CARD_SIZE[1] - 4 * mm, ("正面", "背面")[index])
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
