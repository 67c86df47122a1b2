"""The inbox and the review dialog, driven as a clerk would, against a real server process:
screening opens the gate, the opinion box says who will read it, a legal-rep change goes through
county, city and province, a rejection reaches the applicant with its corrections, a stale
action is refused without losing the typed opinion, and materials are viewed page by page."""

from collections.abc import Iterator
from io import BytesIO

import pytest
import shiboken6
from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QFileDialog
from reportlab.pdfgen import canvas

from client.api import ApiClient
from client.jobs.runner import JobRunner
from client.models.inbox_table import InboxModel
from client.preferences import Preferences
from client.session import Session
from client.views.approvals.action_dialogs import ReassignDialog, RejectDialog
from client.views.approvals.inbox_page import InboxPage
from client.views.approvals.review_dialog import EXTERNAL_LABEL, INTERNAL_LABEL, ReviewDialog
from client.views.paged_table import PagedTable
from shared.approvals import ApplicationStatus
from shared.enums import BusinessType
from shared.schemas.applications import ApproveBody
from tests.client.approval_desk import DeskWorld, build_desk_world
from tests.client.modal import agree_to_confirmations, when_modal
from tests.inbox_rows import inbox_row

WAIT = 15000


@pytest.fixture(scope="module")
def world(admin_api: ApiClient) -> DeskWorld:
    return build_desk_world(admin_api, "rv")


@pytest.fixture
def desk(prefs: Preferences, world: DeskWorld, qtbot) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    """``desk("county")``: a signed-in context for that approver; ``desk("admin")``: root."""
    runners: list[JobRunner] = []

    def make(who: str) -> Session:
        api = world.admin if who == "admin" else world.signed_in(who)
        runner = JobRunner()
        runners.append(runner)
        return Session(api, runner, prefs, api.me())

    yield make
    for runner in runners:
        runner.cancel_all()
        runner.wait(10000)


def review(qtbot, context: Session, application_id: int) -> ReviewDialog:  # type: ignore[no-untyped-def]
    dialog = ReviewDialog(context, application_id)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(
        lambda: dialog.model.detail is not None and dialog.model.progress is not None,
        timeout=WAIT,
    )
    return dialog


