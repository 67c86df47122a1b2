"""The top bar's notification bell: the pending count, red when something is overdue."""

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QToolButton, QWidget

from client.models.inbox_badge import DEFAULT_INTERVAL_MS, InboxBadge
from client.resources import icon


class BellButton(QToolButton):
    """A bell icon and ``待办 12``; the tooltip lists counts per business type. Click opens the
    inbox. Text rather than an emoji: workstation fonts do not reliably have one. The bell's
    timer asks the badge to refresh every ``interval_ms``."""

    open_inbox = Signal()

    def __init__(
        self,
        badge: InboxBadge,
        parent: QWidget | None = None,
        *,
        interval_ms: int = DEFAULT_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("bellButton")
        self.badge = badge
        self.setAccessibleName("待办事项提醒")
        self.setIcon(icon("bell"))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.clicked.connect(self.open_inbox)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(badge.refresh)
        badge.changed.connect(self._show)
        self._show()

    def start(self) -> None:
        self.badge.refresh()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _show(self) -> None:
        total = self.badge.total
        self.setText(f"待办 {total}" if self.badge.counts is not None else "待办 …")
        self.setToolTip(self.badge.summary())
        self.setProperty("overdue", self.badge.overdue > 0)
        self.setProperty("stale", self.badge.stale)
        self.style().unpolish(self)
        self.style().polish(self)
