import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from server.db import (
    authz_epoch,  # noqa: F401  (registers the access-epoch hook on Session)
    collation,
    write_behind,
)
from server.db.pg_cursor import LightCursor

SQLITE_SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}


def ensure_sqlite_folder(url: str) -> None:
    """A SQLite database file's folder exists (SQLite makes the file, not its folder)."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def create_db_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    pool_timeout: float = 30.0,
    sqlite_synchronous: str = "full",
) -> Engine:
    """An engine with the per-dialect settings SGSS relies on (SQLite: FKs on, WAL, busy wait,
    ``sqlite_synchronous``: see ``Settings.sqlite_synchronous`` and docs/DURABILITY.md).

    ``pool_size`` is the number of connections, all kept (no overflow): the server admits as
    many requests at once as there are connections (``server/api/admission``), so a fixed
    pool is never short and its connections are not opened and closed again under load.
    ``pool_timeout`` bounds a wait for a connection, which admission makes exceptional.
    """
    pool = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"sqlite_synchronous: {sqlite_synchronous!r}")
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS[sqlite_synchronous]}")
            cursor.close()
            collation.register(dbapi_conn)

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    _cache_long_statements()
    # plain-tuple ``cursor.description`` (``pg_cursor``): psycopg's costs more than the round trip
    engine = create_engine(url, echo=echo, connect_args={"cursor_factory": LightCursor}, **pool)
    write_behind.install(engine)
    ping_after_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def _cache_long_statements() -> None:
    """Let psycopg keep the conversion of long statements too.

    psycopg turns each statement's ``%(name)s`` placeholders into ``$n`` by scanning its text,
    and keeps the result only for statements under 4 KB with at most 50 parameters. The
    engine's combined writes (``db/write_behind``: an approval's step rows, log line and
    audit records in one statement) are longer and are sent with every action, so each was
    scanned again, costing more CPU than the round trips it saved. The limits are module
    settings of psycopg's; a handful of such statements are cached, each a few KB."""
    from psycopg import _queries

    for name, at_least in LONG_STATEMENTS_CACHED.items():
        if hasattr(_queries, name):  # a psycopg without them fails the test, not the server
            setattr(_queries, name, max(getattr(_queries, name), at_least))


LONG_STATEMENTS_CACHED = {
    "MAX_CACHED_STATEMENT_LENGTH": 32 * 1024,
    "MAX_CACHED_STATEMENT_PARAMS": 512,
}


PING_AFTER_IDLE_SECONDS = 10.0


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection before use only when it has been idle ``idle_seconds``.

    ``pool_pre_ping`` pings on every checkout: one more round trip on every request. A
    connection handed back moments ago is almost surely alive; one that sat idle may have been
    dropped (a database restart, a firewall's idle timeout), so it is pinged and, if dead,
    replaced before the request sees it. A restart within the idle window fails the requests
    then holding those connections, once (503 DATABASE_RECONNECTED; the desk asks a read
    again by itself); SQLAlchemy renews the whole pool, and the next request succeeds.
    """

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(str(error)) from error  # the pool connects afresh


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def read_engine_for(engine: Engine) -> Engine:
    """The engine of read-only requests (``server.api.deps.ReadOnlyRoute``): statements each in
    a transaction of their own, no BEGIN or ROLLBACK around them.

    On PostgreSQL that is the AUTOCOMMIT isolation level, set on the pooled connection at
    checkout and reset at checkin (psycopg does both without a round trip). On SQLite it is
    the engine itself: the driver (``sqlite3``'s legacy transaction control) begins a
    transaction only before a write, so a read already runs on its own. Asking SQLite for
    AUTOCOMMIT would also cost: SQLAlchemy resets the level at checkin with
    ``PRAGMA read_uncommitted``, and that PRAGMA expires every statement the connection had
    prepared, so each statement of the next request, on either route, was compiled again by
    SQLite (~20–50 µs each, more for the inbox's).
    """
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def reading_connection(session: Session) -> Connection:
    """``session``'s connection for a Core read of rows the ORM would otherwise load, after
    flushing what an ORM query would flush first (its pending changes, unless autoflush is off),
    so the read sees the transaction as the session has it."""
    if session.autoflush:
        session.flush()
    return session.connection()
