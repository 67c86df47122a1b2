"""The top bar's notification bell: the pending count, red when something is overdue."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QToolButton, QWidget

from client.models.inbox_badge import InboxBadge
from client.resources import icon


class BellButton(QToolButton):
    """A bell icon and ``待办 12``; the tooltip lists counts per business type. Click opens the
    inbox. Text rather than an emoji: workstation fonts do not reliably have one."""

    open_inbox = Signal()

    def __init__(self, badge: InboxBadge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bellButton")
        self.badge = badge
        self.setAccessibleName("待办事项提醒")
        self.setIcon(icon("bell"))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.clicked.connect(self.open_inbox)
        badge.changed.connect(self._show)
        self._show()

    def _show(self) -> None:
        total = self.badge.total
        self.setText(f"待办 {total}" if self.badge.counts is not None else "待办 …")
        self.setToolTip(self.badge.summary())
        self.setProperty("overdue", self.badge.overdue > 0)
        self.setProperty("stale", self.badge.stale)
        self.style().unpolish(self)
        self.style().polish(self)
