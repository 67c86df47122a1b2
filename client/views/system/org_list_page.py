"""The shape the list pages of 系统管理 share: the organisation tree on the left, a paged list
of the selected organisation's records on the right, permission-gated actions under it, and a
status line. Subclasses say how to fetch a page and what the actions do."""

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from client.jobs.api_jobs import LoadOrgs
from client.jobs.job import ApiJob
from client.models.table import PagedRows
from client.session import Session
from client.views.org_tree_widget import OrgTreeWidget
from client.views.paged_table import PagedTable
from client.views.status import StatusLabel
from client.views.style import ORG_LIST_SPLIT
from shared.schemas.orgs import OrgPublic

Action = tuple[str, str, str, Callable[[], None]]  # key, label, permission, handler


class OrgListPage(QWidget):
    loaded = Signal()
    changed = Signal(object)
    noun = "记录"  # 请先在列表中选择一个{noun}

    def __init__(
        self,
        session: Session,
        title: str,
        model: PagedRows,
        state_key: str,
        actions: list[Action],
    ) -> None:
        super().__init__()
        self.session = session
        self.orgs: list[OrgPublic] = []
        permissions = set(session.me.permissions) if session.me else set()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(title, objectName="pageTitle"))
        splitter = QSplitter()
        self.tree = OrgTreeWidget()
        self.tree.currentItemChanged.connect(lambda *_: self.search())
        splitter.addWidget(self.tree.panel())
        right = QWidget()
        right_layout = self.right_layout = QVBoxLayout(right)  # subclasses may add a search bar
        self.model = model
        self.table = PagedTable(model, state_key, session.prefs)
        self.table.reload_requested.connect(self.load)
        right_layout.addWidget(self.table, 1)
        bar = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, label, permission, handler in actions:
            button = QPushButton(label, objectName=f"{state_key}_{key}")
            button.clicked.connect(handler)
            button.setVisible(permission in permissions)
            bar.addWidget(button)
            self.buttons[key] = button
        bar.addStretch(1)
        right_layout.addLayout(bar)
        self.status = StatusLabel()
        right_layout.addWidget(self.status)
        splitter.addWidget(right)
        splitter.setSizes(list(ORG_LIST_SPLIT))
        layout.addWidget(splitter, 1)
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self.load)
        self.reload_orgs()

    # -- what a subclass provides -------------------------------------------------------------
    def page_job(self, org: OrgPublic, request: dict[str, Any]) -> ApiJob:
        """The named job that fetches one page for ``org``."""
        raise NotImplementedError

    # -- shared behaviour -----------------------------------------------------------------------
    def reload_orgs(self) -> None:
        current = self.tree.current_org()

        def fill(orgs: list[OrgPublic]) -> None:
            self.orgs = orgs
            self.tree.fill(orgs, current.id if current else None)

        self.session.run(LoadOrgs(), fill, self.status.error, parent=self)

    def search(self) -> None:
        self.model.page = 1
        self.load()

    def load(self) -> None:
        org = self.tree.current_org()
        if org is None:
            return
        request = self.model.request()
        job = self.page_job(org, request)
        self.session.run(job, self._fill, self.status.error, parent=self)

    def _fill(self, page: Any) -> None:
        self.status.info()  # first: filling may say something of the row selected again
        self.model.fill(page.items, page.total)
        self.loaded.emit()

    def selected(self) -> Any | None:
        row = self.table.selected()
        if row is None:
            self.status.error(f"请先在列表中选择一个{self.noun}")
        return row

    def run_then_reload(self, job: ApiJob) -> None:
        def done(result: object) -> None:
            self.changed.emit(result)
            self.load()

        self.session.run(job, done, self.status.error, parent=self)
