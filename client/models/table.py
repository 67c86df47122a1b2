"""A table model for server-side paging and sorting. It holds one page of rows; the view asks
for pages and sort orders, a job fetches them, and the model is refilled on the UI thread."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    sort_key: str | None = None  # the server's ``sort`` name; None = not sortable
    render: Callable[[Any], str] | None = None

    def text(self, row: Any) -> str:
        value = getattr(row, self.key)
        if self.render is not None:
            return self.render(value)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "是" if value else "否"
        return str(value)


class PagedTableModel(QAbstractTableModel):
    page_changed = Signal()

    def __init__(self, columns: list[Column], page_size: int = 20) -> None:
        super().__init__()
        self.columns = columns
        self.rows: list[Any] = []
        self.total = 0
        self.page = 1
        self.page_size = page_size
        self.sort: str | None = None

    # -- what a job needs to fetch the next page ---------------------------------------------
    def request(self) -> dict[str, Any]:
        return {"page": self.page, "page_size": self.page_size, "sort": self.sort}

    def set_sort(self, column: int, order: Qt.SortOrder) -> bool:
        key = self.columns[column].sort_key
        if key is None:
            return False
        self.sort = key if order == Qt.SortOrder.AscendingOrder else f"-{key}"
        self.page = 1
        return True

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def fill(self, rows: list[Any], total: int) -> None:
        self.beginResetModel()
        self.rows, self.total = list(rows), total
        self.endResetModel()
        self.page_changed.emit()

    def row_at(self, row: int) -> Any:
        return self.rows[row]

    # -- QAbstractTableModel -----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        return self.columns[index.column()].text(self.rows[index.row()])

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None
