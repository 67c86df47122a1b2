"""考试报名 and 考试安排 as plain state: the lists' columns, filters and counts, and the text of a
pass rule. The status of an enrolment is the server's (``status_label``); nothing here derives
it. Pages read the filters from their widgets into these models and ask them for ``params()``.
"""

from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any

from client.formatting import local_time
from client.models.table import Column, PagedRows
from shared.china_time import china_time
from shared.exams import EnrolmentStatus, PassRule
from shared.regions import GROUPING_NAMES, region_table

# the chips of 考试报名, in pipeline order (审批中, 不予制证, 已退回, 已撤回 show only when counted)
PIPELINE = (
    EnrolmentStatus.screening,
    EnrolmentStatus.fingerprint,
    EnrolmentStatus.payment,
    EnrolmentStatus.awaiting_exam,
    EnrolmentStatus.scheduled,
    EnrolmentStatus.awaiting_scores,
    EnrolmentStatus.failed,
    EnrolmentStatus.certificate_review,
    EnrolmentStatus.awaiting_print,
    EnrolmentStatus.issued,
)
OCCASIONAL = (
    EnrolmentStatus.in_review,
    EnrolmentStatus.certificate_refused,
    EnrolmentStatus.returned,
    EnrolmentStatus.withdrawn,
)


def day(value: datetime | None) -> str:
    return "" if value is None else f"{china_time(value):%Y-%m-%d}"


def region(code: str) -> str:
    """The region's own name (西湖区): the list is already within the clerk's province."""
    found = region_table().get(code)
    return found.name if found is not None else code


def hours(row: Any) -> str:
    """课程学习进度 as 已学/应学 学时 (empty: no training record)."""
    if row.hours_done is None or row.hours_required is None:
        return ""
    return f"{row.hours_done}/{row.hours_required}"


class _HoursColumn(Column):
    def text(self, row: Any) -> str:
        return hours(row)


ENROLMENT_COLUMNS = [
    Column("number", "申请编号", sort_key="number"),
    Column("name", "姓名", sort_key="name"),
    Column("id_number", "身份证号", whole=True),
    Column("region_code", "所属地区", sort_key="region_code", render=region),
    Column("training_unit", "培训单位"),
    Column("submitted_at", "报名日期", sort_key="submitted_at", render=day),
    Column("status_label", "流程状态", sort_key="status"),
    Column("paid", "缴费", render=lambda paid: "已缴费" if paid else "未缴费"),
    Column("admission_number", "准考证号"),
]
"""The exam's name and the course progress are the scheduling page's: with them the ID number
would not fit a 1366-px screen."""


class _WholeText:
    """Tooltips with the whole text of a cell a narrow column cuts (long names, addresses)."""

    def tooltip(self: Any, row: int, column: int) -> str | None:
        text: str = self.text(row, column)
        return text or None


@dataclass
class EnrolmentFilters:
    status: str | None = None
    region: str | None = None
    training_unit: str | None = None
    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def _apply(filters: EnrolmentFilters, changes: dict[str, Any]) -> bool:
    """Set the named filters (free text trimmed); True if any changed."""
    known = {f.name for f in fields(EnrolmentFilters)}
    if set(changes) - known:
        raise TypeError(f"unknown enrolment filters: {sorted(set(changes) - known)}")
    before = replace(filters)
    for name, value in changes.items():
        setattr(filters, name, _clean(value) if name in ("training_unit", "q") else value)
    return filters != before


def _query(f: EnrolmentFilters, *, status: bool) -> dict[str, Any]:
    """The filters as query parameters (the picker has no status: it lists eligible ones)."""
    params: dict[str, Any] = {
        "status": f.status if status else None,
        "region": f.region,
        "training_unit": f.training_unit,
        "q": f.q,
    }
    if f.date_from is not None and f.date_to is not None:
        params["date_from"], params["date_to"] = f.date_from.isoformat(), f.date_to.isoformat()
    return {k: v for k, v in params.items() if v is not None}


class EnrolmentListModel(_WholeText, PagedRows):
    """保安员资格证考试报名: the rows of a page and the counts per status of the last answer
    (under every filter but the status, as the server counts them)."""

    def __init__(self, page_size: int = 50) -> None:
        super().__init__(ENROLMENT_COLUMNS, page_size)
        self.filters = EnrolmentFilters()
        self.counts: dict[str, int] = {}

    def set_filters(self, **changes: Any) -> bool:
        """True if a filter changed (the next fetch starts at page 1)."""
        if not _apply(self.filters, changes):
            return False
        self.page = 1
        return True

    def params(self) -> dict[str, Any]:
        return {**self.request(), **_query(self.filters, status=True)}

    def export_query(self) -> dict[str, Any]:
        params = self.params()
        del params["page"], params["page_size"]
        return params

    def fill_page(self, page: Any) -> None:
        self.counts = dict(page.counts)
        self.fill(page.items, page.total)

    @property
    def counted_total(self) -> int:
        return sum(self.counts.values())

    def chips(self) -> list[tuple[str | None, str]]:
        """(status or None for 全部, label with its count): the pipeline's statuses always, the
        occasional ones when some enrolment has them or the list is filtered by it (the last
        不予制证 resubmitted, its chip stays, at 0, while chosen)."""
        out: list[tuple[str | None, str]] = [(None, f"全部（{self.counted_total}）")]
        for status in (*PIPELINE, *OCCASIONAL):
            n = self.counts.get(status.value, 0)
            if status in PIPELINE or n or status.value == self.filters.status:
                out.append((status.value, f"{status.label}（{n}）"))
        return out


