"""保安员资格证: the list's columns, filters and paging as plain state, and which actions the
selected card allows — shown before the clerk tries; the server decides again.

No widgets here: the page (``client/views/certificates/page.py``) reads the filter widgets into
``set_filters`` and asks ``actions`` what to grey, with the reason as the button's tooltip.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from client.formatting import local_time
from client.models.table import Column, PagedRows
from shared.certificates import CertificateStatus, PrintState


def _day(value: Any) -> str:
    return local_time(value)[:10] if value is not None else ""


COLUMNS = [
    Column("number", "证书编号", "number", whole=True),
    Column("holder_name", "姓名", "holder_name"),
    Column("gender_label", "性别"),
    Column("id_number", "身份证号", whole=True),
    Column("issuing_authority", "发证机关"),
    Column("issued_at", "发证日期", "issued_at", render=_day),
    Column("edition", "版次"),
    Column("status_label", "证书状态", "status"),
    Column("print_state_label", "打印状态", "print_state"),
    Column("printed_at", "打印时间", "printed_at", render=local_time),
    Column("has_photo", "照片", render=lambda has: "有" if has else "无"),
]


@dataclass(frozen=True)
class CertificateFilters:
    status: str | None = None
    print_state: str | None = None
    region_code: str | None = None
    exam_id: int | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    has_photo: bool | None = None
    q: str | None = None


class CertificateRows(PagedRows):
    def __init__(self, page_size: int = 20) -> None:
        super().__init__(list(COLUMNS), page_size)
        self.filters = CertificateFilters()

    def set_filters(self, **values: Any) -> bool:
        """New filter values (text stripped, empty = none); True and page 1 if any changed."""
        if isinstance(values.get("q"), str):
            values["q"] = values["q"].strip() or None
        changed = CertificateFilters(**{**asdict(self.filters), **values})
        if changed == self.filters:
            return False
        self.filters = changed
        self.page = 1
        return True

    def query(self) -> dict[str, Any]:
        """The filters and sort as the list endpoint takes them (no paging)."""
        params: dict[str, Any] = {k: v for k, v in asdict(self.filters).items() if v is not None}
        for key in ("issued_from", "issued_to"):
            if key in params:
                params[key] = params[key].isoformat()
        if self.sort:
            params["sort"] = self.sort
        return params

    def params(self) -> dict[str, Any]:
        return {**self.query(), "page": self.page, "page_size": self.page_size}

    def flagged(self, row: int) -> bool:
        """A print that did not complete stands out."""
        return bool(self.rows[row].print_state == PrintState.print_failed.value)


# -- what the selected card allows ----------------------------------------------------------------
NO_SELECTION = "请先在列表中选择一张证书"
NO_RIGHT = "您没有该操作的权限"


@dataclass(frozen=True)
class Availability:
    allowed: bool
    reason: str = ""


ACTIONS = ("preview", "print", "reprint", "reissue", "correct", "revoke", "cancel")
_RIGHTS = {
    "preview": "certificates:view",
    "print": "certificates:print",
    "reprint": "certificates:reprint",
    "reissue": "certificates:reissue",
    "correct": "certificates:reissue",
    "revoke": "certificates:revoke",
    "cancel": "certificates:cancel",
}


def availability(card: Any | None, action: str, permissions: frozenset[str]) -> Availability:
    """Whether ``action`` may be tried on ``card`` (a ``CertificatePublic``), and if not why."""
    reason = _refusal(card, action, permissions)
    return Availability(not reason, reason)


def _refusal(card: Any | None, action: str, permissions: frozenset[str]) -> str:
    if _RIGHTS[action] not in permissions:
        return NO_RIGHT
    if card is None:
        return NO_SELECTION
    if action == "preview":
        return ""
    if card.status != CertificateStatus.active.value:
        return f"该证书{card.status_label}，不能执行该操作"
    return _print_refusal(card, action) if action in ("print", "reprint") else ""


def _print_refusal(card: Any, action: str) -> str:
    if not card.has_photo:
        return "该证书没有照片，不能打印；请先通过更正换发补充照片"
    printed = card.print_state == PrintState.printed.value
    if action == "print" and printed:
        return "该证书已打印；再次打印请使用补打"
    if action == "reprint" and not printed:
        return "该证书尚未打印，请直接打印"
    return ""
