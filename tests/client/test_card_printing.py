"""Card faces: the 300-dpi K panel the Evolis path sends, and the CR80 page the OS path prints."""

from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from client.devices.card_image import (
    CARD_HEIGHT_MM,
    CARD_WIDTH_MM,
    LINE_BYTES,
    WIDTH_DOTS,
    CardSide,
    Text,
    panel_lines,
    render_side,
    sample_card,
)
from client.devices.settings import DeviceSettings, PrinterPath
from client.devices.system_printing import SystemPrintError, cr80_printer, print_card
from client.resources import ensure_cjk_font

DOTS_PER_MM = WIDTH_DOTS / CARD_WIDTH_MM
WHEN = datetime(2026, 11, 24, 10, 30)


def ink(lines: bytes, x_mm: float, y_mm: float) -> bool:
    """Whether the panel inks the point ``x_mm`` from the left and ``y_mm`` from the top."""
    line, dot = int(x_mm * DOTS_PER_MM), int(y_mm * DOTS_PER_MM)
    return bool(lines[line * LINE_BYTES + dot // 8] >> (7 - dot % 8) & 1)


@pytest.fixture(autouse=True)
def cjk_font(qtbot: QtBot) -> None:
    ensure_cjk_font()


def test_the_test_card_panel_has_the_printer_geometry_and_orientation() -> None:
    lines = panel_lines(render_side(sample_card("WS-01", WHEN).front))
    assert len(lines) == 1016 * 81 == 82_296
    assert ink(lines, 6.0, 6.0)  # the filled orientation block, top left
    assert not ink(lines, CARD_WIDTH_MM - 6.0, 6.0)  # nothing mirrored to the top right
    assert not ink(lines, 6.0, CARD_HEIGHT_MM - 4.0)  # nor to the bottom left
    assert ink(lines, 20.0, 1.1) and ink(lines, 1.1, 20.0)  # the border on two edges
    assert not ink(lines, 40.0, 15.0)  # white between the title and the text


def test_text_is_inked_where_it_is_laid_out() -> None:
    side = CardSide((Text(10.0, 20.0, "■■■■■■", size=20, width=60.0, height=10.0),))
    lines = panel_lines(render_side(side))
    assert any(ink(lines, 10.0 + i, 25.0) for i in range(0, 20))
    assert not any(ink(lines, 10.0 + i, 40.0) for i in range(0, 20))


def test_the_os_path_prints_a_cr80_card_to_a_pdf_printer(tmp_path: Path) -> None:
    pdf = tmp_path / "card.pdf"
    assert print_card(sample_card("WS-01", WHEN), cr80_printer(pdf_path=str(pdf))) == 2
    reader = PdfReader(pdf)
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    # CR80 in points: 85.60 × 53.98 mm
    assert float(box.width) == pytest.approx(85.60 / 25.4 * 72, abs=1.0)
    assert float(box.height) == pytest.approx(53.98 / 25.4 * 72, abs=1.0)
    text = reader.pages[0].extract_text()
    assert "保安服务监管信息系统" in text and "WS-01" in text
    assert "2026-11-24" in text and "10:30:00" in text


def test_an_unknown_system_printer_is_refused_in_chinese() -> None:
    with pytest.raises(SystemPrintError, match="找不到打印机"):
        cr80_printer(printer_name="不存在的打印机-xyz")


def test_device_settings_are_remembered_per_workstation(tmp_path: Path) -> None:
    qsettings = QSettings(str(tmp_path / "station.ini"), QSettings.Format.IniFormat)
    assert DeviceSettings.load(qsettings) == DeviceSettings()
    chosen = DeviceSettings(
        fingerprint_port="COM4",
        fingerprint_baud=115200,
        printer_path=PrinterPath.system,
        printer_port="",
        printer_baud=19200,
        system_printer="Evolis Primacy",
    )
    chosen.save(qsettings)
    again = QSettings(str(tmp_path / "station.ini"), QSettings.Format.IniFormat)
    assert DeviceSettings.load(again) == chosen
