"""Request dependencies: the database session, the clock, the signed-in principal.

Every endpoint states what it needs with one of ``Public`` (nothing), ``Authenticated`` (a valid
token, even one whose password must still be changed), ``SignedIn`` (a usable account) or
``permission("module:action")``. The permission matrix test walks these declarations.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from server.clock import Clock
from server.config import Settings
from server.db.models import AuthToken, User
from server.services.auth import TokenCheck, authenticate
from server.services.authz import Principal, principal_for
from server.services.authz_cache import PrincipalCache
from server.services.documents.signing import DocumentSigner
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
    signer: DocumentSigner


async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


async def get_now(context: Annotated[AppContext, Depends(get_context)]) -> datetime:
    return context.clock.now()


ContextDep = Annotated[AppContext, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


class AuthContext:
    """The checked token of this request; the user row is loaded only by endpoints that need
    it (``/me``, password change), not on every request."""

    def __init__(self, check: TokenCheck, ip: str | None, session: Session) -> None:
        self.check = check
        self.ip = ip
        self._session = session
        self._user: User | None = None

    @property
    def token(self) -> AuthToken:
        token = self._session.get(AuthToken, self.check.token_id)
        if token is None:
            raise AppError(ErrorCode.AUTH_TOKEN_INVALID)
        return token

    @property
    def user(self) -> User:
        if self._user is None:
            user = self._session.get(User, self.check.user_id)
            if user is None:
                raise AppError(ErrorCode.AUTH_TOKEN_INVALID)
            self._user = user
        return self._user


def get_authenticated(
    request: Request, session: SessionDep, context: ContextDep, now: NowDep
) -> AuthContext:
    header = request.headers.get("authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise AppError(ErrorCode.AUTH_REQUIRED)
    check = authenticate(session, settings=context.settings, now=now, raw_token=raw.strip())
    return AuthContext(check, client_ip(request), session)


Authenticated = Annotated[AuthContext, Depends(get_authenticated)]


class Require:
    """Dependency: a usable account holding ``permission`` (None: any signed-in account).

    The principal comes from the app's cache when nothing about access has changed since it
    was built (``services/authz_cache``); permissions are still checked on every request."""

    def __init__(self, permission: str | None) -> None:
        self.permission = permission

    def __call__(self, auth: Authenticated, session: SessionDep, request: Request) -> Principal:
        if auth.check.must_change_password:
            raise AppError(ErrorCode.PASSWORD_CHANGE_REQUIRED)
        cache: PrincipalCache = request.app.state.principals
        epoch, user_id = auth.check.epoch, auth.check.user_id
        principal = cache.get(user_id, epoch) if epoch is not None else None
        if principal is None:
            principal = principal_for(session, auth.user)
            if epoch is not None:
                cache.put(user_id, epoch, principal)
        principal = replace(principal, ip=auth.ip)
        if self.permission is not None:
            principal.require(self.permission)
        return principal

    def __repr__(self) -> str:
        return f"Require({self.permission!r})"


def permission(name: str) -> Any:
    """``principal: Annotated[Principal, permission("orgs:view")]``."""
    return Depends(Require(name))


SignedIn = Annotated[Principal, Depends(Require(None))]
