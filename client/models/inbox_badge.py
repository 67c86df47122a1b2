"""The pending count behind the top bar's bell, polled off the UI thread.

A model without widgets: it asks the server for ``/inbox/counts`` every ``interval_ms`` and on
demand, and tells listeners through ``changed``. A failed poll keeps the last good count and
marks it stale rather than showing zero, which would read as "nothing to do".
"""

from PySide6.QtCore import QObject, QTimer, Signal

from client.api import ApiError
from client.api.client import ApiClient
from client.jobs import JobRunner
from shared.enums import BusinessType
from shared.schemas.applications import InboxCounts

DEFAULT_INTERVAL_MS = 60_000


class InboxBadge(QObject):
    changed = Signal()

    def __init__(
        self,
        api: ApiClient,
        runner: JobRunner,
        *,
        interval_ms: int = DEFAULT_INTERVAL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.api = api
        self.runner = runner
        self.counts: InboxCounts | None = None
        self.stale = False
        self._in_flight = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.refresh)

    def start(self) -> None:
        self.refresh()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    @property
    def total(self) -> int:
        return self.counts.total if self.counts else 0

    @property
    def overdue(self) -> int:
        return self.counts.overdue if self.counts else 0

    def summary(self) -> str:
        """Per-type lines for the tooltip, largest first."""
        if self.counts is None:
            return "待办事项：正在获取…"
        if not self.counts.by_type:
            return "暂无待审批事项"
        lines = [
            f"待审批 {self.total} 件" + (f"，其中超期 {self.overdue} 件" if self.overdue else "")
        ]
        for key, count in sorted(self.counts.by_type.items(), key=lambda kv: -kv[1]):
            lines.append(f"{BusinessType(key).label}：{count}")
        if self.stale:
            lines.append("（刷新失败，显示的是上次的数量）")
        return "\n".join(lines)

    def refresh(self) -> None:
        if self._in_flight:
            return
        self._in_flight = True
        self.runner.submit(self.api.inbox_counts, self._got, self._failed, quiet=True)

    def _got(self, counts: InboxCounts) -> None:
        self._in_flight = False
        self.counts, self.stale = counts, False
        self.changed.emit()

    def _failed(self, _err: Exception | ApiError) -> None:
        self._in_flight = False
        self.stale = True
        self.changed.emit()
