"""Gap-free numbers (application numbers, certificate numbers) from locked counter rows.

One statement takes the next number: ``INSERT … ON CONFLICT (name) DO UPDATE SET value =
value + 1 RETURNING value``. It creates the row on first use (two first users never collide:
the second waits on the first's insert and then increments) and holds the row lock until
commit, so a rolled-back transaction gives its number back and none is skipped or shared.
"""

from typing import cast

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from server.db.approval_models import NumberSequence

_TABLE = cast(Table, NumberSequence.__table__)


def _take(insert: type[Insert]) -> Insert:
    stmt = insert(_TABLE).values(name=bindparam("name"), value=1)
    return stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[_TABLE.c.name], set_={"value": _TABLE.c.value + 1}
    ).returning(_TABLE.c.value)


_TAKE = {"postgresql": _take(postgresql.Insert), "sqlite": _take(sqlite.Insert)}
"""Built once per dialect, so each call reuses the compiled statement."""


def next_value(session: Session, name: str) -> int:
    stmt = _TAKE[session.get_bind().dialect.name]
    value: int = session.connection().execute(stmt, {"name": name}).scalar_one()
    return value


def application_number(session: Session, year: int) -> str:
    """``SQ2026000123``: 申请 + year + a serial that restarts every year."""
    return f"SQ{year}{next_value(session, f'application:{year}'):06d}"