def region_choices(own_region: str) -> list[tuple[str, str]]:
    """(code, name) of the caller's region and the regions under it to the county level, the
    region filter's choices (the server includes lower levels and keeps to the caller's scope)."""
    table = region_table()
    own = table.get(own_region)
    if own is None:
        return []
    out = [(own.code, own.name)]
    for region in table.descendants(own.code):
        if region.name in GROUPING_NAMES:
            continue
        parent = table.get(region.parent) if region.parent else None
        prefix = "　" if parent is not None and parent.code != own.code else ""
        out.append((region.code, prefix + region.name))
    return out


# -- 考试安排 ---------------------------------------------------------------------------------


class _SeatsColumn(Column):
    def text(self, row: Any) -> str:
        return f"{row.candidates}/{row.seats}"


def exam_time(row: Any) -> str:
    """2026-06-01 09:00—11:00 (the end's date only when it differs)."""
    start, end = china_time(row.starts_at), china_time(row.ends_at)
    tail = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}—{tail}"


class _TimeColumn(Column):
    def text(self, row: Any) -> str:
        return exam_time(row)


EXAM_COLUMNS = [
    Column("status_label", "状态"),
    Column("name", "考试名称"),
    _TimeColumn("starts_at", "考试时间"),
    Column("address", "考试地址"),
    _SeatsColumn("seats", "已安排/考位"),
    Column("org_name", "组织单位"),
    Column("published_at", "发布时间", render=local_time),
]


class ExamListModel(_WholeText, PagedRows):
    def __init__(self, page_size: int = 20) -> None:
        super().__init__(EXAM_COLUMNS, page_size)
        self.status: str | None = None

    def params(self) -> dict[str, Any]:
        params = {"page": self.page, "page_size": self.page_size, "status": self.status}
        return {k: v for k, v in params.items() if v is not None}

    def replace(self, exam: Any) -> None:
        """An exam the server answered after a change, in place of its row."""
        for index, row in enumerate(self.rows):
            if row.id == exam.id:
                self.resetting.emit()
                self.rows[index] = exam
                self.reset.emit()
                return


CANDIDATE_COLUMNS = [
    Column("admission_number", "准考证号"),
    Column("name", "姓名"),
    Column("id_number", "身份证号", whole=True),
    Column("region_code", "所属地区", render=region),
    Column("training_unit", "培训单位"),
    Column("application_number", "申请编号"),
]

PICKER_COLUMNS = [
    Column("name", "姓名", sort_key="name"),
    Column("id_number", "身份证号", whole=True),
    _HoursColumn("hours_done", "课程学习进度", sort_key="hours_done"),
    Column("training_unit", "培训单位"),
    Column("region_code", "所属地区", sort_key="region_code", render=region),
    Column("submitted_at", "报名日期", sort_key="submitted_at", render=day),
    Column("decided_at", "审批完成", sort_key="decided_at", render=day),
    Column("number", "申请编号"),
]


class EligibleModel(_WholeText, PagedRows):
    """添加人员: enrolments the server says may sit this exam, with their course progress."""

    def __init__(self, exam_id: int, page_size: int = 50) -> None:
        super().__init__(PICKER_COLUMNS, page_size)
        self.exam_id = exam_id
        self.filters = EnrolmentFilters()

    def set_filters(self, **changes: Any) -> bool:
        if not _apply(self.filters, changes):
            return False
        self.page = 1
        return True

    def params(self) -> dict[str, Any]:
        return {**self.request(), **_query(self.filters, status=False)}


def mark(value: float) -> str:
    return f"{value:g}"


def rule_lines(rule: PassRule) -> list[str]:
    """Each subject as 理论：满分 100，合格 60; then the total's pass mark, if any."""
    lines = []
    for subject in rule.subjects:
        passing = f"，合格 {mark(subject.pass_mark)}" if subject.pass_mark is not None else ""
        lines.append(f"{subject.name}：满分 {mark(subject.full_mark)}{passing}")
    if rule.total_pass_mark is not None:
        lines.append(f"总分合格 {mark(rule.total_pass_mark)}")
    return lines
