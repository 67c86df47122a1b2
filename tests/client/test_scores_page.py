"""录入成绩 on the desk against a real server: the template saved, a file with mistakes shown
row by row (and its error workbook saved), the corrected file confirmed and imported, scores
typed into the grid, 通知成绩 only after its confirmation, then 更正成绩 with a reason."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from sqlalchemy import Table, select

from client.api import ApiClient
from client.session import Session
from client.views.exams import scores_page
from client.views.exams.scores_page import AmendDialog, ScoresPage
from server.db.approval_models import Application, ApplicationPerson, WorkflowDefinition
from server.db.exam_models import Exam, ExamCandidate, PassRuleRow
from server.db.models import Org
from server.db.session import create_db_engine, create_session_factory
from server.services.scoresheets.spec import SCORES_SHEET
from shared.schemas.orgs import OrgCreate
from tests.client.modal import agree_to_confirmations, when_modal
from tests.served import serve_with_admin
from tests.server.world import _valid_id


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scores-server") / "sgss.db"


@pytest.fixture(scope="module")
def server(db_path: Path) -> Iterator[str]:
    yield from serve_with_admin(f"sqlite:///{db_path}")


def seed_exam(db_path: Path, name: str, first: int, count: int = 3) -> int:
    """A published exam that began three hours ago, with ``count`` approved candidates: written
    straight into the server's database (the approval chain is tested elsewhere)."""
    engine = create_db_engine(f"sqlite:///{db_path}")
    now = datetime.now(UTC)
    try:
        with create_session_factory(engine)() as session:
            root = session.scalar(select(Org.id).where(Org.parent_id.is_(None)))
            definition = session.scalar(select(WorkflowDefinition.id).limit(1))
            rule = session.scalar(
                select(PassRuleRow).where(PassRuleRow.key == "theory_practice_60")
            )
            assert root and definition and rule
            exam = Exam(
                name=name,
                address="杭州市西湖区文三路100号考场",
                starts_at=now - timedelta(hours=3),
                ends_at=now - timedelta(hours=1),
                seats=count,
                org_id=root,
                pass_rule_id=rule.id,
                pass_rule=rule.content,
                status="published",
                published_at=now - timedelta(days=1),
                created_at=now - timedelta(days=2),
                updated_at=now - timedelta(days=1),
            )
            session.add(exam)
            session.flush()
            for n in range(first, first + count):
                id_number = _valid_id("330106", "19950505", f"{n:03d}")
                application = Application(
                    number=f"DESK{n:08d}",
                    business_type="guard_exam_enrolment",
                    applicant_kind="person",
                    applicant_name=f"考生{n:02d}",
                    applicant_code=id_number,
                    region_code="330106",
                    org_id=root,
                    definition_id=definition,
                    status="approved",
                    form={},
                    submitted_at=now,
                    round_started_at=now,
                    created_at=now,
                    updated_at=now,
                )
                session.add(application)
                session.flush()
                people = cast(Table, ApplicationPerson.__table__)
                session.execute(
                    people.insert().values(
                        application_id=application.id,
                        round=1,
                        role="applicant",
                        name=f"考生{n:02d}",
                        id_number=id_number,
                        mobile="13900000000",
                    )
                )
                session.add(
                    ExamCandidate(
                        exam_id=exam.id,
                        application_id=application.id,
                        admission_number=f"2026{exam.id:06d}{n:04d}",
                        is_open=True,
                        absent=False,
                        scores_locked=False,
                        added_at=now,
                    )
                )
            session.commit()
            return exam.id
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def hangzhou(admin_api: ApiClient) -> int:
    """The city bureau the candidates' 制证审批 goes to when 通知成绩 opens it (330106 → 3301)."""
    found = admin_api.orgs(region_code="330100").items
    if found:
        return found[0].id
    root = admin_api.orgs().items[0]
    city = OrgCreate(
        name="杭州市公安局", parent_id=root.id, type="city_bureau", region_code="330100"
    )
    return admin_api.create_org(city).id


@pytest.fixture
def page(qtbot, context: Session, admin_api: ApiClient, hangzhou: int) -> ScoresPage:  # type: ignore[no-untyped-def]
    context.api.login("root", "Adm1n#Sgss!")
    context.me = context.api.me()
    widget = ScoresPage(context)
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    return widget


def open_exam(qtbot, page: ScoresPage, exam_id: int) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(page.loaded, timeout=15000):
        page.show()
    if page.exam_id != exam_id:
        with qtbot.waitSignal(page.loaded, timeout=15000):
            page.exams.setCurrentIndex(page.exams.findData(exam_id))
    assert page.grid.sheet is not None and page.grid.sheet.exam_id == exam_id


def choose_file(monkeypatch: pytest.MonkeyPatch, method: str, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, method, lambda *_a, **_k: (str(path), ""))


