"""Import of the local watch list (本地比对名单) from xlsx or csv: every row valid, or nothing.

Columns by header (first sheet / first line): 身份证号, 姓名, 类别, 来源, and optionally 列入日期
(yyyy-mm-dd). 类别 is the Chinese label (刑事犯罪) or the code (criminal_record). A row updates the
entry with the same ID number, category and source (name and listed date), or adds one.

CSV files may be UTF-8 (with or without BOM, as Excel saves them) or GBK, which older police
systems still export; GB 18030 is read as the superset of GBK.
"""

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import WatchListEntry
from server.services import audit
from server.services.audit import Actor
from server.services.errors import AppError
from server.services.spreadsheets import ImportLimits, invalid, read_sheet
from shared.approvals import ScreeningCategory
from shared.audit_actions import AuditAction, AuditEntity
from shared.china_time import china_day
from shared.errors import ErrorCode
from shared.idnumber import IdNumberError, normalise_id_number

COLUMNS = ("身份证号", "姓名", "类别", "来源", "列入日期")
_REQUIRED = COLUMNS[:4]
_CHUNK = 500

Key = tuple[str, str, str]


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class _Row:
    number: int
    id_number: str
    name: str
    category: ScreeningCategory
    source: str
    listed_date: date | None

    @property
    def key(self) -> Key:
        return (self.id_number, self.category.value, self.source)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(path: Path, limits: ImportLimits) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as the clerk sees it, raw values by header) for each non-empty row."""
    sheet = read_sheet(path, limits)
    if not sheet:
        raise AppError(ErrorCode.IMPORT_INVALID, "导入文件为空")
    header = [_text(v) for v in sheet[0]]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise invalid(
            [{"row": 1, "column": c, "message": "缺少该列"} for c in missing],
            f"缺少列：{'、'.join(missing)}，未导入任何数据",
        )
    for number, values in enumerate(sheet[1:], start=2):
        row = {name: values[i] if i < len(values) else None for i, name in enumerate(header)}
        if any(_text(v) for v in row.values()):
            yield number, row


def _category(text: str) -> ScreeningCategory | None:
    for member in ScreeningCategory:
        if text in (member.value, member.label):
            return member
    return None


def _listed_date(value: object, today: date) -> tuple[date | None, str]:
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        text = _text(value)
        if not text:
            return None, ""
        try:
            value = date.fromisoformat(text)
        except ValueError:
            return None, f"日期“{text}”格式应为 yyyy-mm-dd"
    if value > today:
        return None, "列入日期晚于今天"
    return value, ""


RowErrors = list[dict[str, Any]]


def _validate(number: int, raw: dict[str, Any], today: date) -> tuple[_Row | None, RowErrors]:
    problems: RowErrors = []

    def problem(column: str, message: str) -> None:
        problems.append({"row": number, "column": column, "message": message})

    for column in _REQUIRED:
        if not _text(raw.get(column)):
            problem(column, "必填")
    id_number = ""
    if isinstance(raw.get("身份证号"), int | float):
        problem("身份证号", "身份证号须按文本格式填写（数字格式会丢失末几位）")
    elif _text(raw.get("身份证号")):
        try:
            id_number = normalise_id_number(_text(raw["身份证号"]), today=today)
        except IdNumberError as err:
            problem("身份证号", str(err))
    name, source = _text(raw.get("姓名")), _text(raw.get("来源"))
    if len(name) > 50:
        problem("姓名", "姓名不能超过50个字")
    if len(source) > 100:
        problem("来源", "来源不能超过100个字")
    category = _category(_text(raw.get("类别")))
    if _text(raw.get("类别")) and category is None:
        labels = "、".join(c.label for c in ScreeningCategory)
        problem("类别", f"未知的类别“{_text(raw['类别'])}”，可选：{labels}")
    listed, why = _listed_date(raw.get("列入日期"), today)
    if why:
        problem("列入日期", why)
    if problems or category is None:
        return None, problems
    return _Row(number, id_number, name, category, source, listed), []


def _existing(session: Session, rows: list[_Row]) -> dict[Key, WatchListEntry]:
    ids = sorted({r.id_number for r in rows})
    found: dict[Key, WatchListEntry] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for entry in session.scalars(
            select(WatchListEntry).where(WatchListEntry.id_number.in_(chunk))
        ):
            found[(entry.id_number, entry.category, entry.source)] = entry
    return found


def import_watch_list(
    session: Session,
    path: Path,
    *,
    now: datetime,
    actor: Actor,
    limits: ImportLimits | None = None,
    source_name: str | None = None,
) -> ImportReport:
    """Validate every row, then add or update; flushes and leaves the commit to the caller.
    ``source_name``: the file's name as uploaded, for the audit record (default: ``path``'s)."""
    rows: list[_Row] = []
    errors: list[dict[str, Any]] = []
    first_seen: dict[Key, int] = {}
    for number, raw in read_rows(path, limits or ImportLimits()):
        row, problems = _validate(number, raw, china_day(now))
        errors.extend(problems)
        if row is None:
            continue
        if row.key in first_seen:
            message = f"与第{first_seen[row.key]}行重复（身份证号、类别、来源相同）"
            errors.append({"row": number, "column": "身份证号", "message": message})
            continue
        first_seen[row.key] = number
        rows.append(row)
    if errors:
        raise invalid(errors)
    if not rows:
        raise AppError(ErrorCode.IMPORT_INVALID, "导入文件没有数据行")
    existing = _existing(session, rows)
    added = updated = 0
    for row in rows:
        entry = existing.get(row.key)
        if entry is None:
            session.add(
                WatchListEntry(
                    id_number=row.id_number,
                    name=row.name,
                    category=row.category.value,
                    source=row.source,
                    listed_date=row.listed_date,
                    imported_at=now,
                )
            )
            added += 1
        elif (entry.name, entry.listed_date) != (row.name, row.listed_date):
            entry.name, entry.listed_date, entry.imported_at = row.name, row.listed_date, now
            updated += 1
    session.flush()
    report = ImportReport(added, updated, len(rows) - added - updated)
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.WATCHLIST_IMPORT,
        entity_type=AuditEntity.WATCH_LIST,
        after={"file": source_name or path.name, **asdict(report)},
    )
    return report


def write_template(path: Path) -> None:
    """An xlsx with the headers on the first sheet (the one imported) and the ID column as text,
    plus a sheet of instructions. The example stays off the imported sheet, so a template sent
    back unchanged cannot put anyone on the watch list."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "比对名单"
    sheet.append(list(COLUMNS))
    for column, width in zip("ABCDE", (24, 12, 22, 30, 14), strict=True):
        sheet.column_dimensions[column].width = width
    for row in range(2, 502):
        sheet.cell(row=row, column=1).number_format = "@"
    notes = workbook.create_sheet("填写说明")
    notes.append(["列", "是否必填", "说明"])
    notes.append(["身份证号", "必填", "18位身份证号，请按文本格式填写，末位X大小写均可"])
    notes.append(["姓名", "必填", "不超过50个字"])
    categories = "、".join(f"{c.label}（{c.value}）" for c in ScreeningCategory)
    notes.append(["类别", "必填", f"填写中文名称或代码：{categories}"])
    notes.append(["来源", "必填", "列入名单的单位或数据来源，如“杭州市公安局”"])
    notes.append(["列入日期", "选填", "格式 yyyy-mm-dd，如 2020-01-01"])
    notes.append([])
    notes.append(
        ["同一身份证号、类别、来源再次导入时，更新姓名和列入日期；任一行有误则不导入任何数据。"]
    )
    for column, width in zip("ABC", (12, 10, 90), strict=True):
        notes.column_dimensions[column].width = width
    workbook.save(path)
