"""A 保安员证 card face to the Evolis printer's panels, and printed through the direct serial path.

Which panels the direct path prints: **a dithered black K panel and a clear overlay O on each
side — never the colour panels.** The public facts we have (``DEVICES.md``, from the Evolis
programming guide) fix the K/O bitmap exactly — 1016 lines × 648 dots, 1 bit a dot, the ``Dbc``
compression — but not the layout of a colour panel: ``Db;y|m|c;32|64|128`` names the levels,
not how the bits of a dot are packed, in which order the lines go, or how the three panels are
registered. Sending guessed colour data would print garbage on a real printer, and our simulator
cannot tell us otherwise. So the colour card goes through the operating system's printer (the
vendor's driver knows its own colour format: ``client/devices/system_printing.py`` with the same
painter), and the direct path prints the face in black resin, as a monochrome ID card.

How the face becomes a K panel: the Qt painter draws it in ``mono`` mode (every ink solid black,
no antialiasing, the title band a black field with the title knocked out) on a 1016 × 648 image
— the panel's 300 dpi; the card's 85.60 mm across are the 1016 lines, and the 53.98 mm down fit
in the 648 dots with a 3-dot white margin top and bottom — and Qt's error diffusion
(Floyd–Steinberg) turns the only grey thing left, the photograph, into dots. Solid black and
white areas come through diffusion unchanged, so text stays sharp. ``panel_lines`` then turns the
landscape image into the printer's lines (see ``drivers/evolis/panel.py`` for the orientation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QImage, QPainter

from client.devices.card_image import HEIGHT_DOTS, WIDTH_DOTS, panel_lines
from client.qt.card_painter import paint_side
from drivers.evolis.device import EvolisPrinter, ProgressCallback
from drivers.evolis.panel import Panel
from shared.card_layout import CARD_HEIGHT_MM, CARD_WIDTH_MM, MONO, CardFace, Ink

DIRECT_PATH_PANELS = "K+O"  # dithered black resin and overlay on each side; no YMC (see above)
DOTS_PER_MM = WIDTH_DOTS / CARD_WIDTH_MM  # 11.87: the card's length is the panel's 1016 lines
TOP_MARGIN_DOTS = (HEIGHT_DOTS - CARD_HEIGHT_MM * DOTS_PER_MM) / 2


class CardNotPrintableError(Exception):
    """The face cannot go to a printer as it is; ``message`` is for the clerk."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class CardPanels:
    front_k: Panel
    back_k: Panel


def panel_image(face: CardFace, side: str) -> QImage:
    """The side in black and white (photo still grey) at the panel's own 1016 × 648 dots."""
    image = QImage(WIDTH_DOTS, HEIGHT_DOTS, QImage.Format.Format_RGB32)
    image.fill(MONO[Ink.PAPER])
    painter = QPainter(image)
    try:
        painter.translate(0.0, TOP_MARGIN_DOTS)
        paint_side(painter, side, face, scale=DOTS_PER_MM, mono=True)
    finally:
        painter.end()
    return image


def face_panels(face: CardFace) -> CardPanels:
    """Front and back K panels of ``face`` (dithered), ready for ``EvolisPrinter.print_card``."""
    return CardPanels(
        Panel(panel_lines(panel_image(face, "front"), dither=True)),
        Panel(panel_lines(panel_image(face, "back"), dither=True)),
    )


def print_face(
    printer: EvolisPrinter,
    face: CardFace,
    *,
    cancel: Callable[[], bool] | None = None,
    on_progress: ProgressCallback | None = None,
) -> CardPanels:
    """Print ``face`` on the direct path: K + full overlay on both sides. A card without a photo
    is refused before a blank is taken. The driver's promise holds: an interrupted job sends the
    card to the reject box and raises with the clerk's message; ``cancel`` is polled between
    commands and ``on_progress(label, fraction)`` reports each step."""
    if not face.photo:
        raise CardNotPrintableError("该证件没有照片，不能打印；请先补充照片")
    panels = face_panels(face)
    printer.print_card(
        panels.front_k,
        overlay=True,
        back_k=panels.back_k,
        cancel=cancel,
        on_progress=on_progress,
    )
    return panels
