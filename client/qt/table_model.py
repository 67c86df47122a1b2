"""A QAbstractTableModel over a plain ``PagedRows``: Qt's views read the rows through it; the
state (page, sort, rows) stays in the plain model. The colour of flagged rows is the view's
choice (``client.views.style``), handed in: no colour is named here."""

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from client.models.table import PagedRows

Index = QModelIndex | QPersistentModelIndex


class TableAdapter(QAbstractTableModel):
    def __init__(self, rows: PagedRows, flag_colour: QColor | None = None) -> None:
        """``flag_colour``: the text of rows the model flags (none: they look like the rest)."""
        super().__init__()
        self.rows = rows
        self._flag = QBrush(flag_colour) if flag_colour is not None else None
        # Qt's builtins have no signature for psygnal to check
        rows.resetting.connect(self.beginResetModel, check_nargs=False)
        rows.reset.connect(self.endResetModel, check_nargs=False)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows.text(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and self._flag and self.rows.flagged(row):
            return self._flag
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.rows.tooltip(row, column)
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.rows.columns[section].title
        return None
