"""审计日志: who did what and when, newest first, filtered by action and date."""

import json

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.formatting import local_time
from client.jobs.api_jobs import LoadAudit
from client.models.table import Column, PagedRows
from client.session import Session
from client.views.paged_table import PagedTable
from client.views.status import StatusLabel
from shared.audit_actions import AUDIT_ACTIONS, action_label
from shared.china_time import china_today, day_start


def _json(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False)


COLUMNS = [
    Column("occurred_at", "时间", render=lambda t: local_time(t, seconds=True)),
    Column("actor_name", "操作人"),
    Column("action", "操作", render=action_label),
    Column("entity_type", "对象类型"),
    Column("entity_id", "对象编号"),
    Column("before", "变更前", render=_json),
    Column("after", "变更后", render=_json),
    Column("ip", "IP地址"),
]


class AuditPage(QWidget):
    loaded = Signal()

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("审计日志", objectName="pageTitle"))
        bar = QHBoxLayout()
        self.action = QComboBox()
        self.action.addItem("全部操作", None)
        for key, label in AUDIT_ACTIONS.items():
            self.action.addItem(label, key)
        today = QDate(china_today())  # Beijing's date, not the workstation's
        self.since = QDateEdit(today.addDays(-30), calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.until = QDateEdit(today, calendarPopup=True, displayFormat="yyyy-MM-dd")
        search = QPushButton("查询")
        search.clicked.connect(self.search)
        for widget in (
            QLabel("操作"),
            self.action,
            QLabel("日期"),
            self.since,
            QLabel("至"),
            self.until,
            search,
        ):
            bar.addWidget(widget)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.model = PagedRows(COLUMNS, page_size=50)
        self.table = PagedTable(self.model, "audit", session.prefs)
        self.table.reload_requested.connect(self.load)
        layout.addWidget(self.table, 1)
        self.status = StatusLabel()
        layout.addWidget(self.status)
        self.load()
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self.load)

    def search(self) -> None:
        self.model.page = 1
        self.load()

    def load(self) -> None:
        params = {
            "page": self.model.page,
            "page_size": self.model.page_size,
            "action": self.action.currentData(),
            "since": day_start(self.since.date().toPython()).isoformat(),
            "until": day_start(self.until.date().addDays(1).toPython()).isoformat(),
        }
        self.session.run(LoadAudit(**params), self._fill, self.status.error, parent=self)

    def _fill(self, page) -> None:  # type: ignore[no-untyped-def]
        self.model.fill(page.items, page.total)
        self.status.info()
        self.loaded.emit()
