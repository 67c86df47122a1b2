"""Writes that return nothing, sent together: on PostgreSQL, one round trip for several.

An approval writes a handful of rows nobody reads back in its transaction — the closed step, the
log line, the next step, the screening results — and then commits. Sent one by one, each costs a
round trip and the driver's and SQLAlchemy's fixed cost per statement, several times what the
database spends on the row. ``write`` queues such a write on the transaction's connection
instead; the queue goes out as one statement (each write a data-modifying ``WITH`` of it) just
before the next statement of any kind on that connection, or with the audit records at commit
(``audit``), so every read, every ORM flush and the commit itself still come after the writes
they follow: the transaction sees what it wrote, as if each had been sent at once. A failing
write fails that next statement instead, in the same transaction, so it still rolls back whole.
A rollback drops the queue with the rest.

On SQLite a statement is a function call into the library with no round trip to save, so
``write`` executes at once there (queuing is ``install``-ed on PostgreSQL engines only).
"""

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    Table,
    bindparam,
    event,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.selectable import Select

_QUEUE = "write_behind"
QUEUED_ROWS_AT_MOST = 64
"""A write of more rows goes at once, as an executemany: a statement per shape is built and
kept, and PostgreSQL takes at most 65,535 parameters in one."""


@dataclass(frozen=True, eq=False)
class Write:
    """A kind of write to ``table``: ``build(prefix, n)`` makes its statement for ``n`` rows
    (several only for an INSERT, which inserts them in order), the parameters of row ``j``
    named ``{prefix}{j}_{key}``, so several writes go into one statement."""

    table: Table
    build: Callable[[str, int], Insert | Update] = field(repr=False)

    @cached_property
    def inserts(self) -> bool:
        return isinstance(self.plain, Insert)

    @cached_property
    def plain(self) -> Insert | Update:
        """The statement sent on its own (one row; several as an executemany)."""
        return self.build("", 1)


Row = dict[str, Any]
Queued = tuple[Write, list[Row]]


def inserting(table: Table) -> Write:
    """Rows of ``table``: every column but a generated key, named as the column."""
    generated = table.autoincrement_column
    columns = [c for c in table.columns if c is not generated]

    def build(prefix: str, n: int) -> Insert:
        rows = [
            [bindparam(f"{prefix}{j}_{c.key}", type_=c.type) for c in columns] for j in range(n)
        ]
        if n == 1:
            stmt = insert(table).values(dict(zip([c.key for c in columns], rows[0], strict=True)))
        else:  # INSERT … SELECT … UNION ALL: a multi-row VALUES is not cached by SQLAlchemy
            stmt = insert(table).from_select(columns, union_all(*(select(*row) for row in rows)))
        return stmt.inline()  # no RETURNING of the new keys

    return Write(table, build)


def updating(table: Table, key: str, values: dict[str, Any]) -> Write:
    """One row of ``table``, found by its ``id`` given as parameter ``key``, set to ``values``:
    per column, the name of its parameter, or an expression."""

    def build(prefix: str, _n: int) -> Update:
        def bound(name: str) -> Any:
            return bindparam(f"{prefix}0_{name}")

        sets = {c: bound(v) if isinstance(v, str) else v for c, v in values.items()}
        return update(table).where(table.c.id == bound(key)).values(sets)

    return Write(table, build)


def write(conn: Connection, kind: Write, rows: Row | Sequence[Row]) -> None:
    """Write ``rows`` (one or several of ``kind``) in ``conn``'s transaction: at once on SQLite,
    with the next statement on PostgreSQL. Rows of one call are numbered in order; a second
    write that must follow one already queued (``_ordered``) sends the queue first, as the
    order of the parts of one statement is the database's to choose."""
    listed = [rows] if isinstance(rows, dict) else list(rows)
    if not listed:
        return
    if not _queues(conn) or len(listed) > QUEUED_ROWS_AT_MOST:
        named = [{f"0_{key}": value for key, value in row.items()} for row in listed]
        conn.execute(kind.plain, named[0] if len(named) == 1 else named)  # sends the queue first
        return
    queue: list[Queued] = conn.info.setdefault(_QUEUE, [])
    if any(_ordered(queued, kind) for queued, _ in queue):
        send(conn)
        queue = conn.info.setdefault(_QUEUE, [])
    queue.append((kind, listed))


