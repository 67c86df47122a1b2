"""Writes sent together (``server/db/write_behind``): on PostgreSQL they wait for the next
statement; whatever the engine, the transaction reads them back, keeps their order, loses them
on rollback and fails whole when one fails."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db import write_behind
from server.db.approval_models import NumberSequence, WatchListEntry
from server.db.session import LONG_STATEMENTS_CACHED, create_session_factory

SEQUENCES = write_behind.inserting(cast(Table, NumberSequence.__table__))
LISTED = write_behind.inserting(cast(Table, WatchListEntry.__table__))
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _listed(name: str) -> dict[str, Any]:
    return {
        "id_number": "330106198001010011",
        "name": name,
        "category": "criminal_record",
        "source": f"测试{name}",
        "listed_date": None,
        "imported_at": NOW,
    }


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with create_session_factory(engine)() as session:
        yield session


def _names(session: Session) -> list[str]:
    stmt = select(NumberSequence.name).where(NumberSequence.name.startswith("wb:"))
    return sorted(session.scalars(stmt))


def test_a_transaction_reads_back_what_it_queued(session: Session) -> None:
    conn = session.connection()
    write_behind.write(conn, SEQUENCES, {"name": "wb:a", "value": 1})
    write_behind.write(
        conn, SEQUENCES, [{"name": "wb:b", "value": 2}, {"name": "wb:c", "value": 3}]
    )
    assert _names(session) == ["wb:a", "wb:b", "wb:c"]  # the read sends them first
    session.commit()
    assert _names(session) == ["wb:a", "wb:b", "wb:c"]


def test_the_commit_sends_what_is_still_queued(engine: Engine, session: Session) -> None:
    write_behind.write(session.connection(), SEQUENCES, {"name": "wb:a", "value": 1})
    session.commit()
    with create_session_factory(engine)() as other:
        assert _names(other) == ["wb:a"]


def test_a_rollback_drops_the_queue(session: Session) -> None:
    write_behind.write(session.connection(), SEQUENCES, {"name": "wb:a", "value": 1})
    session.rollback()
    write_behind.write(session.connection(), SEQUENCES, {"name": "wb:b", "value": 2})
    session.commit()
    assert _names(session) == ["wb:b"]  # the rolled-back row is not sent with the next


def test_rows_keep_the_order_they_were_written_in(session: Session) -> None:
    """New keys follow the calls, and the rows of one call, as if each was sent at once (in one
    statement, PostgreSQL would choose the order of its parts)."""
    conn = session.connection()
    write_behind.write(conn, LISTED, _listed("一"))
    write_behind.write(conn, LISTED, [_listed("二"), _listed("三"), _listed("四")])
    write_behind.write(conn, LISTED, _listed("五"))
    session.commit()
    names = session.scalars(select(WatchListEntry.name).order_by(WatchListEntry.id))
    assert list(names) == ["一", "二", "三", "四", "五"]


def test_a_failing_write_fails_its_whole_transaction(engine: Engine, session: Session) -> None:
    conn = session.connection()
    write_behind.write(conn, SEQUENCES, {"name": "wb:a", "value": 1})
    with pytest.raises(IntegrityError):  # at once on SQLite, at the commit on PostgreSQL
        write_behind.write(conn, SEQUENCES, {"name": "wb:a", "value": 2})  # the same key again
        session.commit()
    session.rollback()
    with create_session_factory(engine)() as other:
        assert _names(other) == []


def test_postgresql_sends_the_queue_as_one_statement(engine: Engine, session: Session) -> None:
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    conn = session.connection()
    event.listen(engine, "before_cursor_execute", count)
    try:
        write_behind.write(conn, SEQUENCES, {"name": "wb:a", "value": 1})
        write_behind.write(conn, LISTED, [_listed("一"), _listed("二")])
        write_behind.write(conn, SEQUENCES, {"name": "wb:b", "value": 2})  # after wb:a: sends
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert _names(session) == ["wb:a", "wb:b"]
    assert len(sent) == (2 if engine.dialect.name == "postgresql" else 3)


def test_a_savepoint_keeps_what_came_before_and_drops_what_it_undoes(session: Session) -> None:
    """(The session emits SAVEPOINT when its connection is next asked for, as the services
    do for every write.)"""
    write_behind.write(session.connection(), SEQUENCES, {"name": "wb:before", "value": 1})
    nested = session.begin_nested()
    write_behind.write(session.connection(), SEQUENCES, {"name": "wb:inside", "value": 2})
    nested.rollback()
    with session.begin_nested():
        write_behind.write(session.connection(), SEQUENCES, {"name": "wb:kept", "value": 3})
    session.commit()
    assert _names(session) == ["wb:before", "wb:kept"]


def test_a_large_write_goes_at_once_in_order(session: Session) -> None:
    count = write_behind.QUEUED_ROWS_AT_MOST + 1
    conn = session.connection()
    write_behind.write(conn, LISTED, _listed("头"))  # queued, then sent before the large one
    write_behind.write(conn, LISTED, [_listed(f"第{n:03d}") for n in range(count)])
    session.commit()
    names = list(session.scalars(select(WatchListEntry.name).order_by(WatchListEntry.id)))
    assert names == ["头", *(f"第{n:03d}" for n in range(count))]


def test_without_a_transaction_a_write_goes_at_once(engine: Engine) -> None:
    """With autocommit nothing would send a queue before the connection went back."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        write_behind.write(conn, SEQUENCES, {"name": "wb:a", "value": 1})
    with create_session_factory(engine)() as other:
        assert _names(other) == ["wb:a"]


def test_psycopg_keeps_the_conversion_of_long_statements(engine: Engine) -> None:
    """The combined statements are longer than psycopg caches by default; a psycopg that no
    longer has these settings would scan each again at every action (``db/session``)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("psycopg only")
    from psycopg import _queries

    for name, at_least in LONG_STATEMENTS_CACHED.items():
        assert getattr(_queries, name) >= at_least
