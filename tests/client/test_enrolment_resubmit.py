"""重新提交制证 on 考试报名 against a real server: an enrolment whose 制证审批 said 不同意 shows as
不予制证 (with its chip); the action asks for a reason, then a confirmation whose Enter is 取消;
confirmed, the review is back in the city's inbox and the row reads 待制证审批. Only a 不予制证
row can be resubmitted, and only by a holder of the permission."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from client.api import ApiClient
from client.jobs.runner import JobRunner
from client.preferences import Preferences
from client.session import Session
from client.views.approvals.action_dialogs import ReasonDialog
from client.views.exams.enrolments_page import EnrolmentsPage
from shared.enums import BusinessType
from shared.exams import EnrolmentStatus
from shared.schemas.applications import RejectBody
from shared.schemas.exams import ExamCreate, ScoresEntry
from tests.client.exam_desk import ExamDesk, build_exam_desk, clerk_session
from tests.client.modal import when_modal

WAIT = 20000
REFUSED = EnrolmentStatus.certificate_refused.value


@pytest.fixture(scope="module")
def desk(admin_api: ApiClient) -> ExamDesk:
    return build_exam_desk(admin_api, "rsb")


@pytest.fixture
def clerk(desk: ExamDesk, prefs: Preferences) -> Iterator[Session]:
    yield from clerk_session(desk, prefs)


def refused(desk: ExamDesk, admin: ApiClient, name: str) -> int:
    """``name``'s enrolment, approved, passed an exam that is over, whose 通知成绩 opened its
    制证审批, which the city then refused (不同意): 不予制证."""
    app_id = desk.at(name, 3)
    rule = next(r for r in admin.pass_rules() if r.key == "theory_practice_60")
    start = datetime.now(UTC) - timedelta(hours=3)
    exam = admin.create_exam(
        ExamCreate(
            name=f"{name}的保安员资格考试",
            address="杭州市西湖区文三路100号考场",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            seats=5,
            pass_rule_id=rule.id,
        )
    )
    exam = admin.add_candidates(exam.id, exam.version, [app_id])
    exam = admin.publish_exam(exam.id, exam.version)
    (seat,) = admin.exam_candidates(exam.id)
    admin.set_scores(exam.id, seat.id, ScoresEntry(scores={"theory": 88, "practice": 92}))
    admin.notify_scores(exam.id, admin.exam(exam.id).version)
    city = desk.world.signed_in("city")
    review = next(
        row
        for row in city.inbox(page_size=100).items
        if row.business_type == BusinessType.guard_certificate and row.applicant_name == name
    )
    version = city.application(review.id).version
    city.reject(
        review.id,
        RejectBody(version=version, reason="照片模糊", corrections=["更换证件照"]),
    )
    return review.id


def listed(qtbot: QtBot, session: Session, search: str) -> EnrolmentsPage:
    page = EnrolmentsPage(session)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.status.text() == "", timeout=WAIT)
    page.query.setText(search)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.search()
    return page


def test_a_refused_enrolment_is_resubmitted_with_a_reason_after_a_confirmation(
    qtbot: QtBot, desk: ExamDesk, clerk: Session, admin_api: ApiClient
) -> None:
    review_id = refused(desk, admin_api, "辛制证")
    page = listed(qtbot, clerk, "辛制证")
    assert [(r.name, r.status_label) for r in page.model.rows] == [("辛制证", "不予制证")]
    assert page.chip(REFUSED).text() == "不予制证（1）"
    assert page.resubmit_button.isVisibleTo(page)
    page.table.view.selectRow(0)
    seen: dict[str, str] = {}

    # a reason is required; then Enter in the confirmation is 取消: nothing is sent
    def short_then_given(dialog: ReasonDialog) -> None:
        dialog.reason.setPlainText("换")
        dialog.submit()
        seen["short"] = dialog.error.text()
        dialog.reason.setPlainText("已更换合格证件照")
        when_modal(QMessageBox, press_enter)
        dialog.submit()

    def press_enter(box: QMessageBox) -> None:
        seen["question"], seen["details"] = box.text(), box.informativeText()
        qtbot.keyClick(box, Qt.Key.Key_Return)

    when_modal(ReasonDialog, short_then_given)
    page.resubmit_certificate()
    clerk.runner.wait(WAIT)
    assert seen["short"] == "请填写原因（至少 2 个字）"
    assert "辛制证" in seen["question"] and "原因：已更换合格证件照" in seen["details"]
    assert (
        clerk.api.exam_enrolments(q="辛制证").items[0].status == EnrolmentStatus.certificate_refused
    )

    # confirmed: the review is in the city's inbox again and the row reads 待制证审批
    def confirm_it(dialog: ReasonDialog) -> None:
        dialog.reason.setPlainText("已更换合格证件照")
        when_modal(QMessageBox, lambda box: button(box, "重新提交").click())
        dialog.submit()

    when_modal(ReasonDialog, confirm_it)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.resubmit_certificate()
    assert [(r.name, r.status_label) for r in page.model.rows] == [("辛制证", "待制证审批")]
    review = clerk.api.application(review_id)
    assert page.status.text() == f"已重新提交“辛制证”的制证审批（{review.number}）"
    city = desk.world.signed_in("city")
    assert review_id in {row.id for row in city.inbox(page_size=100).items}
    assert (review.status, review.round) == ("in_review", 2)

    # a row that is not 不予制证: said so, no dialog
    page.table.view.selectRow(0)
    page.resubmit_certificate()
    assert page.status.text() == "请选择一名流程状态为“不予制证”的报名人员"
    assert clerk.api.application(review_id).round == 2


def button(box: QMessageBox, text: str):  # type: ignore[no-untyped-def]
    return next(b for b in box.buttons() if b.text() == text)


def test_without_the_permission_the_action_is_not_offered(
    qtbot: QtBot, desk: ExamDesk, prefs: Preferences
) -> None:
    api = desk.world.signed_in("city")  # an approver: no 重新提交制证
    runner = JobRunner()
    try:
        page = EnrolmentsPage(Session(api, runner, prefs, api.me()))
        qtbot.addWidget(page)
        assert not page.resubmit_button.isVisibleTo(page)
    finally:
        runner.cancel_all()
        runner.wait(10000)
