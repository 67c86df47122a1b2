"""Render the main screens to PNG (``docs/screenshots/``) against the demo database.

Run under a virtual screen the size of the smallest supported screen:
``xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python -m tools.screenshots [DB]``.
Windows and dialogs are shot at the sizes they open at (``client/views/style.py``), as a clerk
sees them; settings are fresh each run so no saved geometry leaks in. The run acts on the
database (an approval, an enrolment, an SMS code), so shoot a freshly built demo database.
"""

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

from client.api import ApiClient, ApiError
from client.devices import diagnostics
from client.devices.settings import DeviceSettings
from client.embedded import embedded_for_file
from client.jobs.runner import JobRunner
from client.models.fingerprint_enrolment import EnrolmentModel
from client.preferences import Preferences
from client.resources import stylesheet
from client.session import Session
from client.views.approvals.inbox_page import InboxPage
from client.views.card_preview import CardPreviewDialog
from client.views.certificates.page import CertificatePage
from client.views.certificates.printing import PrintDialog
from client.views.change_password import ChangePasswordDialog
from client.views.devices.fingerprint_dialog import FingerprintEnrolDialog
from client.views.devices.settings_dialog import DeviceSettingsDialog
from client.views.exams.enrolments_page import EnrolmentsPage
from client.views.exams.exams_page import ExamsPage
from client.views.main_window import MainWindow
from client.views.pages import PAGES
from client.views.sign_in import SignInWindow
from client.views.system.orgs import OrgPage
from client.views.system.role_dialog import RoleDialog
from client.views.system.sync import SyncPage
from client.views.system.users import UserPage
from shared.enums import BusinessType
from shared.schemas.applications import ApproveBody, FingerprintBody
from tools.sync_portal.portal import Portal

OUT = Path("docs/screenshots")
DEMO_PASSWORD = "Sgss@2026demo"


def settle(app: QApplication, rounds: int = 20) -> None:
    for _ in range(rounds):
        app.processEvents()


def role_editor(app: QApplication, api: ApiClient, parent: MainWindow) -> None:
    orgs = api.orgs(page_size=5000).items
    role = next(r for r in api.roles(page_size=100).items if r.name == "审批民警")
    dialog = RoleDialog(orgs[0], api.permissions(), orgs, role, parent=parent)
    for index, name in ((1, "role-permissions"), (2, "role-scope")):
        dialog.tabs.setCurrentIndex(index)
        dialog.show()
        settle(app)
        save(dialog, name)
    dialog.close()


def wait(app: QApplication, session: Session) -> None:
    for _ in range(3):  # pages load in steps (tree, then list)
        session.runner.wait()
        settle(app)


def save(widget: QWidget, name: str) -> None:
    """PNG at Qt's highest compression (quality 0): the shots are committed."""
    widget.grab().save(str(OUT / f"{name}.png"), "PNG", 0)


def inbox_pager(app: QApplication, session: Session, window: MainWindow) -> None:
    """The inbox at 20 a page, on its second page: the pager's buttons, count and jump field."""
    page = window.open_page("applications")
    assert isinstance(page, InboxPage)
    wait(app, session)
    pager = page.table
    pager.page_sizes.setCurrentIndex(pager.page_sizes.findData(20))
    wait(app, session)
    pager.next.click()
    wait(app, session)
    save(window, "inbox")
    pager.first.click()
    wait(app, session)


def inbox_and_review(app: QApplication, session: Session, window: MainWindow) -> None:
    page = window.open_page("applications")
    assert isinstance(page, InboxPage)
    wait(app, session)
    rows = page.model.rows
    row = next(
        (i for i, r in enumerate(rows) if r.business_type == BusinessType.legal_rep_change), 0
    )
    dialog = page.open_review(row)
    for tab in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(tab)
        for _ in range(3):
            session.runner.wait()
            settle(app)
        name = dialog.tabs.tabText(tab)
        save(dialog, f"review-{REVIEW_TABS.get(name, tab)}")
    dialog.close()


