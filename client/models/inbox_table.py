"""The inbox as plain state: the box (pending / done), the filters, the sort, the page and the
page size, and the rows of the current page with overdue steps flagged (超期 in the time-limit
column; the list shows flagged rows in ``client.views.style.OVERDUE``) so they stand out without
opening anything.

``params()`` is what ``LoadInbox`` sends; the page fills the filters from its widgets and reads
them back from here, so a later change (restoring a sort, jumping to a page) touches one place.
"""

from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from client.formatting import local_time
from client.models.table import Column, PagedRows
from shared.approvals import InboxBox


def due_text(row: Any) -> str:
    due: date | None = row.due_date
    if due is None:
        return ""
    return f"{due:%Y-%m-%d}" + ("（超期）" if row.overdue else "")


class _DueColumn(Column):
    """办理期限 with （超期） after a date already past: on screen and in an export alike."""

    def text(self, row: Any) -> str:
        return due_text(row)


PENDING_COLUMNS = [
    Column("number", "申请编号", sort_key="number"),
    Column("business_type_label", "业务类型", sort_key="business_type"),
    Column("applicant_name", "申请人", sort_key="applicant_name"),
    Column("step_name", "当前环节"),
    Column("submitted_at", "提交时间", sort_key="submitted_at", render=local_time),
    _DueColumn("due_date", "办理期限", sort_key="due_date"),
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


@dataclass
class InboxFilters:
    box: str = InboxBox.pending.value
    business_type: str | None = None
    status: str | None = None  # only in the done box
    overdue: bool = False  # only in the pending box
    applicant: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def pending(self) -> bool:
        return self.box == InboxBox.pending.value


class InboxModel(PagedRows):
    def __init__(self, page_size: int = 50) -> None:
        super().__init__(PENDING_COLUMNS, page_size)
        self.filters = InboxFilters()
        self.counts: Any = None  # InboxCounts of the last answer that carried them

    def set_filters(self, **changes: Any) -> bool:
        """Change filters (names of ``InboxFilters``); a new box brings its own columns. True
        if a filter changed; the next fetch then starts at page 1 (a filter widget that applies
        at once fetches only then)."""
        known = {f.name for f in fields(InboxFilters)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown inbox filters: {sorted(unknown)}")
        before = replace(self.filters)
        box_changed = "box" in changes and changes["box"] != self.filters.box
        for name, value in changes.items():
            setattr(self.filters, name, value)
        if box_changed:
            self.set_columns(PENDING_COLUMNS if self.filters.pending else DONE_COLUMNS)
        if self.filters == before:
            return False
        self.page = 1
        return True

    def params(self, *, with_counts: bool = True) -> dict[str, Any]:
        f = self.filters
        params: dict[str, Any] = {
            **self.request(),
            "box": f.box,
            "business_type": f.business_type,
            "applicant": (f.applicant or "").strip() or None,
        }
        if not f.pending:
            params["status"] = f.status
        elif f.overdue:
            params["overdue"] = True
        if f.date_from is not None and f.date_to is not None:
            params["date_from"], params["date_to"] = f.date_from.isoformat(), f.date_to.isoformat()
        if with_counts:
            params["with_counts"] = True
        return {k: v for k, v in params.items() if v is not None}

    def export_query(self) -> dict[str, Any]:
        """The current box, filters and sort without the page: every matching row (导出)."""
        params = self.params(with_counts=False)
        del params["page"], params["page_size"]
        return params

    @property
    def export_title(self) -> str:
        return str(InboxBox(self.filters.box).label)

    def fill_page(self, page: Any) -> None:
        """An ``InboxPage`` answer: rows, total, and the per-type counts when it has them."""
        if page.counts is not None:
            self.counts = page.counts
        self.fill(page.items, page.total)

    @property
    def overdue_on_page(self) -> int:
        return sum(1 for row in self.rows if getattr(row, "overdue", False))

    def flagged(self, row: int) -> bool:
        return bool(getattr(self.rows[row], "overdue", False))

    def tooltip(self, row: int, column: int) -> str | None:
        return "已超过办理期限" if self.flagged(row) else None