def test_an_import_with_mistakes_is_shown_row_by_row_then_the_corrected_file_goes_in(
    qtbot, page: ScoresPage, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    exam_id = seed_exam(db_path, "2026年第一期保安员资格考试", 1)
    open_exam(qtbot, page, exam_id)
    assert page.table.rowCount() == 3
    assert page.table.horizontalHeaderItem(3).text() == "理论（满分100）"
    assert "*" in page.table.item(0, 2).text() or page.table.item(0, 2).text().isdigit()

    template = tmp_path / "模板.xlsx"
    choose_file(monkeypatch, "getSaveFileName", template)
    page.save_template()
    qtbot.waitUntil(template.exists, timeout=15000)

    book = load_workbook(template)
    grid = book[SCORES_SHEET]
    grid["D2"], grid["E2"] = "八十五", 70
    grid["D3"], grid["E3"], grid["F3"] = 80, 70, "是"
    grid["D4"], grid["E4"] = 59, 90
    bad = tmp_path / "成绩-有误.xlsx"
    book.save(bad)
    choose_file(monkeypatch, "getOpenFileName", bad)
    with qtbot.waitSignal(page.imported, timeout=15000):
        page.import_file()
    problems = page.problems
    assert problems is not None and problems.isVisible()
    shown = [
        tuple(problems.table.item(r, c).text() for c in range(4))
        for r in range(problems.table.rowCount())
    ]
    assert shown == [
        ("成绩", "2", "理论（满分100）", "“八十五”不是数字"),
        ("成绩", "3", "理论（满分100）", "已标记缺考，不应填写成绩"),
        ("成绩", "3", "实操（满分100）", "已标记缺考，不应填写成绩"),
    ]
    assert page.grid.sheet is not None and page.grid.sheet.counts["entered"] == 0

    marked = tmp_path / "错误标注.xlsx"
    choose_file(monkeypatch, "getSaveFileName", marked)
    problems.save_errors.click()
    qtbot.waitUntil(marked.exists, timeout=15000)
    assert load_workbook(marked)[SCORES_SHEET]["D2"].comment.text == "“八十五”不是数字"
    problems.reject()

    grid["D2"] = 85
    grid["D3"] = grid["E3"] = None
    good = tmp_path / "成绩-改正.xlsx"
    book.save(good)
    choose_file(monkeypatch, "getOpenFileName", good)
    asked: list[str] = []

    def confirm_import(*args: Any, **kw: Any) -> bool:
        asked.append(kw.get("details", ""))
        return True

    monkeypatch.setattr(scores_page, "confirm", confirm_import)
    with qtbot.waitSignal(page.loaded, timeout=20000):
        page.import_file()
    assert "合格 1 人，不合格 1 人" in asked[0] and "缺考 1 人" in asked[0]
    assert page.grid.sheet is not None and page.grid.sheet.counts["entered"] == 3
    assert [page.table.item(r, 6).text() for r in range(3)] == ["合格", "缺考", "不合格"]


def test_typing_in_the_grid_saves_rows_and_notify_needs_its_confirmation(
    qtbot, page: ScoresPage, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    exam_id = seed_exam(db_path, "2026年第二期保安员资格考试", 11, count=2)
    open_exam(qtbot, page, exam_id)
    table = page.table
    table.setFocus()
    table.setCurrentCell(0, 3)
    table.item(0, 3).setText("８５")  # as typed; the server reads it
    table.item(0, 4).setText("60")
    assert table.item(0, 6).text() == "未保存"
    table.item(1, 5).setCheckState(Qt.CheckState.Checked)  # 缺考
    qtbot.keyClick(table, Qt.Key.Key_Return)  # Enter moves down: row 0 is saved
    assert table.currentRow() == 1
    qtbot.waitUntil(lambda: table.item(0, 6).text() == "合格", timeout=15000)
    with qtbot.waitSignal(page.loaded, timeout=15000):  # the last row is saved by 保存修改
        page.save_all()
        qtbot.waitUntil(lambda: table.item(1, 6).text() == "缺考", timeout=15000)
        page.load_sheet()
    assert page.grid.sheet is not None and page.grid.sheet.counts["missing"] == 0

    # 通知成绩: its box defaults to 取消, so Enter (or 取消) sends nothing
    def press_default(box: QMessageBox) -> int:
        assert box.defaultButton().text() == "取消"
        box.defaultButton().click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", press_default)
    page.notify()
    assert not page.grid.locked
    agree_to_confirmations(monkeypatch)
    loads: list[None] = []
    page.loaded.connect(lambda: loads.append(None))
    page.notify()
    # the notified sheet, then the exam list and its sheet read again: a reload still under way
    # would overwrite the amendment's status line below
    qtbot.waitUntil(lambda: len(loads) == 2, timeout=15000)
    assert page.grid.locked and not page.import_button.isEnabled()
    assert page.amend_button.isEnabled()
    assert not table.item(0, 3).flags() & Qt.ItemFlag.ItemIsEditable

    # 更正成绩: the reason is required
    table.setCurrentCell(1, 0)

    def fill_amendment(dialog: AmendDialog) -> None:
        dialog.absent.setChecked(False)
        dialog.marks["theory"].setText("70")
        dialog.marks["practice"].setText("65")
        dialog.submit()
        assert dialog.isVisible() and dialog.warning.text() == "请填写更正原因"
        dialog.reason.setText("缺考登记有误，实际参加考试")
        dialog.submit()

    when_modal(AmendDialog, fill_amendment)
    page.amend()
    qtbot.waitUntil(lambda: table.item(1, 6).text() == "合格", timeout=15000)
    assert page.grid.lines[1].amendments == 1
    assert "已更正" in page.status.text()


def test_the_page_fits_a_small_screen(qtbot, page: ScoresPage, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    exam_id = seed_exam(db_path, "2026年第三期保安员资格考试", 21)
    open_exam(qtbot, page, exam_id)
    assert page.minimumSizeHint().width() <= 1366 and page.minimumSizeHint().height() <= 768