def devices(app: QApplication, clerk: ApiClient, session: Session, window: MainWindow) -> None:
    """设备设置 on the simulators, then 录入指纹 as the county leader (level two of the exam
    enrolment) twice: a success, and the same simulated finger for another applicant refused.
    This acts on the demo database (a level-one approval by ``clerk`` and an enrolment), as a
    clerk trying the walk-through would."""
    api = session.api

    def wait() -> None:
        for _ in range(3):
            session.runner.wait()
            settle(app)

    dialog = DeviceSettingsDialog(
        session.prefs.qsettings, session.runner, workstation="XH-ZW-01", parent=window
    )
    dialog.fp_port.setCurrentIndex(dialog.fp_port.findData("fpsim://demo?finger=A"))
    dialog.pr_port.setCurrentIndex(dialog.pr_port.findData("evosim://demo"))
    dialog.show()
    dialog.pr_status.click()
    wait()
    save(dialog, "device-settings")
    dialog.save()

    enrolment = str(BusinessType.guard_exam_enrolment)
    waiting = [r.id for r in api.inbox(business_type=enrolment, page_size=50).items]
    first = clerk.inbox(business_type=enrolment, page_size=50).items
    if not waiting or not first:
        return
    second = first[0].id
    clerk.run_screening(second)
    clerk.approve(second, ApproveBody(version=clerk.application(second).version, opinion="同意"))
    settings = DeviceSettings.load(session.prefs.qsettings)
    for app_id, name in ((waiting[0], "fingerprint-enrolled"), (second, "fingerprint-refused")):
        model = EnrolmentModel(
            session.run,
            lambda: diagnostics.open_fingerprint(settings),
            app_id,
            port=settings.fingerprint_port,
        )
        enrol = FingerprintEnrolDialog(model, api.application(app_id), window)
        enrol.show()
        enrol.start()
        wait()
        save(enrol, name)
        enrol.close()


def audit(app: QApplication, session: Session, window: MainWindow) -> None:
    window.open_page("audit")
    wait(app, session)
    save(window, "audit")


