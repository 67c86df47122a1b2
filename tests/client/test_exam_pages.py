"""考试报名 and 考试安排 against a real server with enrolments driven through the approval
levels: the list shows the server's statuses and counts, the chips filter, 缴费确认 in bulk,
export to a real xlsx, the read-only detail; an exam created in the dialog, filled with the
picker (seats refused in the server's words), published with its notices in the outbox, and
cancelled only after a confirmation a stray Enter does not give."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QDialogButtonBox, QMessageBox, QTableView
from pytestqt.qtbot import QtBot

from client.api import ApiClient
from client.models.exams import ENROLMENT_COLUMNS
from client.preferences import Preferences
from client.session import Session
from client.views.approvals.action_dialogs import ReasonDialog
from client.views.approvals.review_dialog import ReviewDialog
from client.views.exams.candidate_picker import CandidatePicker
from client.views.exams.enrolments_page import EnrolmentsPage
from client.views.exams.exams_page import ExamsPage
from shared.exams import EnrolmentStatus, ExamStatus
from shared.schemas.applications import ApproveBody
from tests.client.exam_desk import UNITS, ExamDesk, build_exam_desk, clerk_session
from tests.client.modal import when_modal
from tests.served import serve_with_admin

WAIT = 20000


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exam-desk") / "sgss.db"


@pytest.fixture(scope="module")
def server(database: Path) -> Iterator[str]:
    """The suite's real server, on a database this module reads for the outbox."""
    yield from serve_with_admin(f"sqlite:///{database}")


@pytest.fixture(scope="module")
def desk(admin_api: ApiClient) -> ExamDesk:
    return build_exam_desk(admin_api, "exd")


@pytest.fixture
def clerk(desk: ExamDesk, prefs: Preferences) -> Iterator[Session]:
    yield from clerk_session(desk, prefs)


def enrolment_page(qtbot: QtBot, clerk: Session, search: str) -> EnrolmentsPage:
    page = EnrolmentsPage(clerk)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.status.text() == "", timeout=WAIT)
    page.query.setText(search)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.search()
    return page


def button(box: QMessageBox, text: str) -> QAbstractButton:
    return next(b for b in box.buttons() if b.text() == text)


def reload(qtbot: QtBot, page: EnrolmentsPage) -> None:
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.load()


# -- 考试报名 -----------------------------------------------------------------------------------


def test_the_list_shows_the_servers_statuses_and_counts_and_the_chips_filter(
    qtbot: QtBot, desk: ExamDesk, clerk: Session
) -> None:
    for name, steps in (
        ("甲审查", 0),
        ("甲指纹", 1),
        ("甲缴费一", 2),
        ("甲缴费二", 2),
        ("甲待考", 3),
    ):
        desk.at(name, steps, UNITS[steps % 2])
    page = enrolment_page(qtbot, clerk, "甲")
    served = clerk.api.exam_enrolments(q="甲", page_size=50)
    shown = {page.model.text(r, 1): page.model.text(r, 6) for r in range(len(page.model.rows))}
    assert shown == {line.name: line.status_label for line in served.items}
    assert shown == {
        "甲审查": "待背景审查",
        "甲指纹": "待录入指纹",
        "甲缴费一": "待缴费",
        "甲缴费二": "待缴费",
        "甲待考": "待安排考试",
    }
    assert page.chip(None).text() == "全部（5）"
    assert page.chip(EnrolmentStatus.payment.value).text() == "待缴费（2）"
    assert page.chip(EnrolmentStatus.issued.value).text() == "已发证（0）"
    assert page.chip(None).isChecked()

    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        qtbot.mouseClick(page.chip(EnrolmentStatus.payment.value), Qt.MouseButton.LeftButton)
    assert sorted(r.name for r in page.model.rows) == ["甲缴费一", "甲缴费二"]
    assert page.model.total == 2
    assert page.chip(EnrolmentStatus.payment.value).isChecked()
    assert page.chip(None).text() == "全部（5）"  # counts stay under the other filters

    page.unit.setText(UNITS[1])  # 浙江警安: the odd steps
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.search()
    assert page.model.rows == []
    assert page.chip(None).text() == "全部（2）"


