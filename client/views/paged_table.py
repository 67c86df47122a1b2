"""A table with a pager under it, over a plain ``PagedRows`` (through the Qt adapter).

The pager: 首页/上一页/下一页/末页 (also Ctrl+PgUp/Ctrl+PgDown), 跳至第 N 页 (Enter jumps: it
only reads) and 每页 N 条. Column widths, the sort and the page size persist per list; the sort
is read back into the model before the first load, so the rows come sorted as the header's arrow
says. Enter or a double-click on a row activates it; Enter elsewhere on the page is the page's.
"""

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIntValidator, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from client.models.table import PAGE_SIZES, PagedRows
from client.qt.table_model import TableAdapter
from client.views.style import MAX_COLUMN_WIDTH, OVERDUE, PAGE_FIELD_WIDTH, SHRINK_STEP, colour
from client.views.widgets import tab_leaves


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
        tab_leaves(self.view)  # on to the pager and the page's buttons
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
        model.page_size = prefs.page_size(state_key, model.page_size)
        if not model.restore_sort(prefs.table_sort(state_key)) and state is not None:
            # a header saved before the sort had its own key: its arrow is the sort
            section = header.sortIndicatorSection()
            descending = header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
            if 0 <= section < len(model.columns):
                model.set_sort(section, descending=descending)
        self._show_sort()
        header.sortIndicatorChanged.connect(self._sort)
        layout.addWidget(self.view, 1)
        layout.addLayout(self._pager())
        model.page_changed.connect(self._update_pager)  # psygnal: weakly held
        model.reset.connect(self._show_sort)
        # the row selected before a reload is selected again if it is still on the page
        self._kept_id: Any = None
        model.resetting.connect(self._remember_selection)
        model.reset.connect(self._restore_selection)
        self._update_pager()

    def _pager(self) -> QHBoxLayout:
        pager = QHBoxLayout()
        self.info = QLabel()
        self.first = QPushButton("首页")
        self.prev = QPushButton("上一页")
        self.next = QPushButton("下一页")
        self.last = QPushButton("末页")
        self.prev.setToolTip("Ctrl+PgUp")
        self.next.setToolTip("Ctrl+PgDown")
        self.first.clicked.connect(lambda: self._go_to(1))
        self.prev.clicked.connect(lambda: self._go(-1))
        self.next.clicked.connect(lambda: self._go(1))
        self.last.clicked.connect(lambda: self._go_to(self.model.pages))
        for keys, step in (("Ctrl+PgUp", -1), ("Ctrl+PgDown", 1)):
            shortcut = QShortcut(QKeySequence(keys), self, lambda step=step: self._go(step))
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.jump = QLineEdit(objectName="pageJump")
        self.jump.setValidator(QIntValidator(1, 1_000_000, self.jump))
        self.jump.setFixedWidth(PAGE_FIELD_WIDTH)
        self.jump.setToolTip("输入页码后按回车跳转")
        self.jump.returnPressed.connect(self._jump)
        self.page_sizes = QComboBox(objectName="pageSize")
        sizes = sorted({*PAGE_SIZES, self.model.page_size})
        for size in sizes:
            self.page_sizes.addItem(str(size), size)
        self.page_sizes.setCurrentIndex(sizes.index(self.model.page_size))
        self.page_sizes.currentIndexChanged.connect(self._resize_page)
        pager.addWidget(self.info)
        pager.addStretch(1)
        for widget in (self.first, self.prev, self.next, self.last):
            pager.addWidget(widget)
        jump_label = QLabel("跳至第")
        jump_label.setBuddy(self.jump)
        size_label = QLabel("页，每页")
        size_label.setBuddy(self.page_sizes)
        for widget in (jump_label, self.jump, size_label, self.page_sizes, QLabel("条")):
            pager.addWidget(widget)
        return pager

    def _remember_selection(self) -> None:
        row = self.selected()
        self._kept_id = getattr(row, "id", None)

    def _restore_selection(self) -> None:
        if self._kept_id is None:
            return
        for index, row in enumerate(self.model.rows):
            if getattr(row, "id", None) == self._kept_id:
                self.view.selectRow(index)
                return

    def _show_sort(self) -> None:
        """The header's arrow from the model's sort (none: no arrow), without a reload."""
        header = self.view.horizontalHeader()
        shown = self.model.sort_column()
        header.blockSignals(True)
        if shown is None:
            header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        else:
            column, descending = shown
            order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
            header.setSortIndicator(column, order)
        header.blockSignals(False)

    def _sort(self, column: int, order: Qt.SortOrder) -> None:
        descending = order == Qt.SortOrder.DescendingOrder
        if self.model.set_sort(column, descending=descending):
            self.prefs.set_table_sort(self.state_key, self.model.sort)
            self.reload_requested.emit()
        else:  # a column the server cannot sort by: the arrow stays where the rows are
            self._show_sort()

    def _go(self, step: int) -> None:
        self._go_to(self.model.page + step)

    def _go_to(self, page: int) -> None:
        if self.model.go_to(page):
            self._update_pager()  # the buttons follow at once, not when the rows arrive
            self.reload_requested.emit()

    def _jump(self) -> None:
        text = self.jump.text()
        self.jump.clear()
        if text.isdigit():
            self._go_to(min(int(text), self.model.pages))

    def _resize_page(self) -> None:
        size = int(self.page_sizes.currentData())
        self.prefs.set_page_size(self.state_key, size)
        if self.model.set_page_size(size):
            self.reload_requested.emit()

    def _update_pager(self) -> None:
        m = self.model
        if not self._sized and m.rows:
            self.fit_columns()
            self._sized = True
        if m.filled and m.total == 0:
            self.info.setText("没有符合条件的记录")
        else:
            self.info.setText(f"共 {m.total} 条，第 {m.page}/{m.pages} 页")
        for button, enabled in (
            (self.first, m.page > 1),
            (self.prev, m.page > 1),
            (self.next, m.page < m.pages),
            (self.last, m.page < m.pages),
        ):
            button.setEnabled(enabled)
        self.jump.setPlaceholderText(f"1-{m.pages}" if m.pages > 1 else "")
        self.jump.setEnabled(m.pages > 1)
        if self._sized:  # an empty first list must not save default widths over a fit to come
            self.prefs.set_geometry(
                f"table/{self.state_key}", self.view.horizontalHeader().saveState()
            )

    def fit_columns(self) -> None:
        """Columns as wide as their content, none wider than ``MAX_COLUMN_WIDTH``, and together
        within the view where that cuts no heading and no column kept whole (``Column.whole``:
        an ID number cut short is no ID number): the column with the most to spare gives way
        first, so a long name does not push 办理期限 off the screen.

        The widths are the content's (cells and heading), not the sections' as they stand: the
        last section stretches to fill the view, and counting that stretch as content made the
        others give way for room nobody needed."""
        header = self.view.horizontalHeader()
        count = header.count()
        whole = [c < len(self.model.columns) and self.model.columns[c].whole for c in range(count)]
        heading = [header.sectionSizeHint(c) for c in range(count)]
        content = [max(self.view.sizeHintForColumn(c), heading[c]) for c in range(count)]
        widths = [w if whole[c] else min(w, MAX_COLUMN_WIDTH) for c, w in enumerate(content)]
        floors = [w if whole[c] else min(heading[c], w) for c, w in enumerate(widths)]
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
        """``handler(row)`` on a double-click on a row, or Enter while the table has the focus
        (only then: Enter in a search field of the page stays the field's)."""
        self.view.doubleClicked.connect(lambda index: handler(self.model.row_at(index.row())))

        def current() -> None:
            index = self.view.currentIndex()
            if index.isValid():
                handler(self.model.row_at(index.row()))

        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(key), self.view, current)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
