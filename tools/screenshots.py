"""Render the main screens to PNG (``docs/screenshots/``) against the demo database.

Run under a virtual screen: ``xvfb-run -a .venv/bin/python -m tools.screenshots``.
"""

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from client.api import ApiClient
from client.devices import diagnostics
from client.devices.settings import DeviceSettings
from client.embedded import embedded_for_file
from client.jobs.runner import JobRunner
from client.models.fingerprint_enrolment import EnrolmentModel
from client.preferences import Preferences
from client.resources import stylesheet
from client.session import Session
from client.views.approvals.inbox_page import InboxPage
from client.views.devices.fingerprint_dialog import FingerprintEnrolDialog
from client.views.devices.settings_dialog import DeviceSettingsDialog
from client.views.main_window import MainWindow
from client.views.pages import PAGES
from client.views.sign_in import SignInWindow
from client.views.system.role_dialog import RoleDialog
from shared.enums import BusinessType
from shared.schemas.applications import ApproveBody

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
        dialog.grab().save(str(OUT / f"{name}.png"))
    dialog.close()


def inbox_and_review(app: QApplication, session: Session, window: MainWindow) -> None:
    page = window.open_page("applications")
    assert isinstance(page, InboxPage)
    for _ in range(3):
        session.runner.wait()
        settle(app)
    window.grab().save(str(OUT / "inbox.png"))
    rows = page.model.rows
    row = next(
        (i for i, r in enumerate(rows) if r.business_type == BusinessType.legal_rep_change), 0
    )
    dialog = page.open_review(row)
    dialog.resize(1280, 820)
    for tab in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(tab)
        for _ in range(3):
            session.runner.wait()
            settle(app)
        name = dialog.tabs.tabText(tab)
        dialog.grab().save(str(OUT / f"review-{REVIEW_TABS.get(name, tab)}.png"))
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
    dialog.grab().save(str(OUT / "device-settings.png"))
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
        enrol.grab().save(str(OUT / f"{name}.png"))
        enrol.close()


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
        sign_in.grab().save(str(OUT / "sign-in.png"))
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
            window = MainWindow(session, PAGES)
            window.resize(1280, 800)
            window.show()
            window.open_page(page or next(iter(window.entries)))
            for _ in range(3):  # pages load in steps (tree, then list)
                session.runner.wait()
                settle(app)
            settle(app)
            window.grab().save(str(OUT / f"{name}.png"))
            if username == "demo_admin":
                role_editor(app, api, window)
            if username == "x330106clerk1":
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
