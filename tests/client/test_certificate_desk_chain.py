"""The 保安员证 chain walked through the desk, as the clerks of 杭州市公安局 do it (issue 16):
the exam clerk's main window shows the approved enrolments in 考试报名 (待安排考试); in 考试安排
schedules an exam (新增考试), fills it with the candidate picker (添加人员) and publishes it (the
notices land in the outbox); in 录入成绩 downloads the template, fills it in a real xlsx with
mistakes (every problem shown row by row, nothing written), imports the corrected file (graded in
the grid) and notifies the scores. The city approver's main window then finds the two 制证审批 in
通用审批 and approves them. Back on the clerk's desk, 保安员资格证 previews a card, prints it on
the simulated Evolis printer and the other one to PDF; the QR of that PDF, rendered by PDFium and
read by zxing, verifies offline (the CLI, with the key file and status list the server exports)
and through the verify API; 吊销 in the page's dialog; both then say revoked, and 考试报名 shows
where each candidate ended.

Set-up before the chain (not the desk's work): the enrolments are driven through their three
approval levels by the ``exam_desk`` factory, each with its 证件照 uploaded at intake. One
engine, SQLite: the desk suite's servers are SQLite processes; the PostgreSQL twin of the chain
is the server-side ``tests/server/test_certificate_chain.py``."""

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import requests
import zxingcpp
from openpyxl import load_workbook
from PIL import Image
from PySide6.QtCore import QBuffer, QDateTime, QIODevice, Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from client.api import ApiClient
from client.jobs.runner import JobRunner
from client.preferences import Preferences
from client.session import Session
from client.views.approvals.inbox_page import InboxPage
from client.views.approvals.review_dialog import ReviewDialog
from client.views.card_preview import CardPreviewDialog
from client.views.certificates.dialogs import RevokeDialog
from client.views.certificates.page import CertificatePage
from client.views.certificates.printing import PrintDialog
from client.views.exams.candidate_picker import CandidatePicker
from client.views.exams.enrolments_page import EnrolmentsPage
from client.views.exams.exam_dialog import BEIJING, ExamDialog
from client.views.exams.exams_page import ExamsPage
from client.views.exams.scores_page import ScoresPage
from client.views.main_window import MainWindow
from client.views.pages import PAGES
from drivers.evolis.simulator import EvolisSimulator
from server.services.scoresheets.spec import SCORES_SHEET
from shared.certificates import PHOTO_TITLE, PrintChannel
from shared.enums import BusinessType
from shared.exams import ExamStatus
from tests.card_faces import portrait
from tests.client.certificate_desk import CertificateServer, serve_certificates
from tests.client.exam_desk import EXAM_CLERK_PERMISSIONS, ExamDesk, build_exam_desk
from tests.client.modal import when_modal
from tests.client.test_certificate_desk import printed_by, simulated_printer  # noqa: F401
from tests.client.test_exam_pages import button, notices
from tests.client.test_scores_page import choose_file
from tests.server.test_certificate_chain import (
    PRACTICE,
    REVOCATION,
    THEORY,
    verified_offline,
)
from tests.server.test_exam_scores import fill

WAIT = 20000
EXAM = "2026年第五期保安员资格考试"
# who passes, who fails on theory, who stays away
PASSED, FAILED, ABSENT = ("陈立新", "王海燕"), "李志强", "赵敏"
CANDIDATES = (*PASSED, FAILED, ABSENT)
RESULTS = {**dict.fromkeys(PASSED, "合格"), FAILED: "不合格", ABSENT: "缺考"}
CHAIN_PERMISSIONS = [
    *EXAM_CLERK_PERMISSIONS,
    "exam_scores:view",
    "exam_scores:import",
    "exam_scores:notify",
    "certificates:view",
    "certificates:print",
    "certificates:export",
    "certificates:revoke",
]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertificateServer]:
    yield from serve_certificates(tmp_path_factory.mktemp("desk-chain"))


@pytest.fixture(scope="module")
def server(certs: CertificateServer) -> str:
    """The suite's server for ``admin_api``: this one, which holds a signing key."""
    return certs.url


@pytest.fixture(scope="module")
def desk(admin_api: ApiClient) -> ExamDesk:
    return build_exam_desk(admin_api, "chain", CHAIN_PERMISSIONS)