def test_bulk_payment_confirms_the_selected_rows_after_saying_how_many(
    qtbot: QtBot, desk: ExamDesk, clerk: Session
) -> None:
    ids = [desk.at(f"乙缴费{n}", 2) for n in range(3)]
    desk.at("乙指纹", 1)
    page = enrolment_page(qtbot, clerk, "乙")
    page.table.view.selectAll()
    seen: dict[str, str] = {}

    def enter_then_agree(box: QMessageBox) -> None:
        seen["text"], seen["details"] = box.text(), box.informativeText()
        seen["default"] = box.defaultButton().text()
        qtbot.keyClick(box, Qt.Key.Key_Return)  # a stray Enter: 取消

    when_modal(QMessageBox, enter_then_agree)
    page.confirm_payment()
    assert seen["text"] == "确认以下 3 名报名人员已缴纳考试费用？"
    assert "所选其余 1 条" in seen["details"]
    assert seen["default"] == "取消"
    clerk.runner.wait(WAIT)
    assert not any(line.paid for line in clerk.api.exam_enrolments(q="乙缴费").items)

    when_modal(
        QMessageBox, lambda box: next(b for b in box.buttons() if b.text() == "确认缴费").click()
    )
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.confirm_payment()
    assert page.status.text() == "已确认缴费 3 人"
    assert all(line.paid for line in clerk.api.exam_enrolments(q="乙缴费").items)
    paid_column = [c.title for c in ENROLMENT_COLUMNS].index("缴费")
    assert {page.model.text(r, paid_column) for r in range(4)} == {"已缴费", "未缴费"}

    # nothing left to confirm: the button says so instead of asking
    page.table.view.selectAll()
    page.confirm_payment()
    assert "尚未确认缴费" in page.status.text()

    # the level-three approval moves them on; the list follows the server
    city = desk.world.signed_in("city")
    for app_id in ids:
        city.approve(app_id, ApproveBody(version=city.application(app_id).version, opinion="同意"))
    reload(qtbot, page)
    assert page.chip(EnrolmentStatus.payment.value).text() == "待缴费（0）"
    assert page.chip(EnrolmentStatus.awaiting_exam.value).text() == "待安排考试（3）"


def test_export_writes_every_matching_row_to_a_real_xlsx(
    qtbot: QtBot, desk: ExamDesk, clerk: Session, tmp_path: Path
) -> None:
    for n in range(3):
        desk.at(f"丙导出{n}", 0)
    page = enrolment_page(qtbot, clerk, "丙导出")
    page.model.page_size = 2  # two pages on screen; the export has them all
    reload(qtbot, page)
    target = tmp_path / "考试报名.xlsx"
    with qtbot.waitSignal(page.exported, timeout=WAIT):
        page.export_to(target)
    sheet = load_workbook(target).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(c.title for c in ENROLMENT_COLUMNS)
    assert sorted(r[1] for r in rows[1:]) == ["丙导出0", "丙导出1", "丙导出2"]
    assert {r[6] for r in rows[1:]} == {"待背景审查"}
    assert "已导出 3 条" in page.status.text()


def test_enter_on_a_row_opens_its_materials_and_progress_read_only(
    qtbot: QtBot, desk: ExamDesk, clerk: Session
) -> None:
    desk.at("丁查看", 1)
    page = enrolment_page(qtbot, clerk, "丁查看")
    with qtbot.waitActive(page):
        page.show()
        page.activateWindow()
    page.query.setFocus()
    qtbot.keyClick(page.query, Qt.Key.Key_Return)  # Enter in the search field searches
    clerk.runner.wait(WAIT)
    assert page.findChild(ReviewDialog) is None
    page.table.view.setFocus()
    page.table.view.selectRow(0)
    qtbot.keyClick(page.table.view, Qt.Key.Key_Return)
    dialog = page.findChild(ReviewDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.model.detail is not None, timeout=WAIT)
    assert dialog.view_only
    assert "丁查看" in dialog.header.text()
    assert not dialog.primary.isVisible() and not dialog.reject_button.isVisible()
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())][:2] == [
        "申请信息",
        "申请材料",
    ]
    dialog.close()


# -- 考试安排 -----------------------------------------------------------------------------------


def notices(database: Path, exam_name: str) -> list[tuple[str, str, str]]:
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT channel, recipient, body FROM notifications WHERE body LIKE ?",
            (f"%{exam_name}%",),
        ).fetchall()
    return [tuple(r) for r in rows]


