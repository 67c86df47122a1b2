"""设备设置 with real widgets against the simulators: test the fingerprint module, query the card
printer, print the test card, survive a cover opened mid-card, remember the choice."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from client.devices.card_image import CARD_WIDTH_MM, WIDTH_DOTS
from client.devices.settings import DeviceSettings, PrinterPath
from client.jobs.runner import JobRunner
from client.resources import ensure_cjk_font
from client.views.devices.settings_dialog import DeviceSettingsDialog
from drivers.evolis.panel import Panel
from drivers.evolis.simulator import EvolisSimulator
from drivers.fingerprint.simulator import FingerprintSimulator
from drivers.sim import registry

DOTS_PER_MM = WIDTH_DOTS / CARD_WIDTH_MM


@pytest.fixture
def simulators() -> Iterator[tuple[FingerprintSimulator, EvolisSimulator]]:
    finger = registry.install("fpsim", "desk-test", FingerprintSimulator())
    printer = registry.install("evosim", "desk-test", EvolisSimulator())
    assert isinstance(finger, FingerprintSimulator) and isinstance(printer, EvolisSimulator)
    yield finger, printer
    registry.forget()


@pytest.fixture
def dialog(qtbot: QtBot, tmp_path: Path) -> DeviceSettingsDialog:
    ensure_cjk_font()
    runner = JobRunner()
    qsettings = QSettings(str(tmp_path / "station.ini"), QSettings.Format.IniFormat)
    widget = DeviceSettingsDialog(qsettings, runner, workstation="WS-07")
    qtbot.addWidget(widget)
    widget.fp_port.setEditText("fpsim://desk-test")
    widget.pr_port.setEditText("evosim://desk-test")
    return widget


def wait_done(qtbot: QtBot, dialog: DeviceSettingsDialog) -> str:
    qtbot.waitUntil(lambda: not dialog.working, timeout=20000)
    return dialog.report.toPlainText()


def test_the_fingerprint_module_is_tested_in_place(
    qtbot: QtBot, dialog: DeviceSettingsDialog, simulators: tuple[FingerprintSimulator, ...]
) -> None:
    dialog.fp_test.click()
    assert dialog.working and dialog.cancel_button.isVisibleTo(dialog)
    report = wait_done(qtbot, dialog)
    assert "指纹库容量: 300" in report and "已存指纹数: 0" in report
    assert "失败" not in dialog.status.text()


def test_the_clone_without_notepad_is_offered_and_tests_healthy(
    qtbot: QtBot, dialog: DeviceSettingsDialog, simulators: tuple[FingerprintSimulator, ...]
) -> None:
    index = dialog.fp_port.findData("fpsim://clone?finger=A&notepad=0")
    assert index >= 0 and "无记事本" in dialog.fp_port.itemText(index)
    dialog.fp_port.setCurrentIndex(index)
    dialog.fp_test.click()
    report = wait_done(qtbot, dialog)
    assert "记事本: 不可用（模块对“读记事本”指令应答 0x01）" in report
    assert "设备编号: port-" in report and "指纹库容量: 300" in report
    assert "失败" not in dialog.status.text()


def test_an_unplugged_module_is_explained(
    qtbot: QtBot, dialog: DeviceSettingsDialog, simulators: tuple[FingerprintSimulator, ...]
) -> None:
    simulators[0].unplug()
    dialog.fp_test.click()
    report = wait_done(qtbot, dialog)
    assert "失败" in dialog.status.text()
    assert "错误:" in report and ("断开" in report or "找不到" in report)


def test_printer_status_and_the_test_card_on_the_serial_path(
    qtbot: QtBot,
    dialog: DeviceSettingsDialog,
    simulators: tuple[FingerprintSimulator, EvolisSimulator],
) -> None:
    printer = simulators[1]
    dialog.pr_status.click()
    report = wait_done(qtbot, dialog)
    assert "型号: Evolis" in report and "色带: ko" in report
    seen: list[str] = []
    dialog.progressed.connect(seen.append)
    dialog.pr_test.click()
    wait_done(qtbot, dialog)
    assert "打印测试卡：完成" in dialog.status.text()
    assert seen and all(s.startswith("打印测试卡：") for s in seen) and "%" in seen[-1]
    [card] = printer.ejected()
    front_k = next(p for p in card.panels if p.side == "front" and p.panel == "k")
    panel = Panel(front_k.data)
    # the orientation block of the test card, top left of the landscape face
    spot = round(6 * DOTS_PER_MM)
    assert panel.get(spot, spot) and not panel.get(spot, WIDTH_DOTS - spot)
    assert any(p.side == "back" for p in card.panels)


def test_a_cover_opened_mid_card_rejects_it_and_a_retry_prints_a_whole_card(
    qtbot: QtBot,
    dialog: DeviceSettingsDialog,
    simulators: tuple[FingerprintSimulator, EvolisSimulator],
) -> None:
    printer = simulators[1]
    printer.open_cover_after(7)  # after the card is taken, before the job ends
    dialog.pr_test.click()
    report = wait_done(qtbot, dialog)
    assert "上盖" in dialog.status.text() and "废卡盒" in report
    assert printer.ejected() == [] and len(printer.rejected()) == 1
    printer.close_cover()
    dialog.pr_test.click()
    wait_done(qtbot, dialog)
    assert len(printer.ejected()) == 1 and len(printer.rejected()) == 1


def test_the_choice_is_saved_for_this_workstation(
    qtbot: QtBot, dialog: DeviceSettingsDialog, tmp_path: Path
) -> None:
    dialog.fp_baud.setCurrentIndex(dialog.fp_baud.findData(115200))
    dialog.path.setCurrentIndex(dialog.path.findData(str(PrinterPath.evolis_serial)))
    dialog.save()
    station = QSettings(str(tmp_path / "station.ini"), QSettings.Format.IniFormat)
    saved = DeviceSettings.load(station)
    assert (saved.fingerprint_port, saved.fingerprint_baud) == ("fpsim://desk-test", 115200)
    assert saved.printer_port == "evosim://desk-test"
