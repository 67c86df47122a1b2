"""审批进度: the log, oldest first, in black, and the approvers the step now waits for in red
(as the source manuals show it). Internal opinions the caller may not see arrive without text;
the line says so instead of looking empty."""

from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem

from client.formatting import local_time
from client.views.style import DANGER, colour
from shared.approvals import OpinionVisibility
from shared.schemas.applications import LogEntryPublic, Progress

PENDING = colour(DANGER)


def opinion_text(entry: LogEntryPublic) -> str:
    if entry.opinion_hidden:
        return "（内部意见，无权查看）"
    text = entry.opinion or ""
    if entry.corrections:
        text += "\n需补正：" + "；".join(
            f"{n}. {c}" for n, c in enumerate(entry.corrections, start=1)
        )
    if entry.assignee_name:
        text = f"指派给 {entry.assignee_name}" + (f"：{text}" if text else "")
    return text


def visibility_text(entry: LogEntryPublic) -> str:
    if not (entry.opinion or entry.opinion_hidden):
        return ""
    return "对外" if entry.visibility == OpinionVisibility.external else "内部"


class ProgressTimeline(QTreeWidget):
    COLUMNS = ("时间", "轮次", "环节", "审批人 [角色]", "操作", "意见", "可见范围")

    def __init__(self) -> None:
        super().__init__()
        self.setColumnCount(len(self.COLUMNS))
        self.setHeaderLabels(list(self.COLUMNS))
        self.setRootIsDecorated(False)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        header = self.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)

    def show_progress(self, progress: Progress) -> None:
        self.clear()
        for entry in progress.entries:
            who = entry.actor_name + (f" [{entry.actor_role}]" if entry.actor_role else "")
            item = QTreeWidgetItem(
                [
                    local_time(entry.at),
                    str(entry.round),
                    entry.step_name or "",
                    who,
                    entry.action_label,
                    opinion_text(entry),
                    visibility_text(entry),
                ]
            )
            self.addTopLevelItem(item)
        for person in progress.pending:
            item = QTreeWidgetItem(
                ["", "", "待审批", f"{person.name} [{person.role_label}]", "待办", person.org_name]
            )
            for column in range(self.columnCount()):
                item.setForeground(column, QBrush(PENDING))
            self.addTopLevelItem(item)
        if progress.entries or progress.pending:
            self.scrollToItem(self.topLevelItem(self.topLevelItemCount() - 1))
