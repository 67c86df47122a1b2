"""The inbox's rows: server-paged and sorted like every list, with overdue steps marked (red text
and 超期 in the time-limit column) so they stand out without opening anything."""

from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from client.formatting import local_time
from client.models.table import Column, Index, PagedTableModel

OVERDUE = QColor("#c62828")


def due_text(row: Any) -> str:
    due: date | None = row.due_date
    if due is None:
        return ""
    return f"{due:%Y-%m-%d}" + ("（超期）" if row.overdue else "")


PENDING_COLUMNS = [
    Column("number", "申请编号", sort_key="number"),
    Column("business_type_label", "业务类型", sort_key="business_type"),
    Column("applicant_name", "申请人", sort_key="applicant_name"),
    Column("step_name", "当前环节"),
    Column("submitted_at", "提交时间", sort_key="submitted_at", render=local_time),
    Column("due_date", "办理期限", sort_key="due_date"),
    Column("round", "轮次"),
]

DONE_COLUMNS = [
    Column("number", "申请编号", sort_key="number"),
    Column("business_type_label", "业务类型", sort_key="business_type"),
    Column("applicant_name", "申请人", sort_key="applicant_name"),
    Column("status_label", "状态"),
    Column("step_name", "当前环节"),
    Column("submitted_at", "提交时间", sort_key="submitted_at", render=local_time),
    Column("decided_at", "我的办理时间", sort_key="decided_at", render=local_time),
]


class InboxTableModel(PagedTableModel):
    def __init__(self, page_size: int = 50) -> None:
        super().__init__(PENDING_COLUMNS, page_size)

    def set_columns(self, columns: list[Column]) -> None:
        self.beginResetModel()
        self.columns, self.rows, self.sort = columns, [], None
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole and column.key == "due_date":
            return due_text(row)
        if role == Qt.ItemDataRole.ForegroundRole and getattr(row, "overdue", False):
            return QBrush(OVERDUE)
        if role == Qt.ItemDataRole.ToolTipRole and getattr(row, "overdue", False):
            return "已超过办理期限"
        return super().data(index, role)
