"""Request dependencies: the database session, the clock, the signed-in principal.

Every endpoint states what it needs with one of ``Public`` (nothing), ``Authenticated`` (a valid
token, even one whose password must still be changed), ``SignedIn`` (a usable account) or
``permission("module:action")``. The permission matrix test walks these declarations.
"""

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any, TypeVar

import anyio.from_thread
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Select
from sqlalchemy.orm import Session

from server.api.deferred import settle
from server.api.responses import ModelRoute
from server.clock import Clock
from server.config import Settings
from server.db.models import AuthToken, User
from server.services.auth import TokenCheck, authenticate
from server.services.authz import Principal, principal_for
from server.services.authz_cache import PrincipalCache
from server.services.certificates.keys import CertificateKeys
from server.services.documents.signing import DocumentSigner
from server.services.errors import AppError
from server.services.notifications import Sender
from server.services.passwords import Passwords
from server.services.throttle import SignInThrottle, SlidingWindow
from shared.errors import ErrorCode

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    passwords: Passwords
    sender: Sender
    signer: DocumentSigner
    throttle: SignInThrottle
    certificate_keys: CertificateKeys
    certificate_lookups: SlidingWindow


async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


class ReadOnlyRoute(ModelRoute):
    """The route class of endpoints that only read: a whole router's
    (``route_class=ReadOnlyRoute``) or one GET's (``@read_only(router, path, ...)``).

    Their sessions run without a transaction (``server.db.session.read_engine_for``). Under
    PostgreSQL's READ COMMITTED every statement takes its own snapshot anyway, so a read loses
    nothing, and it saves the BEGIN and ROLLBACK round trips; above all, psycopg forgets its
    prepared statements at every ROLLBACK, so without one the inbox's queries stay prepared on
    the connection. The one write such a request may make, the token's last-used time, is a
    single statement. Only a GET that reads may use it (a test checks the method; a GET that
    writes more, such as a print audited in the hash chain, stays on its router's
    transactional route class).
    """


