"""Paging of every list: the bounds of ``?page=`` and ``?page_size=`` live here, in one place.

A page number is bounded so that its offset (page × size) stays a small 64-bit number on both
databases: ``?page=10**30`` answers 422, not an overflow inside the driver (500).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Ge, Le
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

_TOTAL = func.count().over().label("page_total")
MAX_PAGE_SIZE = 5000
MAX_PAGE = 1_000_000

PageNumber = Annotated[int, Ge(1), Le(MAX_PAGE)]
"""``?page=``: 1 … ``MAX_PAGE``; every list endpoint declares its page with this type."""


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = 20
    sort: str | None = None  # "field" or "-field"

    @property
    def offset(self) -> int:
        return (min(max(self.page, 1), MAX_PAGE) - 1) * self.limit

    @property
    def limit(self) -> int:
        return min(max(self.page_size, 1), MAX_PAGE_SIZE)


def order_by(stmt: Any, page: PageRequest, columns: dict[str, Any], default: str) -> Any:
    """Apply ``?sort=`` from a whitelist; unknown keys fall back to the default order."""
    key = page.sort or default
    descending = key.startswith("-")
    column = columns.get(key.lstrip("-"))
    if column is None:  # not ``or``: a ``COLLATE`` expression has no truth value
        column = columns[default.lstrip("-")]
    return stmt.order_by(column.desc() if descending else column.asc())


def fetch_page(session: Session, stmt: Select[Any], page: PageRequest) -> tuple[Sequence[Any], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = session.scalars(stmt.offset(page.offset).limit(page.limit)).all()
    return items, total


def fetch_rows(session: Session, stmt: Any, page: PageRequest) -> tuple[Sequence[Any], int]:
    """A page of plain rows (a select of columns, not of entities) and the total, in one round
    trip: the total is a window count beside each row (``page_total``, after the statement's
    own columns), read on the session's connection past the ORM's statement handling. A page
    past the end has no row to carry it; only then is it counted on its own."""
    connection = session.connection()
    rows = connection.execute(stmt.add_columns(_TOTAL).offset(page.offset).limit(page.limit)).all()
    if rows:
        return rows, rows[0].page_total
    if page.offset == 0:
        return rows, 0
    return rows, connection.scalar(
        select(func.count()).select_from(stmt.order_by(None).subquery())
    ) or 0
