"""The pending count behind the top bar's bell.

A plain model: ``refresh`` asks the server for ``/inbox/counts`` (a quiet job, no busy
indicator) and tells listeners through ``changed``; the bell's view owns the timer that calls it
every minute. A failed poll keeps the last good count and marks it stale rather than showing
zero, which would read as "nothing to do".
"""

from psygnal import Signal

from client.api import ApiError
from client.jobs.api_jobs import LoadInboxCounts
from client.jobs.job import Runs
from shared.enums import BusinessType
from shared.schemas.applications import InboxCounts

DEFAULT_INTERVAL_MS = 60_000


class InboxBadge:
    changed = Signal()

    def __init__(self, run: Runs) -> None:
        self.run = run
        self.counts: InboxCounts | None = None
        self.stale = False
        self._in_flight = False

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
        """Ask again, unless a poll is still on its way."""
        if self._in_flight:
            return
        self._in_flight = True
        self.run(LoadInboxCounts(), self.got, self.failed)

    def got(self, counts: InboxCounts) -> None:
        self._in_flight = False
        self.counts, self.stale = counts, False
        self.changed.emit()

    def failed(self, _err: Exception | ApiError) -> None:
        self._in_flight = False
        self.stale = True
        self.changed.emit()