@pytest.fixture
def open_desk(qtbot: QtBot, prefs: Preferences) -> Iterator[Callable[[ApiClient], MainWindow]]:
    """A signed-in user's main window with the desk's pages, on this workstation's settings."""
    runners: list[JobRunner] = []

    def make(api: ApiClient) -> MainWindow:
        runner = JobRunner()
        runners.append(runner)
        window = MainWindow(Session(api, runner, prefs, api.me()), PAGES)
        qtbot.addWidget(window)
        window.show()
        return window

    yield make
    for runner in runners:
        runner.cancel_all()
        runner.wait(10000)


def go(window: MainWindow, key: str) -> QWidget:
    """Open a page through the menu on the left, as a click on its entry does."""
    window.select_page(key)
    assert window.stack.currentWidget() is window.pages[key]
    return window.pages[key]


def enrolled(desk: ExamDesk) -> dict[str, int]:
    """The candidates' enrolments, each with its 证件照, approved at every level."""
    ids = {}
    for seed, name in enumerate(CANDIDATES):
        app_id = desk.enrol(name)
        desk.world.admin.upload_material(app_id, PHOTO_TITLE, "证件照.jpg", portrait(seed))
        desk.approve(app_id, 3)
        ids[name] = app_id
    return ids


def statuses(page: EnrolmentsPage) -> dict[str, str]:
    return {row.name: row.status_label for row in page.model.rows}


def read_qr(image: Image.Image) -> list[str]:
    return [str(b.text) for b in zxingcpp.read_barcodes(image.convert("L"))]


def qr_on_pdf_page(pdf: bytes, page: int, dpi: int = 300) -> list[str]:
    """Every QR text on page ``page`` (1-based), rendered by PDFium."""
    document = pdfium.PdfDocument(pdf)
    try:
        bitmap = document[page - 1].render(scale=dpi / 72)
        return read_qr(bitmap.to_pil())
    finally:
        document.close()


def qr_on_widget(widget: QWidget) -> list[str]:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    return read_qr(Image.open(io.BytesIO(bytes(buffer.data()))))


