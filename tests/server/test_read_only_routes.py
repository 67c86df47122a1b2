"""Read-only routers (``route_class=ReadOnlyRoute``) run their sessions without a transaction;
every other route keeps one, so a failed write is still rolled back whole."""

import sqlite3
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from server.api.deps import ReadOnlyRoute, SessionDep, SignedIn
from server.app import ROUTERS
from server.clock import FrozenClock
from server.db.models import AuthToken
from server.services.auth import TOKEN_TOUCH_SECONDS, token_digest
from tests.server.conftest import Api


def test_read_only_routes_only_read() -> None:
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    read_only = [r for r in routes if isinstance(r, ReadOnlyRoute)]
    assert {r.path for r in read_only} == {
        "/inbox",
        "/inbox/counts",
        "/me",
        "/permissions",
        "/users",
        "/users/{user_id}",
        "/orgs",
        "/orgs/{org_id}",
        "/roles",
        "/roles/{role_id}",
        "/audit",
        "/applications/{application_id}",
        "/applications/{application_id}/progress",
        "/applications/{application_id}/external",
        "/exam-enrolments",
        "/exam-pass-rules",
        "/exams",
        "/exams/{exam_id}",
        "/exams/{exam_id}/candidates",
        "/exams/{exam_id}/eligible",
        "/certificates",
        "/certificates/{certificate_id}",
        "/certificates/{certificate_id}/history",
        "/certificates/status-list",
        "/certificates/public-keys",
        "/exams/{exam_id}/score-template",
        "/exams/{exam_id}/scores",
        "/exams/{exam_id}/scores/amendments",
        "/certificates/{certificate_id}/face",
        "/certificates/{certificate_id}/photo",
        "/certificates/{certificate_id}/card.pdf",
        "/sync/status",
        "/sync/bundles",
        "/sync/bundles/{bundle_id}",
        "/sync/peer-keys",
    }
    assert all(r.methods <= {"GET", "HEAD"} for r in read_only)


def _reads_on_their_own(session: Session) -> bool:
    """Whether a read on the session's connection runs in a transaction of its own."""
    session.execute(select(1))
    raw = session.connection().connection.dbapi_connection
    if isinstance(raw, sqlite3.Connection):
        return not raw.in_transaction  # the driver begins only before a write
    return bool(raw.autocommit)  # type: ignore[union-attr]


def test_sessions_of_read_only_routes_autocommit(app: Any, admin: Api) -> None:
    plain, reading = APIRouter(), APIRouter(route_class=ReadOnlyRoute)

    @plain.get("/probe/plain")
    def _plain(_: SignedIn, session: SessionDep) -> bool:
        return _reads_on_their_own(session)

    @reading.get("/probe/reading")
    def _reading(_: SignedIn, session: SessionDep) -> bool:
        return _reads_on_their_own(session)

    app.include_router(plain, prefix="/api/v1")
    app.include_router(reading, prefix="/api/v1")
    assert admin.get("/probe/reading").json() is True
    # PostgreSQL: the same pooled connection, reset to transactions; SQLite reads the same way
    # on both (its driver opens a transaction only before a write)
    sqlite = app.state.engine.dialect.name == "sqlite"
    assert admin.get("/probe/plain").json() is sqlite


def test_sqlite_connections_keep_their_prepared_statements(app: Any, admin: Api) -> None:
    """No request changes a SQLite connection's isolation level: the reset SQLAlchemy makes at
    checkin (``PRAGMA read_uncommitted``) expires every statement SQLite has prepared on that
    connection, so each statement of the next request would be compiled again."""
    if app.state.engine.dialect.name != "sqlite":
        return
    sent: list[str] = []

    def trace(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.set_trace_callback(sent.append)

    event.listen(app.state.engine, "checkout", trace)
    try:
        for path in ("/me", "/inbox/counts", "/users", "/roles"):
            admin.get(path)
    finally:
        event.remove(app.state.engine, "checkout", trace)
    assert sent
    assert not [sql for sql in sent if sql.lstrip().upper().startswith("PRAGMA")]


def test_the_inbox_still_records_when_a_token_was_used(
    admin: Api, client: TestClient, session: Session, clock: FrozenClock
) -> None:
    """The one write of a read-only request, the token's last-used time, is committed."""
    clock.advance(seconds=TOKEN_TOUCH_SECONDS + 1)
    admin.get("/inbox/counts")
    used = session.scalar(
        select(AuthToken.last_used_at).where(AuthToken.token_hash == token_digest(admin.token))
    )
    assert used == clock.now()
