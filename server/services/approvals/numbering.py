"""Gap-free numbers (application numbers, certificate numbers) from locked counter rows.

The row is created on first use with INSERT … ON CONFLICT DO NOTHING so two first users never
collide, then incremented with UPDATE … RETURNING, which holds the row lock until commit.
"""

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.db.approval_models import NumberSequence


def next_value(session: Session, name: str) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(NumberSequence).values(name=name, value=0).on_conflict_do_nothing())
    value: int = session.execute(
        update(NumberSequence)
        .where(NumberSequence.name == name)
        .values(value=NumberSequence.value + 1)
        .returning(NumberSequence.value)
    ).scalar_one()
    return value


def application_number(session: Session, year: int) -> str:
    """``SQ2026000123``: 申请 + year + a serial that restarts every year."""
    return f"SQ{year}{next_value(session, f'application:{year}'):06d}"