def sync_page(app: QApplication, session: Session, window: MainWindow, db: Path) -> None:
    """系统管理 → 内外网数据同步 after 【立即同步】 (the application ``make demo`` left in
    ``sync/in/`` applied: the summary in the status line); then a corrupted copy (one byte
    changed in its middle) of a bundle the portal stand-in wrote, quarantined with its reason.
    Needs the demo's sync settings (``SGSS_SYNC_TRANSPORT=files``, ``SGSS_SYNC_DIR``) in the
    environment: the embedded server inherits them; without them, the page as it stands."""
    page = window.open_page("sync")
    assert isinstance(page, SyncPage)
    wait(app, session)
    sync_dir = os.environ.get("SGSS_SYNC_DIR")
    portal_state = db.resolve().parent / "portal"
    if not sync_dir or not portal_state.is_dir():
        save(window, "sync")
        return
    page.run_now()
    wait(app, session)
    save(window, "sync")
    portal = Portal(portal_state)
    portal.submit_application()
    built = portal.write_bundle()
    assert built is not None
    data = bytearray(built.data)
    data[len(data) // 2] ^= 0x01
    inbox = Path(sync_dir) / "in"
    hidden = inbox / f".{built.name}.tmp"  # the transport ignores it until it has its name
    hidden.write_bytes(bytes(data))
    hidden.replace(inbox / built.name)
    page.run_now()
    wait(app, session)
    page.table.view.selectRow(0)
    settle(app)
    save(window, "sync-quarantine")


def org_search(app: QApplication, session: Session, window: MainWindow) -> None:
    """机构管理 with a search typed: the matches with their ancestors, the first selected."""
    page = window.open_page("orgs")
    assert isinstance(page, OrgPage)
    wait(app, session)
    page.tree.search_box.setFocus()
    page.tree.search_box.setText("西湖")
    settle(app)
    page.tree.select_next_match()
    wait(app, session)
    save(window, "orgs-search")
    page.tree.search_box.clear()


def users_greyed(app: QApplication, session: Session, window: MainWindow) -> None:
    """用户管理 with a user selected on whom some action is not allowed: greyed, reason below."""
    page = window.open_page("users")
    assert isinstance(page, UserPage)
    wait(app, session)
    rows = page.model.rows
    row = next(
        (
            i
            for i, user in enumerate(rows)
            if any(not state.allowed for state in user.allowed_actions.values())
        ),
        None,
    )
    if row is None:  # nothing refused in the first page: the subtree has more accounts
        page.subtree.setChecked(True)
        wait(app, session)
        rows = page.model.rows
        row = next(
            (
                i
                for i, user in enumerate(rows)
                if any(not state.allowed for state in user.allowed_actions.values())
            ),
            0,
        )
    page.table.view.selectRow(row)
    settle(app)
    save(window, "users-greyed")


def change_password(app: QApplication, session: Session, window: MainWindow) -> None:
    """修改密码 after 获取验证码: the code sent, the button counting down, a weak password typed."""
    dialog = ChangePasswordDialog(session, session.me.username if session.me else "", parent=window)
    dialog.show()
    dialog.send_code()
    wait(app, session)
    dialog.new.setText("abc123")
    settle(app)
    save(dialog, "change-password")
    dialog.timer.stop()
    dialog.close()


def approve_enrolments(url: str) -> None:
    """The 西湖区 enrolments waiting at levels two and three approved through the API by the
    county leader (fingerprint card) and the city clerk (payment), so the candidate picker has
    people to show (the standard demo has one approved enrolment, already in its exam)."""
    actors = {}
    for step, username in (("level_two", "x330106lead"), ("level_three", "c3301clerk1")):
        api = ApiClient(url)
        api.login(username, DEMO_PASSWORD)
        actors[step] = api
    lead = actors["level_two"]
    clerk = ApiClient(url)
    clerk.login("x330106clerk1", DEMO_PASSWORD)
    waiting = [
        line.application_id
        for status in ("fingerprint", "payment")
        for line in clerk.exam_enrolments(status=status, page_size=50).items
    ]
    for app_id in waiting:
        try:
            _approve_through(actors, lead, app_id)
        except ApiError as err:  # a demo enrolment the walk cannot move: shoot without it
            print(f"{app_id}: {err.message}", file=sys.stderr)


def _approve_through(actors: dict[str, ApiClient], lead: ApiClient, app_id: int) -> None:
    if True:
        for _ in range(2):
            detail = lead.application(app_id)
            task = detail.current_task
            if task is None or task.step_key not in actors:
                break
            api = actors[task.step_key]
            detail = api.application(app_id)  # the gate as its step's clerk sees it
            if detail.gate is not None and detail.gate.action == "fingerprint":
                card = f"ZW{detail.region_code}{app_id:010d}"
                api.record_fingerprint(
                    app_id, FingerprintBody(version=detail.version, card_number=card)
                )
            elif detail.gate is not None and detail.gate.action == "payment":
                api.confirm_payment([app_id])
            version = api.application(app_id).version
            detail = api.application(app_id)
            if detail.gate is not None and not detail.gate.approve_allowed:
                print(f"{app_id}: {'；'.join(detail.gate.reasons)}", file=sys.stderr)
            api.approve(app_id, ApproveBody(version=version, opinion="同意"))


def exam_pages(app: QApplication, session: Session, window: MainWindow) -> None:
    """考试报名 with its status chips; then 考试安排: 新增考试 filled in, saved, 添加人员 with
    some candidates chosen, and the exam with its candidates. Acts on the demo database (a
    draft exam of the clerk's bureau)."""
    page = window.open_page("exam_enrolments")
    assert isinstance(page, EnrolmentsPage)
    wait(app, session)
    save(window, "exam-enrolments")
    exams = window.open_page("exams")
    assert isinstance(exams, ExamsPage)
    wait(app, session)
    dialog = exams.add()
    if dialog is None:
        return
    dialog.name.setText("2026年第二期保安员资格考试（西湖）")
    dialog.address.setText("杭州市西湖区文三路199号保安员考试中心")
    dialog.seats.setValue(30)
    settle(app)
    save(dialog, "exam-dialog")
    dialog.save()
    wait(app, session)
    picker = exams.pick()
    if picker is None:
        return
    picker.show()
    wait(app, session)
    for row in range(min(4, len(picker.model.rows))):
        picker.table.view.selectionModel().select(
            picker.table.adapter.index(row, 0),
            picker.table.view.selectionModel().SelectionFlag.Select
            | picker.table.view.selectionModel().SelectionFlag.Rows,
        )
    settle(app)
    save(picker, "exam-picker")
    picker.add_selected()
    wait(app, session)
    save(window, "exams")


def portrait(seed: int) -> bytes:
    """A drawn head and shoulders on a pale blue ground, as JPEG: a placeholder, no real face."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage, QPainter

    image = QImage(300, 400, QImage.Format.Format_RGB32)
    image.fill(QColor(200, 214, 230))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor(0, 0, 0, 0))
    painter.setBrush(QColor(40, 60, 90))
    painter.drawEllipse(60, 215, 180, 85)
    painter.drawRect(60, 255, 180, 145)
    painter.setBrush(QColor(226 - seed * 3 % 30, 190 - seed * 5 % 30, 160 - seed * 7 % 30))
    painter.drawEllipse(95, 70, 110, 130)
    painter.setBrush(QColor(30, 30, 35))
    painter.drawChord(90, 55, 120, 70, 0, 180 * 16)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPEG", 85)
    return bytes(data.data())


def certificates(app: QApplication, session: Session, window: MainWindow) -> None:
    """保安员资格证: the list with a card selected, its preview, the print dialog, one card
    printed to PDF and the detail with its history."""
    page = window.open_page("certificates")
    assert isinstance(page, CertificatePage)
    wait(app, session)
    page.table.view.selectRow(0)
    settle(app)
    save(window, "certificates")
    card = page.current()
    assert card is not None
    face = session.api.card_face(card.id)
    from client.jobs.certificate_jobs import PrepareCard

    prepared = PrepareCard(card.id)
    prepared.api = session.api
    _card, _shown, full = prepared.run()
    preview = CardPreviewDialog(full, window)
    preview.show()
    settle(app)
    save(preview, "certificate-preview")
    preview.close()
    dialog = PrintDialog(card, DeviceSettings(printer_port="COM3"), parent=window)
    dialog.show()
    settle(app)
    save(dialog, "certificate-print")
    dialog.close()
    if face.printable and not card.printed:
        target = Path(tempfile.mkdtemp(prefix="sgss-card-")) / "card.pdf"
        from shared.certificates import PrintChannel

        flow = page.start_print(card, PrintChannel.pdf, pdf_path=target)
        wait(app, session)
        save(flow.progress, "certificate-printed")
        flow.progress.close()
        wait(app, session)
        page.select(card.id)
    detail = page.show_detail()
    wait(app, session)
    if detail is not None:
        save(detail, "certificate-detail")
        detail.close()


REVIEW_TABS = {
    "申请信息": "info",
    "申请材料": "materials",
    "人员审查": "screening",
    "审批进度": "progress",
    "申请人可见": "external",
}


def main(db: str = "var/demo/sgss-demo.db") -> None:
    app = QApplication(sys.argv[:1])
    app.setStyleSheet(stylesheet())
    OUT.mkdir(parents=True, exist_ok=True)
    server = embedded_for_file(Path(db))
    url = server.start()
    try:
        # fresh settings every run: saved column widths must not leak between runs
        ini = Path(tempfile.mkdtemp(prefix="sgss-screens-")) / "desk.ini"
        prefs = Preferences(QSettings(str(ini), QSettings.Format.IniFormat))
        prefs.server_url, prefs.username = url, "c3301admin"
        session = Session(ApiClient(url), JobRunner(), prefs)
        sign_in = SignInWindow(session)
        sign_in.show()
        sign_in.password.setText("wrong-password")
        sign_in.submit()
        session.runner.wait()
        settle(app)
        save(sign_in, "sign-in")
        shots = (
            ("demo_admin", "main-admin", "orgs"),
            ("c3301admin", "users-city-admin", "users"),
            ("s33010201m1", "main-station", None),
            ("x330106clerk1", "main-county-clerk", None),
        )
        for username, name, page in shots:
            api = ApiClient(url)
            api.login(username, DEMO_PASSWORD)
            session = Session(api, JobRunner(), prefs, api.me())
            window = MainWindow(session, PAGES)  # opens at style.MAIN_WINDOW
            window.show()
            window.open_page(page or next(iter(window.entries)))
            wait(app, session)
            settle(app)
            save(window, name)
            if username == "demo_admin":
                role_editor(app, api, window)
                certificates(app, session, window)
                org_search(app, session, window)
                audit(app, session, window)
                sync_page(app, session, window, Path(db))
            if username == "c3301admin":
                users_greyed(app, session, window)
            if username == "x330106clerk1":
                approve_enrolments(url)
                exam_pages(app, session, window)
                change_password(app, session, window)
                inbox_pager(app, session, window)
                inbox_and_review(app, session, window)
                lead = ApiClient(url)
                lead.login("x330106lead", DEMO_PASSWORD)
                lead_context = Session(lead, JobRunner(), prefs, lead.me())
                devices(app, api, lead_context, window)
            window.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