def read_only(router: APIRouter, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """``@read_only(router, "/path", response_model=...)``: ``@router.get`` for an endpoint
    that only reads, served by a ``ReadOnlyRoute`` (no transaction; see there)."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(
            path, endpoint, methods=["GET"], route_class_override=ReadOnlyRoute, **options
        )
        return endpoint

    return register


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request, once the request has its turn (``server/api/admission``: waiting
    for one holds no thread, and a connection is then sure to be free). Creating the session
    touches nothing, so it happens on the event loop. ``SessionDep`` closes it as soon as the
    endpoint's answer is built (``scope="function"``), before the answer is sent: a slow reader
    of a large answer (a 20 MB scan) holds neither a connection nor a turn. Closing ends the
    session's transaction (a ROLLBACK, I/O), so that runs in the thread pool — except on a
    read-only route, whose session has no transaction to end: the connection goes back to the
    pool without a word to the database, so it is closed right here (a thread hop, ~0.1 ms,
    saved). The turn passes on only once the connection is back in the pool."""
    state = request.app.state
    turn = await state.admission.enter()
    request.state.turn = turn
    try:
        read_only = isinstance(request.scope.get("route"), ReadOnlyRoute)
        session = state.session_factory(bind=state.read_engine if read_only else state.engine)
        try:
            yield session
        finally:
            if read_only:
                session.close()  # no transaction to end: the connection goes back without I/O
            else:
                await run_in_threadpool(session.close)
    finally:
        turn.release()


async def get_now(request: Request) -> datetime:
    """The request's instant (one per request: FastAPI caches it for every dependency asking).
    The clock is read from the app's context directly rather than through ``ContextDep``: each
    sub-dependency is one more resolution on the event loop, on every request."""
    context: AppContext = request.app.state.context
    return context.clock.now()


@contextmanager
def turn_set_aside(request: Request) -> Iterator[None]:
    """From the endpoint's worker thread: give this request's turn to others for a while and
    wait for one again after (no timeout: the request has done its part). For work that needs
    no database but takes long, such as checking a password (argon2, queued behind at most
    ``SGSS_PASSWORD_HASH_CONCURRENCY`` others): a rush of sign-ins must not keep every other
    desk waiting. The caller must hold no connection meanwhile (commit first)."""
    turn = request.state.turn
    anyio.from_thread.run_sync(turn.release)
    try:
        yield
    finally:
        anyio.from_thread.run(turn.acquire)


ContextDep = Annotated[AppContext, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
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


def _authenticated(
    request: Request,
    session: Session,
    context: AppContext,
    now: datetime,
    statement: Select[Any] | None = None,
) -> AuthContext:
    """The bearer token checked once per request, whichever dependency asks first."""
    known: AuthContext | None = getattr(request.state, "auth", None)
    if known is not None:
        return known
    header = request.headers.get("authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise AppError(ErrorCode.AUTH_REQUIRED)
    check = authenticate(
        session, settings=context.settings, now=now, raw_token=raw.strip(), statement=statement
    )
    auth = AuthContext(check, client_ip(request), session)
    request.state.auth = auth
    return auth


class Authenticate:
    """Dependency: a valid token, even one whose password must still be changed
    (``Authenticated``). With a statement of ``services.auth.token_check_with``, the columns an
    endpoint needs anyway are read with the token, in the same query (``AuthContext.check.also``).
    Deferred to the endpoint's worker thread (``server/api/deferred``)."""

    def __init__(self, statement: Select[Any] | None = None) -> None:
        self.statement = statement

    async def __call__(self, request: Request, session: SessionDep, now: NowDep) -> AuthContext:
        context: AppContext = request.app.state.context
        work = functools.partial(_authenticated, request, session, context, now, self.statement)
        auth: AuthContext = await settle(request, work)
        return auth


get_authenticated = Authenticate()
Authenticated = Annotated[AuthContext, Depends(get_authenticated)]


def principal_of(request: Request, session: Session, auth: AuthContext) -> Principal:
    """The principal of a checked token, from the app's cache when nothing about access has
    changed since it was built (``services/authz_cache``), with this request's address."""
    cache: PrincipalCache = request.app.state.principals
    epoch, user_id = auth.check.epoch, auth.check.user_id
    principal = cache.get(user_id, epoch) if epoch is not None else None
    if principal is None:
        principal = principal_for(session, auth.user)
        if epoch is not None:
            cache.put(user_id, epoch, principal)
    return replace(principal, ip=auth.ip)


class Require:
    """Dependency: a usable account holding ``permission`` (None: any signed-in account).

    The principal comes from the app's cache when nothing about access has changed since it
    was built (``services/authz_cache``); permissions are still checked on every request.
    The token is checked here too rather than through ``Authenticated``, and the whole check
    runs in the endpoint's worker thread (``server/api/deferred``): this runs on every
    request, and each trip to the thread pool costs."""

    def __init__(self, permission: str | None) -> None:
        self.permission = permission

    async def __call__(self, request: Request, session: SessionDep, now: NowDep) -> Principal:
        """Deferred to the endpoint's worker thread (``server/api/deferred``). The context is
        the app's (as ``get_now`` reads it): no sub-dependency to resolve for it."""
        context: AppContext = request.app.state.context
        principal: Principal = await settle(
            request, functools.partial(self.check, request, session, context, now)
        )
        return principal

    def check(
        self, request: Request, session: Session, context: AppContext, now: datetime
    ) -> Principal:
        auth = _authenticated(request, session, context, now)
        if auth.check.must_change_password:
            raise AppError(ErrorCode.PASSWORD_CHANGE_REQUIRED)
        principal = principal_of(request, session, auth)
        if self.permission is not None:
            principal.require(self.permission)
        return principal

    def __repr__(self) -> str:
        return f"Require({self.permission!r})"


def permission(name: str) -> Any:
    """``principal: Annotated[Principal, permission("orgs:view")]``."""
    return Depends(Require(name))


SignedIn = Annotated[Principal, Depends(Require(None))]
