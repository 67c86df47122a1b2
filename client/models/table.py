"""One page of a server-paged, server-sorted list, as plain state.

The model holds the columns, the rows of the current page, the total, the page, the page size
and the sort; a view asks it for ``request()`` (what to fetch next), a job fetches, and ``fill``
puts the answer in. ``resetting``/``reset`` bracket every change of rows or columns (a Qt table
adapter in ``client.qt`` turns them into begin/endResetModel); ``page_changed`` follows every
fill, for the pager.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psygnal import Signal

PAGE_SIZES = (20, 50, 100)  # what the pager offers; the server allows up to 5000


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    sort_key: str | None = None  # the server's ``sort`` name; None = not sortable
    render: Callable[[Any], str] | None = None
    whole: bool = False
    """Never narrowed below its content to fit the view: a value that means nothing cut short
    (an ID or certificate number). Other columns give way first, down to their heading."""

    def text(self, row: Any) -> str:
        value = getattr(row, self.key)
        if self.render is not None:
            return self.render(value)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "是" if value else "否"
        return str(value)


class PagedRows:
    resetting = Signal()
    reset = Signal()
    page_changed = Signal()

    def __init__(self, columns: list[Column], page_size: int = 20) -> None:
        self.columns = columns
        self.rows: list[Any] = []
        self.total = 0
        self.page = 1
        self.page_size = page_size
        self.sort: str | None = None
        self.filled = False  # a page has come back: "0 rows" is an answer, not a wait

    # -- what a job needs to fetch the next page ---------------------------------------------
    def request(self) -> dict[str, Any]:
        return {"page": self.page, "page_size": self.page_size, "sort": self.sort}

    def set_sort(self, column: int, *, descending: bool = False) -> bool:
        """Sort by the column's server key (and go back to page 1); False if not sortable."""
        key = self.columns[column].sort_key
        if key is None:
            return False
        self.sort = f"-{key}" if descending else key
        self.page = 1
        return True

    def restore_sort(self, sort: str | None) -> bool:
        """A sort remembered from an earlier session (``"-name"``), if a column still sorts by
        it; sent with the first load, so the rows match the arrow the header shows."""
        key = (sort or "").removeprefix("-")
        if not key or not any(c.sort_key == key for c in self.columns):
            return False
        self.sort = sort
        return True

    def sort_column(self) -> tuple[int, bool] | None:
        """(column, descending) of the current sort, for a header to show it again."""
        if self.sort is None:
            return None
        key = self.sort.removeprefix("-")
        for index, column in enumerate(self.columns):
            if column.sort_key == key:
                return index, self.sort.startswith("-")
        return None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def go(self, step: int) -> bool:
        """Move ``step`` pages if that page exists; True if the page changed."""
        return self.go_to(self.page + step)

    def go_to(self, page: int) -> bool:
        if page == self.page or not 1 <= page <= self.pages:
            return False
        self.page = page
        return True

    def set_page_size(self, size: int) -> bool:
        """Rows per page; the page changes so that the first row now shown stays in view. True
        if the size changed (fetch again)."""
        if size < 1 or size == self.page_size:
            return False
        first = (self.page - 1) * self.page_size
        self.page_size = size
        self.page = first // size + 1
        return True

    @property
    def first_row(self) -> int:
        """The 1-based number of the first row of the page (0 when the list is empty)."""
        return 0 if not self.rows else (self.page - 1) * self.page_size + 1

    def fill(self, rows: list[Any], total: int) -> None:
        self.resetting.emit()
        self.rows, self.total, self.filled = list(rows), total, True
        self.reset.emit()
        self.page_changed.emit()

    def set_columns(self, columns: list[Column]) -> None:
        """Other columns (another box of the inbox): no rows until fetched again; the sort stays
        if a new column sorts by the same key (申请编号 in both boxes), else there is none."""
        self.resetting.emit()
        self.columns, self.rows, self.filled = columns, [], False
        if not self.restore_sort(self.sort):
            self.sort = None
        self.reset.emit()

    def row_at(self, row: int) -> Any:
        return self.rows[row]

    def text(self, row: int, column: int) -> str:
        return self.columns[column].text(self.rows[row])

    def tooltip(self, row: int, column: int) -> str | None:
        return None

    def flagged(self, row: int) -> bool:
        """Whether the row should stand out (the inbox's overdue rows)."""
        return False
