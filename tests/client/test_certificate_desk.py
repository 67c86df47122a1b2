"""保安员资格证 on the desk against a real server: the list and its 是否有照片 filter, printing to
PDF (the QR on the written file decodes), to the simulated Evolis printer (real bytes through
the simulator) and an interrupted print (打印未完成 with the reason), and 吊销 behind a
confirmation that a stray Enter does not give."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from client.api import ApiClient
from client.devices.settings import DeviceSettings, PrinterPath
from client.jobs.runner import JobRunner
from client.preferences import Preferences
from client.session import Session
from client.views.certificates.dialogs import RevokeDialog
from client.views.certificates.page import CertificatePage
from drivers.evolis.panel import Panel
from drivers.evolis.simulator import EvolisSimulator
from drivers.sim import registry
from tests.client.certificate_desk import CertificateServer, serve_certificates
from tests.client.modal import when_modal
from tests.served import ADMIN, ADMIN_PASSWORD
from tests.server.test_card_pdf import rendered

WAIT = 20000
ENTER = (Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertificateServer]:
    yield from serve_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def desk(certs: CertificateServer, prefs: Preferences, qtbot: QtBot) -> Iterator[Session]:
    api = ApiClient(certs.url)
    api.login(ADMIN, ADMIN_PASSWORD)
    runner = JobRunner()
    yield Session(api, runner, prefs, api.me())
    runner.cancel_all()
    runner.wait(10000)


def open_page(qtbot: QtBot, session: Session) -> CertificatePage:
    page = CertificatePage(session)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.status.text() == "", timeout=WAIT)
    return page


def search(qtbot: QtBot, page: CertificatePage, text: str) -> None:
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.query.setText(text)
        page.search()


def shown(page: CertificatePage) -> list[str]:
    return [row.holder_name for row in page.model.rows]


def pick(qtbot: QtBot, page: CertificatePage, name: str) -> None:
    search(qtbot, page, name)
    assert shown(page) == [name]
    page.table.view.selectRow(0)


def printed_by(qtbot: QtBot, page: CertificatePage, start) -> tuple[bool, str]:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(page.printed, timeout=WAIT) as signal:
        start()
    ok, message = signal.args
    qtbot.waitUntil(lambda: not page.session.runner.busy, timeout=WAIT)
    return ok, message


def test_the_list_shows_the_cards_and_filters_by_photo(
    qtbot: QtBot, certs: CertificateServer, desk: Session
) -> None:
    ids = {certs.issue("列表甲", seed=11), certs.issue("列表乙", photo=False, seed=12)}
    page = open_page(qtbot, desk)
    search(qtbot, page, "列表")
    assert sorted(shown(page)) == ["列表乙", "列表甲"]
    assert {row.id for row in page.model.rows} == ids
    assert page.model.text(0, 8) == "未打印"  # 打印状态
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.photo.setCurrentIndex(page.photo.findText("无照片"))
    assert shown(page) == ["列表乙"]
    page.table.view.selectRow(0)
    assert not page.buttons["print"].isEnabled()
    assert "没有照片" in page.buttons["print"].toolTip()
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.photo.setCurrentIndex(page.photo.findText("有照片"))
    assert shown(page) == ["列表甲"]
    page.table.view.selectRow(0)
    assert page.buttons["print"].isEnabled() and not page.buttons["reprint"].isEnabled()


def test_print_to_pdf_writes_a_card_whose_qr_decodes(
    qtbot: QtBot, certs: CertificateServer, desk: Session, tmp_path: Path
) -> None:
    card_id = certs.issue("打印PDF", seed=21)
    page = open_page(qtbot, desk)
    pick(qtbot, page, "打印PDF")
    card = page.current()
    assert card is not None and card.id == card_id
    target = tmp_path / "card.pdf"
    ok, message = printed_by(
        qtbot, page, lambda: page.start_print(card, _channel("pdf"), pdf_path=target)
    )
    assert ok, message
    assert "打印完成" in message and page.flow is not None
    assert "打印完成" in page.flow.progress.label.text()
    data = target.read_bytes()
    assert len(PdfReader(target).pages) == 2
    back = rendered(data, tmp_path, page=2)
    assert [r.text for r in zxingcpp.read_barcodes(back)] == [card.payload]
    qtbot.waitUntil(lambda: bool(page.model.rows) and page.model.rows[0].printed, timeout=WAIT)
    assert page.model.text(0, 8) == "已打印"
    page.table.view.selectRow(0)
    assert not page.buttons["print"].isEnabled() and page.buttons["reprint"].isEnabled()


def _channel(name: str):  # type: ignore[no-untyped-def]
    from shared.certificates import PrintChannel

    return PrintChannel(name)


@pytest.fixture
def simulated_printer(prefs: Preferences) -> EvolisSimulator:
    sim = EvolisSimulator()
    name = f"desk-{uuid.uuid4().hex[:10]}"
    registry.install("evosim", name, sim)
    DeviceSettings(
        printer_path=PrinterPath.evolis_serial, printer_port=f"evosim://{name}", printer_baud=9600
    ).save(prefs.qsettings)
    return sim


def test_print_on_the_simulated_card_printer(
    qtbot: QtBot, certs: CertificateServer, desk: Session, simulated_printer: EvolisSimulator
) -> None:
    certs.issue("制证机打印", seed=31)
    page = open_page(qtbot, desk)
    pick(qtbot, page, "制证机打印")
    card = page.current()
    assert card is not None
    steps: list[int] = []
    ok, message = printed_by(
        qtbot,
        page,
        lambda: (
            page.start_print(card, _channel("evolis")),
            page.flow.progress.bar.valueChanged.connect(steps.append),  # type: ignore[union-attr]
        ),
    )
    assert ok, message
    (out,) = simulated_printer.ejected()
    assert sorted(out.front) == ["k", "o"] and sorted(out.back) == ["k", "o"]
    assert out.front["o"] == Panel.full().to_bytes()
    assert sum(bin(b).count("1") for b in out.back["k"]) > 10_000  # the QR and the text, inked
    assert steps and max(steps) == 100
    history = desk.api.certificate_history(card.id)
    assert [(e.kind, e.reason_code) for e in history.events][-1] == ("printed", "evolis")


def test_an_interrupted_print_leaves_the_card_unprinted_with_the_reason(
    qtbot: QtBot, certs: CertificateServer, desk: Session, simulated_printer: EvolisSimulator
) -> None:
    certs.issue("打印中断", seed=41)
    simulated_printer.on_command("Sv", simulated_printer.open_cover)  # before the back side
    page = open_page(qtbot, desk)
    pick(qtbot, page, "打印中断")
    card = page.current()
    assert card is not None
    ok, message = printed_by(qtbot, page, lambda: page.start_print(card, _channel("evolis")))
    assert not ok and message.startswith("打印未完成")
    assert [c.fate for c in simulated_printer.output] == ["rejected"]
    assert simulated_printer.ejected() == []
    now = desk.api.certificate(card.id)
    assert (now.print_state, now.print_state_label) == ("print_failed", "打印未完成")
    last = desk.api.certificate_history(card.id).events[-1]
    assert last.kind == "print_failed" and last.reason_code == "evolis"
    assert last.reason and last.reason in message
    assert "上盖" in last.reason or "盖" in last.reason
    assert page.status.property("error") is True
    assert "打印未完成" in page.flow.progress.label.text()  # type: ignore[union-attr]


def test_cancel_on_the_card_printer_is_recorded(
    qtbot: QtBot, certs: CertificateServer, desk: Session, simulated_printer: EvolisSimulator
) -> None:
    certs.issue("取消打印", seed=51)
    page = open_page(qtbot, desk)
    pick(qtbot, page, "取消打印")
    card = page.current()
    assert card is not None

    simulated_printer.panel_time = 0.3  # printing takes time: the clerk cancels meanwhile

    def start() -> None:
        flow = page.start_print(card, _channel("evolis"))
        qtbot.waitUntil(lambda: flow.progress.bar.value() >= 10, timeout=WAIT)
        qtbot.mouseClick(flow.progress.button, Qt.MouseButton.LeftButton)  # 取消
        assert flow.progress.label.text() == "正在取消…"

    ok, message = printed_by(qtbot, page, start)
    assert not ok and "取消" in message
    assert [c.fate for c in simulated_printer.output] == ["rejected"]
    assert desk.api.certificate(card.id).print_state == "print_failed"
    assert desk.api.certificate_history(card.id).events[-1].kind == "print_failed"


def test_revoke_is_confirmed_and_a_stray_enter_revokes_nothing(
    qtbot: QtBot, certs: CertificateServer, desk: Session
) -> None:
    certs.issue("吊销确认", seed=61)
    page = open_page(qtbot, desk)
    pick(qtbot, page, "吊销确认")
    card = page.current()
    assert card is not None
    seen: dict[str, object] = {}

    def fill(dialog: RevokeDialog) -> None:
        dialog.reason.setPlainText("以保安员身份从事违法活动")
        dialog.basis.setPlainText("《保安服务管理条例》第四十三条")
        for widget in (dialog, dialog.reason, dialog.basis):
            widget.setFocus()
            qtbot.keyClick(widget, *ENTER)
        seen["open_after_enter"] = dialog.isVisible()

        def answer_enter(box: QMessageBox) -> None:
            seen["default"] = box.defaultButton().text()
            qtbot.keyClick(box, *ENTER)

        when_modal(QMessageBox, answer_enter)
        dialog.submit()  # the 确认吊销 button's slot: asks first; Enter there is 取消
        seen["open_after_confirm_enter"] = dialog.isVisible()

        def answer_yes(box: QMessageBox) -> None:
            next(b for b in box.buttons() if b.text() == "确认吊销").click()

        when_modal(QMessageBox, answer_yes)
        dialog.submit()

    when_modal(RevokeDialog, fill)
    with qtbot.waitSignal(page.acted, timeout=WAIT) as acted:
        page.buttons["revoke"].click()
    assert seen == {"open_after_enter": True, "default": "取消", "open_after_confirm_enter": True}
    assert acted.args[0].startswith("已吊销")
    assert desk.api.certificate(card.id).status == "revoked"
    events = desk.api.certificate_history(card.id).events
    assert [(e.kind, e.basis) for e in events][-1] == ("revoke", "《保安服务管理条例》第四十三条")


def test_revoke_cancelled_by_enter_sends_nothing(
    qtbot: QtBot, certs: CertificateServer, desk: Session
) -> None:
    certs.issue("吊销取消", seed=71)
    page = open_page(qtbot, desk)
    pick(qtbot, page, "吊销取消")
    card = page.current()
    assert card is not None

    def fill(dialog: RevokeDialog) -> None:
        dialog.reason.setPlainText("原因")
        dialog.basis.setPlainText("依据")
        when_modal(QMessageBox, lambda box: qtbot.keyClick(box, *ENTER))
        dialog.submit()
        dialog.reject()

    when_modal(RevokeDialog, fill)
    page.buttons["revoke"].click()
    page.session.runner.wait(WAIT)
    assert desk.api.certificate(card.id).status == "active"
