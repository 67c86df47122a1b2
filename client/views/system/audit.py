"""审计日志: who did what and when, newest first, filtered by action, object type and date.

Actions, object types and before/after read in Chinese through ``shared.audit_actions``; the
page asks again each time it is shown, so a clerk coming back sees what happened meanwhile."""

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
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
from shared.audit_actions import AuditAction, AuditEntity, action_label, entity_label, readable
from shared.china_time import china_today, day_start

COLUMNS = [
    Column("occurred_at", "时间", render=lambda t: local_time(t, seconds=True)),
    Column("actor_name", "操作人"),
    Column("action", "操作", render=action_label),
    Column("entity_type", "对象类型", render=entity_label),
    Column("entity_id", "对象编号"),
    Column("before", "变更前", render=readable),
    Column("after", "变更后", render=readable),
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
        for action in AuditAction:
            self.action.addItem(action.label, action.value)
        self.entity = QComboBox()
        self.entity.addItem("全部对象", None)
        for entity in AuditEntity:
            self.entity.addItem(entity.label, entity.value)
        today = QDate(china_today())  # Beijing's date, not the workstation's
        self.since = QDateEdit(today.addDays(-30), calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.until = QDateEdit(today, calendarPopup=True, displayFormat="yyyy-MM-dd")
        search = QPushButton("查询")
        search.clicked.connect(self.search)
        for widget in (
            QLabel("操作"),
            self.action,
            QLabel("对象类型"),
            self.entity,
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
        self._shown_once = False
        self.load()
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self.load)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """Shown again after another page: ask afresh (the first showing was loaded above)."""
        super().showEvent(event)
        if self._shown_once and not event.spontaneous():
            self.load()
        self._shown_once = True

    def search(self) -> None:
        self.model.page = 1
        self.load()

    def load(self) -> None:
        params = {
            "page": self.model.page,
            "page_size": self.model.page_size,
            "action": self.action.currentData(),
            "entity_type": self.entity.currentData(),
            "since": day_start(self.since.date().toPython()).isoformat(),
            "until": day_start(self.until.date().addDays(1).toPython()).isoformat(),
        }
        self.session.run(LoadAudit(**params), self._fill, self.status.error, parent=self)

    def _fill(self, page) -> None:  # type: ignore[no-untyped-def]
        self.model.fill(page.items, page.total)
        self.status.info()
        self.loaded.emit()