def verify_api(base_url: str, payload: str) -> dict[str, object]:
    """The public verify endpoint, as the portal or a phone asks it."""
    answer = requests.post(
        f"{base_url}/api/v1/certificates/verify", json={"payload": payload}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_the_chain_through_the_desk(
    qtbot: QtBot,
    certs: CertificateServer,
    desk: ExamDesk,
    open_desk: Callable[[ApiClient], MainWindow],
    simulated_printer: EvolisSimulator,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = enrolled(desk)
    database = Path(certs.database_url.removeprefix("sqlite:///"))
    clerk = open_desk(desk.clerk_api())

    # 1. 考试报名: the four enrolments have finished approval and wait for an exam
    enrolments = go(clerk, "exam_enrolments")
    assert isinstance(enrolments, EnrolmentsPage)
    qtbot.waitUntil(lambda: len(enrolments.model.rows) == 4, timeout=WAIT)
    assert statuses(enrolments) == dict.fromkeys(CANDIDATES, "待安排考试")

    # 2. 考试安排 → 新增考试: it began half an hour ago (the scores are entered after it)
    exams = go(clerk, "exams")
    assert isinstance(exams, ExamsPage)
    qtbot.waitUntil(lambda: bool(exams.rules), timeout=WAIT)
    qtbot.mouseClick(exams.buttons["add"], Qt.MouseButton.LeftButton)
    dialog = exams.findChild(ExamDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.name.setText(EXAM)  # typed through the IME (QTest types ASCII only)
    dialog.address.setText("杭州市西湖区文三路100号保安员考试中心")
    began = QDateTime.currentDateTime().toTimeZone(BEIJING).addSecs(-30 * 60)
    dialog.starts.setDateTime(began)
    dialog.ends.setDateTime(began.addSecs(2 * 3600))
    dialog.seats.setValue(30)
    with qtbot.waitSignal(exams.loaded, timeout=WAIT):
        qtbot.mouseClick(
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
        )
    qtbot.waitUntil(lambda: exams.exam is not None and exams.exam.name == EXAM, timeout=WAIT)
    assert exams.exam.status == ExamStatus.draft and exams.exam.org_name == "杭州市公安局"

    # 添加人员: the picker lists the four; Ctrl+A selects them, 添加人员 adds them
    qtbot.mouseClick(exams.buttons["pick"], Qt.MouseButton.LeftButton)
    picker = exams.findChild(CandidatePicker)
    assert picker is not None and picker.isVisible()
    qtbot.waitUntil(lambda: picker.model.total == 4, timeout=WAIT)
    assert sorted(row.name for row in picker.model.rows) == sorted(CANDIDATES)
    picker.table.view.setFocus()
    qtbot.keyClick(picker.table.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert "已选 4 人" in picker.seats.text()
    with qtbot.waitSignal(exams.candidates_loaded, timeout=WAIT):
        qtbot.mouseClick(picker.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: exams.findChildren(CandidatePicker) == [], timeout=WAIT)  # deleted
    assert exams.exam.candidates == 4
    assert sorted(c.name for c in exams.candidates.rows) == sorted(CANDIDATES)

    # 发布考试安排, confirmed: admission numbers, one SMS and one app notice per candidate
    seen: dict[str, str] = {}

    def publish(box: QMessageBox) -> None:
        seen["details"] = box.informativeText()
        button(box, "发布").click()

    when_modal(QMessageBox, publish)
    with qtbot.waitSignal(exams.candidates_loaded, timeout=WAIT):
        qtbot.mouseClick(exams.buttons["publish"], Qt.MouseButton.LeftButton)
    assert "4 名考生" in seen["details"]
    assert exams.exam.status == ExamStatus.published
    numbers = {c.name: c.admission_number for c in exams.candidates.rows}
    assert all(numbers.values()) and len(set(numbers.values())) == 4
    sent = notices(database, EXAM)
    assert sorted(channel for channel, _, _ in sent) == ["app"] * 4 + ["sms"] * 4
    for name, number in numbers.items():
        told = [body for _, _, body in sent if body.startswith(f"{name}：")]
        assert len(told) == 2 and all(number in body and "文三路100号" in body for body in told)

    # 3. 录入成绩: the template downloaded, a real xlsx with the candidates prefilled
    scores = go(clerk, "exam_scores")
    assert isinstance(scores, ScoresPage)
    qtbot.waitUntil(lambda: scores.grid.sheet is not None, timeout=WAIT)
    assert scores.exams.currentText() == EXAM and scores.table.rowCount() == 4
    template = tmp_path / "模板.xlsx"
    choose_file(monkeypatch, "getSaveFileName", template)
    qtbot.mouseClick(scores.download, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(template.exists, timeout=WAIT)
    rows = list(load_workbook(template)[SCORES_SHEET].iter_rows(values_only=True))
    assert rows[0] == ("准考证号", "姓名", "身份证号", THEORY, PRACTICE, "缺考")
    row_of = {r[1]: n for n, r in enumerate(rows[1:], start=2)}  # 姓名 → sheet row
    assert {r[1]: r[0] for r in rows[1:]} == numbers

    # filled with mistakes: every problem shown row by row, nothing written
    careless = tmp_path / "成绩-有误.xlsx"
    careless.write_bytes(
        fill(
            template.read_bytes(),
            {
                row_of[PASSED[0]]: (85, 190),  # out of range
                row_of[PASSED[1]]: ("七十八", 66),  # not a number
                row_of[FAILED]: (59, 90),
                row_of[ABSENT]: (70, None, "是"),  # absent and scored
            },
        )
    )
    choose_file(monkeypatch, "getOpenFileName", careless)
    with qtbot.waitSignal(scores.imported, timeout=WAIT):
        qtbot.mouseClick(scores.import_button, Qt.MouseButton.LeftButton)
    problems = scores.problems
    assert problems is not None and problems.isVisible()
    shown = [
        tuple(problems.table.item(r, c).text() for c in range(4))
        for r in range(problems.table.rowCount())
    ]
    assert sorted(shown) == sorted(
        [
            ("成绩", str(row_of[PASSED[0]]), PRACTICE, "成绩190超出范围，应在0至100之间"),
            ("成绩", str(row_of[PASSED[1]]), THEORY, "“七十八”不是数字"),
            ("成绩", str(row_of[ABSENT]), THEORY, "已标记缺考，不应填写成绩"),
        ]
    )
    problems.reject()
    exam_id = scores.exam_id
    assert exam_id is not None
    assert scores.session.api.score_sheet(exam_id).counts["entered"] == 0  # nothing written

    # the corrected file: checked, its counts confirmed, imported and graded in the grid
    corrected = tmp_path / "成绩-改正.xlsx"
    corrected.write_bytes(
        fill(
            template.read_bytes(),
            {
                row_of[PASSED[0]]: (85, 90),
                row_of[PASSED[1]]: (78, 66),
                row_of[FAILED]: (59, 90),
                row_of[ABSENT]: (None, None, "是"),
            },
        )
    )
    choose_file(monkeypatch, "getOpenFileName", corrected)

    def agree_to_import(box: QMessageBox) -> None:
        seen["import"] = box.informativeText()
        button(box, "导入").click()

    when_modal(QMessageBox, agree_to_import)
    with qtbot.waitSignal(scores.loaded, timeout=WAIT):
        qtbot.mouseClick(scores.import_button, Qt.MouseButton.LeftButton)
    assert "合格 2 人，不合格 1 人" in seen["import"] and "缺考 1 人" in seen["import"]
    column = scores.grid.result_column
    graded = {scores.table.item(r, 1).text(): scores.table.item(r, column).text() for r in range(4)}
    assert graded == RESULTS

    # 通知成绩, confirmed: the scores lock, everyone is told, a 制证审批 opens for each pass
    def agree_to_notify(box: QMessageBox) -> None:
        seen["notify"] = box.informativeText()
        button(box, "通知成绩").click()

    when_modal(QMessageBox, agree_to_notify)
    qtbot.mouseClick(scores.notify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: scores.grid.locked, timeout=WAIT)
    assert "合格 2 人，不合格 1 人，缺考 1 人" in seen["notify"]
    assert not scores.import_button.isEnabled()
    results = [(channel, body) for channel, _, body in notices(database, EXAM) if "结果：" in body]
    assert sorted(channel for channel, _ in results) == ["app"] * 4 + ["sms"] * 4
    for name, result in RESULTS.items():
        told = [body for _, body in results if body.startswith(f"{name}：")]
        assert len(told) == 2 and all(f"结果：{result}" in body for body in told), told

    # 4. 通用审批 on the city approver's desk: the two 制证审批, approved one by one
    approver = open_desk(desk.world.signed_in("city"))
    inbox = go(approver, "applications")
    assert isinstance(inbox, InboxPage)

    def reviews() -> list[int]:
        return [
            r
            for r, row in enumerate(inbox.model.rows)
            if row.business_type == BusinessType.guard_certificate
        ]

    qtbot.waitUntil(lambda: len(reviews()) == 2, timeout=WAIT)
    assert sorted(inbox.model.rows[r].applicant_name for r in reviews()) == sorted(PASSED)
    for _ in PASSED:
        with qtbot.waitActive(approver):
            approver.activateWindow()  # keys go to the window in front (offscreen: no WM)
        view = inbox.table.view
        view.setFocus()
        view.selectRow(reviews()[0])
        qtbot.keyClick(view, Qt.Key.Key_Return)  # Enter on the row opens its review
        review = next(d for d in inbox.findChildren(ReviewDialog) if d.isVisible())
        qtbot.waitUntil(review.primary.isEnabled, timeout=WAIT)
        review.opinion.setPlainText("同意制证")
        qtbot.mouseClick(review.primary, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "已同意" in review.status.text(), timeout=WAIT)  # noqa: B023
        with qtbot.waitSignal(inbox.loaded, timeout=WAIT):
            review.close()
    qtbot.waitUntil(lambda: reviews() == [], timeout=WAIT)
    qtbot.waitUntil(lambda: inbox.findChildren(ReviewDialog) == [], timeout=WAIT)

    # 5. 保安员资格证 on the clerk's desk: the two cards, 待制证, each with its photo
    cards = go(clerk, "certificates")
    assert isinstance(cards, CertificatePage)
    qtbot.waitUntil(lambda: len(cards.model.rows) == 2, timeout=WAIT)
    by_name = {row.holder_name: row for row in cards.model.rows}
    assert sorted(by_name) == sorted(PASSED)
    assert all(row.has_photo and row.status == "active" for row in by_name.values())
    assert {row.application_id for row in by_name.values()} == {ids[n] for n in PASSED}

    def choose(name: str) -> None:
        cards.select(by_name[name].id)
        assert cards.current() is not None and cards.current().holder_name == name

    # 预览: front and back as they will print; the QR on the back reads
    choose(PASSED[0])
    qtbot.mouseClick(cards.buttons["preview"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: cards.findChild(CardPreviewDialog) is not None, timeout=WAIT)
    preview = cards.findChild(CardPreviewDialog)
    assert preview.isVisible() and PASSED[0] in preview.windowTitle()
    assert preview.views["back"].face.qr_text == by_name[PASSED[0]].payload
    assert preview.views["front"].face.photo is not None
    assert qr_on_widget(preview.views["back"]) == [by_name[PASSED[0]].payload]
    preview.close()
    qtbot.waitUntil(lambda: cards.findChildren(CardPreviewDialog) == [], timeout=WAIT)

    # 打印 on the card printer (制证机): real bytes through the simulated Evolis
    def print_to(channel: PrintChannel) -> Callable[[PrintDialog], None]:
        def choose_and_print(dialog: PrintDialog) -> None:
            dialog.choices[channel].click()
            dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

        return choose_and_print

    def print_card(channel: PrintChannel) -> tuple[bool, str]:
        when_modal(PrintDialog, print_to(channel))
        return printed_by(
            qtbot,
            cards,
            lambda: qtbot.mouseClick(cards.buttons["print"], Qt.MouseButton.LeftButton),
        )

    ok, message = print_card(PrintChannel.evolis)
    assert ok, message
    (out,) = simulated_printer.ejected()
    assert sorted(out.front) == ["k", "o"] and sorted(out.back) == ["k", "o"]

    # and 打印到PDF: two CR80 pages; the QR on the back, rendered and read
    choose(PASSED[1])
    card = cards.current()
    assert card is not None
    pdf = tmp_path / "保安员证.pdf"
    choose_file(monkeypatch, "getSaveFileName", pdf)
    ok, message = print_card(PrintChannel.pdf)
    assert ok and str(pdf) in message, message
    document = pdfium.PdfDocument(pdf.read_bytes())
    assert len(document) == 2
    document.close()
    qr_text = qr_on_pdf_page(pdf.read_bytes(), 2)[0]
    assert qr_text == card.payload
    qtbot.waitUntil(lambda: all(r.printed for r in cards.model.rows), timeout=WAIT)
    assert {r.print_state_label for r in cards.model.rows} == {"已打印"}

    # 6. The QR text verifies offline (key file + status list) and through the API
    api = cards.session.api
    keys, status_list = tmp_path / "keys.json", tmp_path / "status.json"

    def export_verifier_files() -> None:
        keys.write_bytes(api.download("/certificates/public-keys"))
        status_list.write_bytes(api.download("/certificates/status-list"))

    export_verifier_files()
    report = verified_offline(keys, status_list, qr_text, valid=True)
    assert f"证书编号：{card.number}" in report and f"持证人：{PASSED[1]}（" in report
    assert "证书状态：有效" in report and "结论：证书有效" in report
    checked = verify_api(certs.url, qr_text)
    assert checked["valid"] is True and checked["summary"] == "证书有效"

    # 7. 吊销 in the page's dialog, with reason and legal basis, confirmed
    choose(PASSED[1])

    def revoke(dialog: RevokeDialog) -> None:
        dialog.reason.setPlainText(REVOCATION["reason"])
        dialog.basis.setPlainText(REVOCATION["basis"])
        when_modal(QMessageBox, lambda box: button(box, "确认吊销").click())
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    when_modal(RevokeDialog, revoke)
    with qtbot.waitSignal(cards.acted, timeout=WAIT) as acted:
        qtbot.mouseClick(cards.buttons["revoke"], Qt.MouseButton.LeftButton)
    assert acted.args[0].startswith(f"已吊销：{PASSED[1]}")
    qtbot.waitUntil(
        lambda: {r.holder_name: r.status_label for r in cards.model.rows}[PASSED[1]] == "已吊销",
        timeout=WAIT,
    )

    # 8. Verify now says revoked: the API and a freshly exported status list
    after = verify_api(certs.url, qr_text)
    assert (after["valid"], after["summary"]) == (False, "证书已吊销")
    export_verifier_files()
    report = verified_offline(keys, status_list, qr_text, valid=False)
    assert "证书状态：已吊销" in report and "结论：证书已吊销" in report
    events = api.certificate_history(card.id).events
    assert [e.kind for e in events] == ["issue", "printed", "revoke"]
    assert events[-1].basis == REVOCATION["basis"]

    # 9. 考试报名 shows where each candidate ended
    go(clerk, "exam_enrolments")
    with qtbot.waitSignal(enrolments.loaded, timeout=WAIT):
        enrolments.load()
    assert statuses(enrolments) == {
        PASSED[0]: "已发证",
        PASSED[1]: "已发证",
        FAILED: "未通过",
        ABSENT: "未通过",
    }
