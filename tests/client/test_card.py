"""The card through Qt: the preview, a QImage whose QR a real reader decodes, and the K panels
sent byte for byte through the Evolis driver to the simulator."""

import dataclasses
import uuid

import pytest
import zxingcpp
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from client.devices.card_image import panel_lines
from client.devices.card_print import (
    CardNotPrintableError,
    face_panels,
    panel_image,
    print_face,
)
from client.qt.card_painter import render_side
from client.views.card_preview import CardPreviewDialog
from drivers.errors import CancelledByUserError
from drivers.evolis.device import EvolisPrinter, Timeouts
from drivers.evolis.panel import LINES, Panel
from drivers.evolis.simulator import EvolisSimulator
from drivers.sim import registry
from drivers.transport import SerialTransport
from tests.card_faces import face


@pytest.fixture
def sim_printer(qtbot: QtBot):  # type: ignore[no-untyped-def]
    sim = EvolisSimulator()
    name = f"card-{uuid.uuid4().hex[:10]}"
    registry.install("evosim", name, sim)
    printer = EvolisPrinter(
        SerialTransport(f"evosim://{name}", 115200), timeouts=Timeouts.uniform(5.0)
    )
    printer.open()
    yield sim, printer
    printer.close()


def test_the_qt_back_decodes_to_the_payload(qtbot: QtBot) -> None:
    card = face(5)
    image = render_side(card, "back", dpi=300)
    assert (image.width(), image.height()) == (1011, 638)
    assert [b.text for b in zxingcpp.read_barcodes(image)] == [card.qr_text]


def test_the_k_panel_back_still_decodes(qtbot: QtBot) -> None:
    card = face(6)
    image = panel_image(card, "back")
    assert (image.width(), image.height()) == (LINES, 648)
    assert [b.text for b in zxingcpp.read_barcodes(image)] == [card.qr_text]


def test_the_face_prints_on_the_simulator_as_sent(qtbot: QtBot, sim_printer) -> None:
    sim, printer = sim_printer
    card = face(8)
    steps: list[tuple[str, float]] = []
    panels = print_face(printer, card, on_progress=lambda label, f: steps.append((label, f)))
    (printed,) = sim.ejected()
    assert printed.front["k"] == panels.front_k.to_bytes()
    assert printed.back["k"] == panels.back_k.to_bytes()
    assert printed.front["o"] == Panel.full().to_bytes() == printed.back["o"]
    assert sorted(printed.front) == ["k", "o"]  # the direct path prints no colour panel
    assert steps[-1] == ("完成", 1.0) and "打印背面黑色" in [label for label, _ in steps]
    # what the printer got is the face: the title band is solid ink, the white under it is not
    front = panels.front_k
    assert front.get(dot=3 + 60, line=100)  # band, 5 mm down, 8 mm in
    assert not front.get(dot=3 + 250, line=700)  # white between the rows and the photo
    assert 0.1 < front.ink_dots() / (1016 * 648) < 0.5


def test_cancel_and_missing_photo(qtbot: QtBot, sim_printer) -> None:
    sim, printer = sim_printer
    with pytest.raises(CardNotPrintableError, match="没有照片"):
        print_face(printer, face(1, photo=False))
    assert sim.output == [] and sim.cards == 100  # refused before a blank was taken
    calls = iter([False, False, False, True])
    with pytest.raises(CancelledByUserError, match="废卡盒"):
        print_face(printer, face(1), cancel=lambda: next(calls, True))
    assert [c.fate for c in sim.output] == ["rejected"]


def test_panels_are_deterministic_and_the_photo_is_dithered(qtbot: QtBot) -> None:
    card = face(9)
    assert face_panels(card) == face_panels(card)
    plain = dataclasses.replace(card, photo=None)
    with_photo = panel_lines(panel_image(card, "front"), dither=True)
    assert with_photo != panel_lines(panel_image(plain, "front"), dither=True)


def test_the_preview_shows_both_sides(qtbot: QtBot) -> None:
    dialog = CardPreviewDialog(face(2))
    qtbot.addWidget(dialog)
    dialog.show()
    view = dialog.views["back"]
    image = QImage(view.size(), QImage.Format.Format_RGB32)
    view.render(image)
    assert view.width() >= 500 and dialog.sizeHint().width() <= 1350
    assert [b.text for b in zxingcpp.read_barcodes(image)] == [face(2).qr_text]
