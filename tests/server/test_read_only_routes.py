"""Read-only routers (``route_class=ReadOnlyRoute``) run their sessions without a transaction;
every other route keeps one, so a failed write is still rolled back whole."""

import sqlite3
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
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
        "/certificates",
        "/certificates/{certificate_id}",
        "/certificates/{certificate_id}/history",
        "/certificates/status-list",
        "/certificates/public-keys",
    }
    assert all(r.methods <= {"GET", "HEAD"} for r in read_only)


def _autocommit(session: Session) -> bool:
    """Whether the driver's connection runs each statement in a transaction of its own."""
    raw = session.connection().connection.dbapi_connection
    if isinstance(raw, sqlite3.Connection):
        return raw.isolation_level is None
    return bool(raw.autocommit)  # type: ignore[union-attr]


def test_sessions_of_read_only_routes_autocommit(app: Any, admin: Api) -> None:
    plain, reading = APIRouter(), APIRouter(route_class=ReadOnlyRoute)

    @plain.get("/probe/plain")
    def _plain(_: SignedIn, session: SessionDep) -> bool:
        return _autocommit(session)

    @reading.get("/probe/reading")
    def _reading(_: SignedIn, session: SessionDep) -> bool:
        return _autocommit(session)

    app.include_router(plain, prefix="/api/v1")
    app.include_router(reading, prefix="/api/v1")
    assert admin.get("/probe/reading").json() is True
    assert admin.get("/probe/plain").json() is False  # the same pooled connection, reset


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
