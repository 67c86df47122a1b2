"""Render the main screens to PNG (``docs/screenshots/``) against the demo database.

Run under a virtual screen: ``xvfb-run -a .venv/bin/python -m client.screenshots``.
"""

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from client.api import ApiClient
from client.embedded import embedded_for_file
from client.jobs import JobRunner
from client.preferences import Preferences
from client.resources import stylesheet
from client.views.approvals.inbox_page import InboxPage
from client.views.context import DeskContext
from client.views.main_window import MainWindow
from client.views.pages import PAGES
from client.views.sign_in import SignInWindow
from client.views.system.role_dialog import RoleDialog
from shared.enums import BusinessType

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


def inbox_and_review(app: QApplication, context: DeskContext, window: MainWindow) -> None:
    page = window.open_page("applications")
    assert isinstance(page, InboxPage)
    for _ in range(3):
        context.runner.wait()
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
            context.runner.wait()
            settle(app)
        name = dialog.tabs.tabText(tab)
        dialog.grab().save(str(OUT / f"review-{REVIEW_TABS.get(name, tab)}.png"))
    dialog.close()


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
        context = DeskContext(ApiClient(url), JobRunner(), prefs)
        sign_in = SignInWindow(context)
        sign_in.show()
        sign_in.password.setText("wrong-password")
        sign_in.submit()
        context.runner.wait()
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
            context = DeskContext(api, JobRunner(), prefs, api.me())
            window = MainWindow(context, PAGES)
            window.resize(1280, 800)
            window.show()
            window.open_page(page or next(iter(window.entries)))
            for _ in range(3):  # pages load in steps (tree, then list)
                context.runner.wait()
                settle(app)
            settle(app)
            window.grab().save(str(OUT / f"{name}.png"))
            if username == "demo_admin":
                role_editor(app, api, window)
            if username == "x330106clerk1":
                inbox_and_review(app, context, window)
            window.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
