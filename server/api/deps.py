"""Request dependencies: the database session, the clock, the signed-in principal.

Every endpoint states what it needs with one of ``Public`` (nothing), ``Authenticated`` (a valid
token, even one whose password must still be changed), ``SignedIn`` (a usable account) or
``permission("module:action")``. The permission matrix test walks these declarations.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from server.clock import Clock
from server.config import Settings
from server.db.models import AuthToken, User
from server.services.auth import authenticate
from server.services.authz import Principal, principal_for
from server.services.errors import AppError
from server.services.notifications import Sender
from server.services.passwords import Passwords
from shared.errors import ErrorCode


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    passwords: Passwords
    sender: Sender


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


def get_now(context: Annotated[AppContext, Depends(get_context)]) -> datetime:
    return context.clock.now()


ContextDep = Annotated[AppContext, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@dataclass
class AuthContext:
    user: User
    token: AuthToken
    ip: str | None


def get_authenticated(
    request: Request, session: SessionDep, context: ContextDep, now: NowDep
) -> AuthContext:
    header = request.headers.get("authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise AppError(ErrorCode.AUTH_REQUIRED)
    user, token = authenticate(session, settings=context.settings, now=now, raw_token=raw.strip())
    return AuthContext(user, token, client_ip(request))


Authenticated = Annotated[AuthContext, Depends(get_authenticated)]


class Require:
    """Dependency: a usable account holding ``permission`` (None: any signed-in account)."""

    def __init__(self, permission: str | None) -> None:
        self.permission = permission

    def __call__(self, auth: Authenticated, session: SessionDep) -> Principal:
        if auth.user.must_change_password:
            raise AppError(ErrorCode.PASSWORD_CHANGE_REQUIRED)
        principal = principal_for(session, auth.user, ip=auth.ip)
        if self.permission is not None:
            principal.require(self.permission)
        return principal

    def __repr__(self) -> str:
        return f"Require({self.permission!r})"


def permission(name: str) -> Any:
    """``principal: Annotated[Principal, permission("orgs:view")]``."""
    return Depends(Require(name))


SignedIn = Annotated[Principal, Depends(Require(None))]