def trained(database: Path, id_number: str, hours_done: int) -> None:
    """课程学习进度 as the training records would report it (no API writes them)."""
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO training_progress (id_number, person_name, training_unit, hours_done,"
            " hours_required, updated_at) VALUES (?, '考生', ?, ?, 40, '2026-05-01 00:00:00')",
            (id_number, UNITS[0], hours_done),
        )


def row_centre(view: QTableView, row: int) -> QPoint:
    return view.visualRect(view.model().index(row, 0)).center()


def exams_page(qtbot: QtBot, clerk: Session) -> ExamsPage:
    page = ExamsPage(clerk)
    qtbot.addWidget(page)
    page.resize(1040, 640)
    page.show()
    qtbot.waitUntil(lambda: bool(page.rules), timeout=WAIT)
    clerk.runner.wait(WAIT)
    return page


def new_exam(qtbot: QtBot, page: ExamsPage, name: str, seats: int) -> None:
    dialog = page.add()
    assert dialog is not None
    assert dialog.rule.count() >= 1 and "满分" in dialog.rule_detail.text()
    dialog.name.setText(name)
    dialog.address.setText("杭州市西湖区文三路199号考试中心")
    dialog.seats.setValue(seats)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: page.exam is not None and page.exam.name == name, timeout=WAIT)


def test_schedule_pick_with_seats_enforced_publish_and_notices(
    qtbot: QtBot, desk: ExamDesk, clerk: Session, database: Path
) -> None:
    for n in range(3):
        app_id = desk.at(f"戊考生{n}", 3, UNITS[0])
        trained(database, desk.world.admin.application(app_id).applicant_code, 30 + n)
    page = exams_page(qtbot, clerk)
    new_exam(qtbot, page, "戊期保安员资格考试", seats=2)
    exam = page.exam
    assert exam is not None and exam.status == ExamStatus.draft
    assert exam.org_name == "杭州市公安局"
    assert page.buttons["publish"].isEnabled() is False  # no candidates yet

    picker = page.pick()
    assert isinstance(picker, CandidatePicker)
    picker.show()
    qtbot.waitUntil(lambda: picker.model.total > 0, timeout=WAIT)
    picker.query.setText("戊考生")
    picker.search()
    qtbot.waitUntil(lambda: picker.model.total == 3, timeout=WAIT)
    progress = {picker.model.text(r, 0): picker.model.text(r, 2) for r in range(3)}
    assert progress == {"戊考生0": "30/40", "戊考生1": "31/40", "戊考生2": "32/40"}
    assert "可安排人员 3 人" in picker.seats.text()
    picker.table.view.selectAll()
    picker.add_selected()
    qtbot.waitUntil(picker.add_button.isEnabled, timeout=WAIT)
    assert picker.status.text() == "考位不足，不能再添加考生"
    assert picker.isVisible()
    view = picker.table.view
    view.clearSelection()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(view, 0))
    qtbot.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        row_centre(view, 1),
    )
    assert len(picker.selected_rows()) == 2
    assert "已选 2 人" in picker.seats.text()
    with qtbot.waitSignal(page.candidates_loaded, timeout=WAIT):
        picker.add_selected()
    assert page.exam is not None and page.exam.candidates == 2
    assert page.candidates.total == 2
    assert all(c.admission_number is None for c in page.candidates.rows)

    # 发布: Enter in the confirmation is 取消
    when_modal(QMessageBox, lambda box: qtbot.keyClick(box, Qt.Key.Key_Return))
    page.publish()
    clerk.runner.wait(WAIT)
    assert clerk.api.exam(exam.id).status == ExamStatus.draft
    seen: dict[str, str] = {}

    def agree(box: QMessageBox) -> None:
        seen["details"] = box.informativeText()
        button(box, "发布").click()

    when_modal(QMessageBox, agree)
    with qtbot.waitSignal(page.candidates_loaded, timeout=WAIT):
        page.publish()
    assert "短信和 App" in seen["details"] and "2 名考生" in seen["details"]
    assert page.exam is not None and page.exam.status == ExamStatus.published
    numbers = [c.admission_number for c in page.candidates.rows]
    assert all(numbers) and len(set(numbers)) == 2
    assert page.candidates.text(0, 0) == numbers[0]
    sent = notices(database, "戊期保安员资格考试")
    assert sorted(channel for channel, _, _ in sent) == ["app", "app", "sms", "sms"]
    assert {n for n in numbers if n} == {
        n for n in numbers if n and any(n in body for _, _, body in sent)
    }
    assert page.buttons["pick"].isEnabled() is False


