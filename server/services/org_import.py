"""Bulk import of organisations from an xlsx sheet: all rows or none.

Columns (first sheet, header row): 机构名称, 上级机构, 机构类型, 行政区划代码, 联系电话, 地址.
上级机构 is a name when that is unambiguous, or a path such as ``浙江省公安厅/杭州市公安局``;
a parent may be a row earlier in the same file.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Org
from server.services import audit
from server.services.audit import Actor
from server.services.errors import AppError
from server.services.orgs import add_org, check_placement, snapshot
from server.services.spreadsheets import ImportLimits, invalid, read_sheet
from shared.audit_actions import AuditAction, AuditEntity
from shared.enums import OrgType
from shared.errors import ErrorCode
from shared.schemas.common import plain_name
from shared.schemas.orgs import OrgCreate
from shared.validation import field_errors

COLUMNS = ("机构名称", "上级机构", "机构类型", "行政区划代码", "联系电话", "地址")
_REQUIRED = COLUMNS[:4]
_FIELDS = {
    "name": "机构名称",
    "region_code": "行政区划代码",
    "phone": "联系电话",
    "address": "地址",
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _checked(
    number: int, row: dict[str, str], org_type: OrgType
) -> tuple[OrgCreate | None, list[RowError]]:
    """The row under the same rules as an organisation made on the desk (``OrgCreate``): the
    name read as it looks (nothing invisible, one line) and bounded, the phone and address
    bounded, so the file can bring in nothing the API would refuse."""
    try:
        data = OrgCreate(
            name=row["机构名称"],
            parent_id=1,  # resolved from 上级机构 by the caller; the schema only needs an id
            type=org_type,
            region_code=row["行政区划代码"],
            phone=row.get("联系电话") or None,
            address=row.get("地址") or None,
        )
    except ValidationError as err:
        problems = [
            RowError(number, _FIELDS.get(e["field"], e["field"]), e["message"])
            for e in field_errors(err.errors())
        ]
        return None, problems
    return data, []


def _org_type(text: str) -> OrgType | None:
    for member in OrgType:
        if text in (member.value, member.label):
            return member
    return None


class _Index:
    """Existing and pending organisations by full name path and by bare name."""

    def __init__(self, orgs: list[Org]) -> None:
        by_id = {o.id: o for o in orgs}
        self.by_path: dict[str, Org] = {}
        self.by_name: dict[str, list[Org]] = {}
        self._paths: dict[int, str] = {}  # id(org) → path; pending orgs have no id yet
        for org in orgs:
            self.add("/".join(by_id[i].name for i in org.lineage_ids if i in by_id), org)

    def add(self, path: str, org: Org) -> None:
        self.by_path[path] = org
        self.by_name.setdefault(org.name, []).append(org)
        self._paths[id(org)] = path

    def path_of(self, org: Org) -> str:
        return self._paths[id(org)]

    def resolve(self, ref: str) -> tuple[Org | None, str]:
        """``ref`` read as names are stored (``plain_name``), part by part of a path: a cell
        copied from a row above, invisible characters and all, finds that row's organisation."""
        ref = "/".join(plain_name(part) for part in ref.split("/"))
        if ref in self.by_path:
            return self.by_path[ref], ""
        matches = self.by_name.get(ref, [])
        if len(matches) == 1:
            return matches[0], ""
        if matches:
            return None, f"“{ref}”有{len(matches)}个同名机构，请写完整路径（用/分隔）"
        return None, f"找不到上级机构“{ref}”"


def read_rows(path: Path) -> list[dict[str, str]]:
    """Through the shared reader: the same file, unpacked-size and row limits as every import."""
    sheet = read_sheet(path, ImportLimits())
    if not sheet:
        raise AppError(ErrorCode.IMPORT_INVALID, "导入文件为空")
    header = [_cell(v) for v in sheet[0]]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise AppError(ErrorCode.IMPORT_INVALID, f"缺少列：{'、'.join(missing)}")
    rows = []
    for values in sheet[1:]:
        row = {name: _cell(values[i]) if i < len(values) else "" for i, name in enumerate(header)}
        rows.append(row)
    return rows


def import_orgs(session: Session, path: Path, *, now: datetime, actor: Actor) -> list[Org]:
    rows = read_rows(path)
    index = _Index(list(session.scalars(select(Org))))
    errors: list[RowError] = []
    created: list[Org] = []
    for number, row in enumerate(rows, start=2):
        if not any(row.values()):
            continue
        problems = [RowError(number, c, "必填") for c in _REQUIRED if not row.get(c)]
        org_type = _org_type(row.get("机构类型", ""))
        if row.get("机构类型") and org_type is None:
            problems.append(RowError(number, "机构类型", f"未知的机构类型“{row['机构类型']}”"))
        parent, why = index.resolve(row.get("上级机构", "")) if row.get("上级机构") else (None, "")
        if why:
            problems.append(RowError(number, "上级机构", why))
        if problems or parent is None or org_type is None:
            errors.extend(problems)
            continue
        data, problems = _checked(number, row, org_type)
        if data is None:
            errors.extend(problems)
            continue
        try:
            check_placement(org_type, data.region_code, parent)
        except AppError as err:
            errors.append(RowError(number, "行政区划代码", err.message))
            continue
        full_path = f"{index.path_of(parent)}/{data.name}"
        if full_path in index.by_path:
            errors.append(RowError(number, "机构名称", "同一上级机构下已有同名机构"))
            continue
        with session.no_autoflush:
            org = add_org(
                session,
                now=now,
                parent=parent,
                name=data.name,
                type=org_type,
                region_code=data.region_code,
                phone=data.phone,
                address=data.address,
            )
        index.add(full_path, org)
        created.append(org)
    if errors:
        session.rollback()
        raise invalid([e.as_dict() for e in errors])
    for org in created:
        audit.record(
            session,
            now=now,
            actor=actor,
            action=AuditAction.ORG_CREATE,
            entity_type=AuditEntity.ORG,
            entity_id=org.id,
            org_id=org.id,
            after={**snapshot(org), "source": path.name},
        )
    session.commit()
    return created


def write_template(path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "机构导入"
    sheet.append(list(COLUMNS))
    sheet.append(
        [
            "西湖派出所",
            "浙江省公安厅/杭州市公安局/西湖区公安分局",
            "派出所",
            "330106",
            "0571-87000000",
            "杭州市西湖区",
        ]
    )
    for column, width in zip("ABCDEF", (20, 40, 16, 14, 16, 30), strict=True):
        sheet.column_dimensions[column].width = width
    workbook.save(path)