def _queues(conn: Connection) -> bool:
    """Whether writes on ``conn`` wait: an ``install``-ed engine, inside a transaction (with
    autocommit nothing would send them before the connection goes back to the pool)."""
    if conn.engine not in _INSTALLED:
        return False
    driver = conn.connection.driver_connection
    return not getattr(driver, "autocommit", False)


def _ordered(first: Write, then: Write) -> bool:
    """Whether ``then`` must reach the database after ``first``: two inserts into one table (the
    order of their new keys), two updates of one table (one statement may not change a row
    twice). An update after an insert into its table cannot be meant for the new row: its key
    was never read back."""
    return first.table is then.table and first.inserts == then.inserts


def take(conn: Connection) -> list[Queued]:
    """The queued writes, removed from the queue (the caller sends them)."""
    queued: list[Queued] = conn.info.pop(_QUEUE, None) or []
    return queued


@lru_cache(maxsize=256)
def _along(stmt: Executable, shape: tuple[tuple[Write, int], ...]) -> Executable:
    assert isinstance(stmt, Select | Insert | Update)
    ctes = [kind.build(f"w{i}_", n).cte(f"w{i}") for i, (kind, n) in enumerate(shape)]
    return stmt.add_cte(*ctes)


def along(stmt: Executable, queued: list[Queued]) -> tuple[Executable, Row]:
    """``stmt`` carrying ``queued`` as ``WITH`` clauses, and their parameters (built once per
    statement and shape: building it costs more than sending it)."""
    shape = tuple((kind, len(rows)) for kind, rows in queued)
    values = {
        f"w{i}_{j}_{key}": value
        for i, (_, rows) in enumerate(queued)
        for j, row in enumerate(rows)
        for key, value in row.items()
    }
    return _along(stmt, shape), values


_SEND = select(literal(1))


def send(conn: Connection) -> None:
    """Send the queue now, as one statement (nothing if empty)."""
    queued = take(conn)
    if queued:
        stmt, values = along(_SEND, queued)
        conn.execute(stmt, values)


_INSTALLED: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def install(engine: Engine) -> None:
    """Queue writes on ``engine`` (PostgreSQL; ``create_db_engine`` does it): the queue goes out
    before any other statement and before the commit, and a rollback drops it. ``write`` sends
    at once on an engine without it."""
    if engine in _INSTALLED:
        return
    event.listen(engine, "before_execute", _send_first)
    event.listen(engine, "commit", _send_before_commit)
    event.listen(engine, "rollback", _drop_on_rollback)
    event.listen(engine, "rollback_savepoint", _drop_on_rollback_to_savepoint)
    event.listen(engine.pool, "checkin", _drop_on_checkin)
    _INSTALLED.add(engine)


def _send_first(conn: Connection, *_: Any) -> None:
    """Anything else sent on the connection goes after the queued writes."""
    if _QUEUE in conn.info:
        send(conn)


def _send_before_commit(conn: Connection) -> None:
    if _QUEUE in conn.info:
        send(conn)


def _drop_on_rollback(conn: Connection) -> None:
    """A rollback undoes them unsent. On a connection the database dropped (``invalidated``)
    there is nothing to ask: touching ``info`` would try to revalidate it mid-rollback and
    raise; the queue goes with the pool record at check-in (``_drop_on_checkin``)."""
    if not conn.invalidated:
        conn.info.pop(_QUEUE, None)


def _drop_on_rollback_to_savepoint(conn: Connection, *_: Any) -> None:
    """So does the rollback of a savepoint: the queue went out with ``SAVEPOINT`` (a statement
    like any other), so what is queued now was written after it."""
    if not conn.invalidated:
        conn.info.pop(_QUEUE, None)


def _drop_on_checkin(_dbapi_conn: Any, record: Any) -> None:
    """Whatever ended the connection's use, nothing queued outlives it."""
    if record is not None:
        record.info.pop(_QUEUE, None)