def approve_in(qtbot, dialog: ReviewDialog, opinion: str) -> None:  # type: ignore[no-untyped-def]
    dialog.opinion.setPlainText(opinion)
    qtbot.mouseClick(dialog.primary, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已同意" in dialog.status.text(), timeout=WAIT)


def test_legal_rep_change_through_three_levels(
    qtbot, world: DeskWorld, desk, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    app_id = world.submit(BusinessType.legal_rep_change)["id"]
    county = review(qtbot, desk("county"), app_id)
    assert county.primary.text() == "同意"
    assert not county.primary.isEnabled()
    assert "背景审查" in county.gate_note.text()
    assert county.opinion_label.text() == INTERNAL_LABEL
    assert not county.return_button.isEnabled()  # the server says: the first step
    assert "第一个审批环节" in county.return_button.toolTip()
    # the only approver of the county: nobody to hand the step to, and the button says so
    assert not county.assign_button.isEnabled()
    assert county.assign_button.toolTip() == "本单位没有其他能办理该审批环节的人员"
    assert "背景审查" in county.primary.toolTip()  # the gate's reason on 同意 itself
    assert county.tabs.tabText(2) == "人员审查"
    qtbot.mouseClick(county.screening.run, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(county.primary.isEnabled, timeout=WAIT)
    screening = county.model.screening
    assert screening is not None and screening.state == "clear"
    assert county.screening.table.rowCount() == 2  # legal rep and proposed legal rep
    approve_in(qtbot, county, "县级确认：材料齐全")
    assert county.model.detail is not None and not county.model.detail.can_act
    assert not county.primary.isEnabled()

    city_context = desk("city")
    page = InboxPage(city_context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: any(r.id == app_id for r in page.model.rows), timeout=WAIT)
    row = next(i for i, r in enumerate(page.model.rows) if r.id == app_id)
    city = page.open_review(row)
    qtbot.waitUntil(lambda: city.model.detail is not None, timeout=WAIT)
    assert city.opinion_label.text() == INTERNAL_LABEL
    assert city.return_button.isEnabled()
    approve_in(qtbot, city, "市级审核同意")
    qtbot.waitUntil(lambda: all(r.id != app_id for r in page.model.rows), timeout=WAIT)

    province = review(qtbot, desk("province"), app_id)
    assert province.opinion_label.text() == EXTERNAL_LABEL
    qtbot.mouseClick(province.primary, Qt.MouseButton.LeftButton)
    assert "对外可见" in province.status.text()  # the final opinion may not be empty
    approve_in(qtbot, province, "准予变更法定代表人")
    assert "审批通过" in province.status.text()  # the server said the review is finished
    assert "申请已办结" in province.status.text()
    qtbot.waitUntil(
        lambda: (
            province.model.detail is not None
            and province.model.detail.status == ApplicationStatus.approved
        ),
        timeout=WAIT,
    )
    qtbot.waitUntil(
        lambda: province.model.progress is not None and province.model.progress.finished,
        timeout=WAIT,
    )
    texts = [
        province.timeline.topLevelItem(i).text(5)
        for i in range(province.timeline.topLevelItemCount())
    ]
    assert "县级确认：材料齐全" in texts and "准予变更法定代表人" in texts
    # nothing pending any more: no red line at the end
    last = province.timeline.topLevelItem(province.timeline.topLevelItemCount() - 1)
    assert last.foreground(0).color() != QColor("#c62828")
    # no step any more: the line ends with the state, the note says the review is over
    assert province.subheader.text().endswith("状态：审批通过")
    assert province.gate_note.text() == "本申请审批已结束（审批通过），仅可查看"
    assert not province.primary.isEnabled() and not province.reject_button.isEnabled()
    assert province.primary.toolTip() == "该申请当前不在审批中"
    external = world.admin.external_view(app_id)
    assert external.rounds[-1].opinion == "准予变更法定代表人"
    # the 申请人可见 tab shows the applicant's view: the final opinion, no internal one
    qtbot.waitUntil(lambda: "准予变更法定代表人" in province.external.toPlainText(), timeout=WAIT)
    seen = province.external.toPlainText()
    assert "县级确认：材料齐全" not in seen and "市级审核同意" not in seen
    assert external.document_number is not None and external.document_number in seen
    # the certificate and the application with its progress, saved from the dialog
    assert not province.certificate_button.isHidden()
    for button, name in (
        (province.certificate_button, "证书.pdf"),
        (province.save_button, "审批表.pdf"),
    ):
        target = tmp_path / name
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, t=target: (str(t), ""))
        button.click()
        qtbot.waitUntil(target.exists, timeout=WAIT)
        assert target.read_bytes().startswith(b"%PDF")


def test_pending_approvers_are_shown_in_red(qtbot, world: DeskWorld, desk) -> None:  # type: ignore[no-untyped-def]
    app_id = world.submit(BusinessType.annual_report_filing)["id"]
    dialog = review(qtbot, desk("county"), app_id)
    timeline = dialog.timeline
    last = timeline.topLevelItem(timeline.topLevelItemCount() - 1)
    assert last.text(4) == "待办"
    assert last.foreground(0).color() == QColor("#c62828")
    assert world.usernames["county"] not in last.text(3)  # the name, not the username
    assert "county审批员" in last.text(3)


def test_administrator_takes_back_and_hands_on_a_step(qtbot, world: DeskWorld, desk) -> None:  # type: ignore[no-untyped-def]
    """收回/改派 is offered when the server says so, with the people it names: 收回 only for an
    assigned step, 改派 never to the step's current assignee."""
    app_id = world.submit(BusinessType.annual_report_filing)["id"]
    clerk = review(qtbot, desk("county"), app_id)
    assert clerk.reassign_button.isHidden()  # an approver without applications:reassign
    admin = review(qtbot, desk("admin"), app_id)
    assert not admin.reassign_button.isHidden() and not admin.primary.isEnabled()
    assert admin.reassign_button.isEnabled()
    assert not admin.assign_button.isEnabled()  # 指派 is the step's clerk's, the server says why
    assert admin.assign_button.toolTip() == "该审批环节不在您的待办中"
    offered: list[list[str]] = []

    def pick(row: int) -> None:
        def act(dialog: ReassignDialog) -> None:
            offered.append([dialog.people.item(i).text() for i in range(dialog.people.count())])
            dialog.people.setCurrentRow(row)
            dialog.submit()

        when_modal(ReassignDialog, act)
        admin.reassign_button.click()

    pick(0)  # not assigned to anyone: no 收回, only 改派给 the county approver
    qtbot.waitUntil(lambda: "已改派" in admin.status.text(), timeout=WAIT)
    assert len(offered[0]) == 1 and offered[0][0].startswith("改派给 county审批员")
    task = admin.model.detail.current_task if admin.model.detail else None
    assert task is not None and task.assignee_name == "county审批员"
    assert admin.subheader.text().endswith("已指派给 county审批员")
    pick(0)  # now 收回 is offered, and the assignee is no longer a target
    qtbot.waitUntil(lambda: "已收回" in admin.status.text(), timeout=WAIT)
    assert offered[1] == ["收回到本单位待办（不指定办理人）"]
    task = admin.model.detail.current_task if admin.model.detail else None
    assert task is not None and task.assignee_name is None
    actions = [e.action for e in world.admin.progress(app_id).entries]
    assert actions[-2:] == ["reassign", "release"]


def test_rejection_reaches_the_applicant_with_every_correction(
    qtbot, world: DeskWorld, desk, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    agree_to_confirmations(monkeypatch)
    app_id = world.submit(BusinessType.legal_rep_change)["id"]
    dialog = review(qtbot, desk("county"), app_id)
    assert dialog.reject_button.isEnabled()  # rejection needs no screening

    def fill(reject: RejectDialog) -> None:
        reject.reason.setPlainText("法定代表人身份材料不全")
        for text in ("补充拟任法定代表人身份证复印件", "股东会决议须加盖公章"):
            reject.new_item.setText(text)
            reject.add_correction()
        reject.submit()

    when_modal(RejectDialog, fill)
    qtbot.mouseClick(dialog.reject_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已退回申请人" in dialog.status.text(), timeout=WAIT)
    external = world.admin.external_view(app_id)
    assert external.status == ApplicationStatus.returned
    assert external.rounds[-1].reason == "法定代表人身份材料不全"
    assert external.rounds[-1].corrections == [
        "补充拟任法定代表人身份证复印件",
        "股东会决议须加盖公章",
    ]
    dialog.tabs.setCurrentWidget(dialog.external)
    qtbot.waitUntil(lambda: "退回原因" in dialog.external.toPlainText(), timeout=WAIT)
    seen = dialog.external.toPlainText()
    assert "法定代表人身份材料不全" in seen
    assert "补充拟任法定代表人身份证复印件" in seen and "股东会决议须加盖公章" in seen


def test_an_internal_opinion_typed_before_rejecting_stays_internal(
    qtbot, world: DeskWorld, desk, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The box says 内部意见 at level one: 不同意 carries what was typed there into the dialog's
    internal opinion, never into the reason the applicant (and the extranet) reads."""
    agree_to_confirmations(monkeypatch)
    app_id = world.submit(BusinessType.legal_rep_change)["id"]
    dialog = review(qtbot, desk("county"), app_id)
    assert dialog.opinion_label.text() == INTERNAL_LABEL
    dialog.opinion.setPlainText("内部：拟任法定代表人与在查案件当事人同名")
    seen: dict[str, str] = {}

    def fill(reject: RejectDialog) -> None:
        seen["reason"] = reject.reason.toPlainText()
        seen["internal"] = reject.internal.toPlainText()
        reject.reason.setPlainText("法定代表人身份材料不全")
        reject.new_item.setText("补充拟任法定代表人身份证复印件")
        reject.submit()

    when_modal(RejectDialog, fill)
    qtbot.mouseClick(dialog.reject_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已退回申请人" in dialog.status.text(), timeout=WAIT)
    assert seen == {"reason": "", "internal": "内部：拟任法定代表人与在查案件当事人同名"}
    rejections = [e for e in world.admin.progress(app_id).entries if e.action == "reject"]
    assert [(e.visibility, e.opinion) for e in rejections] == [
        ("internal", "内部：拟任法定代表人与在查案件当事人同名"),
        ("external", "法定代表人身份材料不全"),
    ]
    external = world.admin.external_view(app_id)
    assert external.rounds[-1].reason == "法定代表人身份材料不全"
    assert "同名" not in external.model_dump_json()


def test_reject_dialog_insists_on_a_reason_and_corrections(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    agree_to_confirmations(monkeypatch)
    dialog = RejectDialog()
    qtbot.addWidget(dialog)
    dialog.submit()
    assert dialog.error.text() == "请填写退回原因"
    dialog.reason.setPlainText("材料不全")
    dialog.submit()
    assert dialog.error.text() == "请至少列出一项需补正的内容"
    dialog.new_item.setText("补充营业执照")  # typed but not yet added still counts
    dialog.submit()
    assert dialog.result() == RejectDialog.DialogCode.Accepted
    assert dialog.values() == ("材料不全", ["补充营业执照"])


def test_stale_action_is_refused_and_the_opinion_kept(qtbot, world: DeskWorld, desk) -> None:  # type: ignore[no-untyped-def]
    app_id = world.submit(BusinessType.annual_report_filing)["id"]
    dialog = review(qtbot, desk("county"), app_id)
    seen = dialog.model.detail
    assert seen is not None and dialog.primary.isEnabled()
    # the same step is decided elsewhere (another workstation) after the dialog loaded
    world.signed_in("county").approve(app_id, ApproveBody(version=seen.version, opinion="先办"))
    dialog.opinion.setPlainText("我的意见")
    qtbot.mouseClick(dialog.primary, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已被他人修改" in dialog.status.text(), timeout=WAIT)
    assert dialog.opinion.toPlainText() == "我的意见"
    qtbot.waitUntil(
        lambda: dialog.model.detail is not None and not dialog.model.detail.can_act,
        timeout=WAIT,
    )
    progress = world.admin.progress(app_id)
    assert [e.opinion for e in progress.entries if e.action == "approve"] == ["先办"]


def _pdf(pages: int) -> bytes:
    out = BytesIO()
    pdf = canvas.Canvas(out)
    for n in range(pages):
        pdf.drawString(72, 720, f"page {n + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _png() -> bytes:
    image = QImage(300, 200, QImage.Format.Format_RGB32)
    image.fill(QColor("steelblue"))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


def test_materials_page_by_page_zoom_and_rotate(qtbot, world: DeskWorld, desk) -> None:  # type: ignore[no-untyped-def]
    app_id = world.submit(BusinessType.company_licence)["id"]
    world.admin.upload_material(app_id, "申请书", "申请书.pdf", _pdf(3))
    world.admin.upload_material(app_id, "营业执照", "licence.png", _png())
    dialog = review(qtbot, desk("county"), app_id)
    viewer = dialog.materials
    dialog.tabs.setCurrentWidget(viewer)
    qtbot.waitUntil(lambda: viewer.list.count() == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: viewer.page_count == 3, timeout=WAIT)
    assert viewer.page_label.text() == "第 1/3 页"
    assert not viewer.prev.isEnabled()
    qtbot.mouseClick(viewer.next, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(viewer.next, Qt.MouseButton.LeftButton)
    assert viewer.page_label.text() == "第 3/3 页" and not viewer.next.isEnabled()
    before = viewer.view.transform().m11()
    viewer.view.zoom_by(2.0)
    assert viewer.view.transform().m11() == pytest.approx(before * 2)
    viewer.list.setCurrentRow(1)
    qtbot.waitUntil(lambda: viewer.page_count == 1, timeout=WAIT)
    image = viewer.view.item.pixmap()
    assert (image.width(), image.height()) == (300, 200)
    viewer.view.rotate_by(90)
    assert viewer.view.rotation == 90


def test_a_review_closed_from_the_inbox_is_deleted_with_its_pages(
    qtbot, world: DeskWorld, desk
) -> None:  # type: ignore[no-untyped-def]
    """The inbox opens a new review each time: a closed one is deleted, with the page images it
    rendered, not kept under the page for the rest of the day. One closed before its requests
    came back drops their answers quietly."""
    app_id = world.submit(BusinessType.company_licence)["id"]
    world.admin.upload_material(app_id, "申请书", "申请书.pdf", _pdf(3))
    page = InboxPage(desk("county"))
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: any(r.id == app_id for r in page.model.rows), timeout=WAIT)
    row = next(i for i, r in enumerate(page.model.rows) if r.id == app_id)
    dialog = page.open_review(row)
    dialog.tabs.setCurrentWidget(dialog.materials)
    qtbot.waitUntil(lambda: dialog.materials.page_count == 3, timeout=WAIT)
    dialog.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=WAIT)
    assert page.findChildren(ReviewDialog) == []

    hasty = page.open_review(row)  # closed at once: its detail and progress still on the way
    hasty.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(hasty), timeout=WAIT)
    assert page.session.runner.busy  # the answers arrive for a dialog that has gone
    page.session.runner.wait(WAIT)
    assert page.findChildren(ReviewDialog) == []


def test_inbox_filters_and_overdue_rows(qtbot, world: DeskWorld, desk) -> None:  # type: ignore[no-untyped-def]
    world.submit(BusinessType.commendation)
    context = desk("county")
    page = InboxPage(context)
    qtbot.addWidget(page)
    expected = context.api.inbox_counts()
    qtbot.waitUntil(lambda: page.model.total == expected.total > 0, timeout=WAIT)
    label = page.business_type.itemText(0)
    assert label == f"全部业务（{expected.total}）"
    page.business_type.setCurrentIndex(page.business_type.findData("commendation"))
    page.search()
    qtbot.waitUntil(
        lambda: (
            page.model.rows
            and all(r.business_type == BusinessType.commendation for r in page.model.rows)
        ),
        timeout=WAIT,
    )
    page.box.setCurrentIndex(page.box.findData("done"))
    qtbot.waitUntil(lambda: page.model.columns[-1].title == "我的办理时间", timeout=WAIT)
    assert page.state.isEnabled() and not page.overdue.isEnabled()


def test_overdue_rows_are_marked(qtbot, prefs: Preferences) -> None:  # type: ignore[no-untyped-def]
    model = InboxModel()
    paged = PagedTable(model, "overdue-test", prefs)
    qtbot.addWidget(paged)
    table = paged.adapter
    row = inbox_row(1, overdue=True)
    on_time = row.model_copy(update={"id": 2, "overdue": False})
    model.fill([row, on_time], 2)
    due = next(i for i, c in enumerate(model.columns) if c.key == "due_date")
    assert table.data(table.index(0, due)) == "2026-11-09（超期）"
    assert table.data(table.index(1, due)) == "2026-11-09"
    red = table.data(table.index(0, 0), Qt.ItemDataRole.ForegroundRole)
    assert red.color() == QColor("#c62828")
    assert table.data(table.index(1, 0), Qt.ItemDataRole.ForegroundRole) is None
    assert table.data(table.index(0, 0), Qt.ItemDataRole.ToolTipRole) == "已超过办理期限"


def test_the_review_shows_the_source_and_the_extranet_reference(
    qtbot, world: DeskWorld, desk
) -> None:  # type: ignore[no-untyped-def]
    from tests.server.approval_world import application_body

    body = {**application_body(BusinessType.legal_rep_change), "external_ref": "WW-2026-000777"}
    created = world.admin.request("POST", "/applications", json=body)
    plain = world.submit(BusinessType.legal_rep_change)
    dialog = review(qtbot, desk("admin"), created["id"])
    rows = _form_rows(dialog)
    assert rows["来源"] == "内网受理"  # filed through the intranet API, with the portal's ref
    assert rows["外网申请编号"] == "WW-2026-000777"
    other = review(qtbot, desk("admin"), plain["id"])
    assert "外网申请编号" not in _form_rows(other)


def _form_rows(dialog: ReviewDialog) -> dict[str, str]:
    from PySide6.QtWidgets import QFormLayout, QLabel

    layout = dialog.form_layout
    rows = {}
    for row in range(layout.rowCount()):
        label = layout.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = layout.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label is not None and field is not None and isinstance(field.widget(), QLabel):
            rows[label.widget().text()] = field.widget().text()
    return rows


def test_a_double_click_on_agree_approves_once_and_says_so(qtbot, world: DeskWorld, desk) -> None:  # type: ignore[no-untyped-def]
    """The second click of a double-click, while the first is on its way, sends nothing: it
    used to go with the version the first one changed and come back as 该记录已被他人修改, so the
    clerk read that their approval had failed when it had gone through."""
    app_id = world.submit(BusinessType.annual_report_filing)["id"]
    dialog = review(qtbot, desk("county"), app_id)
    assert dialog.primary.isEnabled()
    dialog.opinion.setPlainText("材料齐全")
    qtbot.mouseClick(dialog.primary, Qt.MouseButton.LeftButton)
    assert not dialog.primary.isEnabled()  # greyed while the approval is on its way
    qtbot.mouseClick(dialog.primary, Qt.MouseButton.LeftButton)
    dialog.model.approve("材料齐全")  # Space pressed twice reaches the model the same way
    qtbot.waitUntil(lambda: "已同意" in dialog.status.text(), timeout=WAIT)
    dialog.session.runner.wait(WAIT)
    assert "已同意" in dialog.status.text()
    assert not dialog.model.acting
    progress = world.admin.progress(app_id)
    assert [e.opinion for e in progress.entries if e.action == "approve"] == ["材料齐全"]


def test_tab_leaves_the_persons_table_for_the_opinion_and_the_buttons(  # type: ignore[no-untyped-def]
    qtbot, world: DeskWorld, desk
) -> None:
    """A keyboard user reaches the opinion box and 同意 from the tabs: the table of people in
    between is left with Tab, not walked cell by cell for ever."""
    app_id = world.submit(BusinessType.legal_rep_change)["id"]
    dialog = review(qtbot, desk("county"), app_id)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    assert dialog.persons.rowCount() >= 1
    dialog.persons.setFocus()
    reached = []
    for _ in range(4):
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
        reached.append(dialog.focusWidget())
    assert dialog.opinion in reached
    dialog.reject()