def test_cancel_asks_for_a_reason_then_confirms_and_enter_does_not_cancel(
    qtbot: QtBot, desk: ExamDesk, clerk: Session, database: Path
) -> None:
    app_id = desk.at("己考生", 3)
    page = exams_page(qtbot, clerk)
    new_exam(qtbot, page, "己期保安员资格考试", seats=5)
    exam = page.exam
    assert exam is not None
    clerk.api.add_candidates(exam.id, exam.version, [app_id])
    clerk.api.publish_exam(exam.id, clerk.api.exam(exam.id).version)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.load()
    page.exam = None  # choose it afresh
    page._chosen()
    qtbot.waitUntil(
        lambda: page.exam is not None and page.exam.status == ExamStatus.published, timeout=WAIT
    )
    seen: dict[str, str] = {}

    def give_reason(dialog: ReasonDialog) -> None:
        dialog.reason.setPlainText("考场停电")
        when_modal(QMessageBox, press_enter)
        dialog.submit()

    def press_enter(box: QMessageBox) -> None:
        seen["details"] = box.informativeText()
        qtbot.keyClick(box, Qt.Key.Key_Return)

    when_modal(ReasonDialog, give_reason)
    page.cancel()
    clerk.runner.wait(WAIT)
    assert "通知全部 1 名考生" in seen["details"] and "考场停电" in seen["details"]
    assert clerk.api.exam(exam.id).status == ExamStatus.published  # Enter was 取消

    def confirm_it(dialog: ReasonDialog) -> None:
        dialog.reason.setPlainText("考场停电")
        when_modal(
            QMessageBox,
            lambda box: button(box, "确定取消考试").click(),
        )
        dialog.submit()

    when_modal(ReasonDialog, confirm_it)
    with qtbot.waitSignal(page.candidates_loaded, timeout=WAIT):
        page.cancel()
    assert page.exam is not None and page.exam.status == ExamStatus.cancelled
    assert "取消原因：考场停电" in page.detail.text()
    assert not page.buttons["cancel"].isEnabled()
    assert any("已取消" in body for _, _, body in notices(database, "己期保安员资格考试"))
    line = clerk.api.exam_enrolments(q="己考生").items[0]
    assert line.status == EnrolmentStatus.awaiting_exam  # free for another exam


def test_a_colleagues_change_is_refused_as_stale_then_read_again(
    qtbot: QtBot, desk: ExamDesk, clerk: Session
) -> None:
    first = desk.at("庚考生", 3)
    page = exams_page(qtbot, clerk)
    new_exam(qtbot, page, "庚期保安员资格考试", seats=5)
    exam = page.exam
    assert exam is not None and exam.candidates == 0
    desk.clerk_api().add_candidates(exam.id, exam.version, [first])  # a colleague, meanwhile
    page.buttons["publish"].setEnabled(True)  # as the page last saw it: no candidates yet
    when_modal(QMessageBox, lambda box: button(box, "发布").click())
    page.publish()  # with the version the page saw before the colleague's change
    # (not a wait on candidates_loaded: the creation's own load may still be on its way)
    qtbot.waitUntil(lambda: page.status.text() == "该记录已被他人修改，请刷新后重试", timeout=WAIT)
    qtbot.waitUntil(lambda: page.exam is not None and page.exam.candidates == 1, timeout=WAIT)
    qtbot.waitUntil(lambda: len(page.candidates.rows) == 1, timeout=WAIT)  # read again
    assert [c.name for c in page.candidates.rows] == ["庚考生"]
    assert clerk.api.exam(exam.id).status == ExamStatus.draft
    when_modal(QMessageBox, lambda box: button(box, "发布").click())
    with qtbot.waitSignal(page.candidates_loaded, timeout=WAIT):
        page.publish()
    assert page.exam.status == ExamStatus.published
