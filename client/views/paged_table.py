"""A table with a pager under it, over a plain ``PagedRows`` (through the Qt adapter); column
state persists."""

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from client.models.table import PagedRows
from client.qt.table_model import TableAdapter
from client.views.style import MAX_COLUMN_WIDTH, OVERDUE, SHRINK_STEP, colour


class PagedTable(QWidget):
    reload_requested = Signal()

    def __init__(self, model: PagedRows, state_key: str, prefs: Any) -> None:
        super().__init__()
        self.model = model
        self.adapter = TableAdapter(model, colour(OVERDUE))  # the rows the model flags
        self.state_key = state_key
        self.prefs = prefs
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view = QTableView()
        self.view.setModel(self.adapter)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setSortingEnabled(False)
        header = self.view.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        state = prefs.geometry(f"table/{state_key}")
        if state is not None:
            header.restoreState(state)
        self._sized = state is not None  # fit columns to the first page unless the user sized them
        header.sortIndicatorChanged.connect(self._sort)
        layout.addWidget(self.view, 1)
        pager = QHBoxLayout()
        self.info = QLabel()
        self.prev = QPushButton("上一页")
        self.next = QPushButton("下一页")
        self.prev.clicked.connect(lambda: self._go(-1))
        self.next.clicked.connect(lambda: self._go(1))
        pager.addWidget(self.info)
        pager.addStretch(1)
        pager.addWidget(self.prev)
        pager.addWidget(self.next)
        layout.addLayout(pager)
        model.page_changed.connect(self._update_pager)  # psygnal: weakly held
        self._update_pager()

    def _sort(self, column: int, order: Qt.SortOrder) -> None:
        descending = order == Qt.SortOrder.DescendingOrder
        if self.model.set_sort(column, descending=descending):
            self.reload_requested.emit()

    def _go(self, step: int) -> None:
        if self.model.go(step):
            self.reload_requested.emit()

    def _update_pager(self) -> None:
        m = self.model
        if not self._sized and m.rows:
            self.fit_columns()
            self._sized = True
        self.info.setText(f"共 {m.total} 条，第 {m.page}/{m.pages} 页")
        self.prev.setEnabled(m.page > 1)
        self.next.setEnabled(m.page < m.pages)
        if self._sized:  # an empty first list must not save default widths over a fit to come
            self.prefs.set_geometry(
                f"table/{self.state_key}", self.view.horizontalHeader().saveState()
            )

    def fit_columns(self) -> None:
        """Columns as wide as their content, none wider than ``MAX_COLUMN_WIDTH``, and together
        within the view where that cuts no heading: the column with the most to spare gives way
        first, so a long name does not push 办理期限 off the screen."""
        header = self.view.horizontalHeader()
        self.view.resizeColumnsToContents()
        count = header.count()
        widths = [min(header.sectionSize(i), MAX_COLUMN_WIDTH) for i in range(count)]
        floors = [min(header.sectionSizeHint(i), w) for i, w in enumerate(widths)]
        # the vertical scroll bar a full page will show takes its share too
        room = self.view.viewport().width()
        if not self.view.verticalScrollBar().isVisible():
            room -= self.view.verticalScrollBar().sizeHint().width()
        excess = sum(widths) - room
        while excess > 0:
            spare = max(range(count), key=lambda c: widths[c] - floors[c])
            give = min(excess, widths[spare] - floors[spare], SHRINK_STEP)
            if give <= 0:
                break
            widths[spare] -= give
            excess -= give
        for column, width in enumerate(widths):
            header.resizeSection(column, width)

    def selected(self) -> Any | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def on_activated(self, handler: Callable[[Any], None]) -> None:
        self.view.doubleClicked.connect(lambda index: handler(self.model.row_at(index.row())))
