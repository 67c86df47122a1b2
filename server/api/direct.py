"""Simple routes served without FastAPI's per-request dependency solving, with the same answers.

On every request FastAPI walks the endpoint's dependency tree anew: a cache key per dependency,
an exit stack, each query parameter looked up and validated through several layers of generic
code — a third of the CPU of an inbox request here, more than its three queries. Most routes
are simple: scalar query and path parameters, and dependencies among the few of
``server/api/deps`` — the session and the request's instant (``Leaf``), and checks built on
them (the token, the principal, the permission). ``plan`` recognises such a route once, when its
handler is built, and ``Direct`` then serves it by hand, doing what FastAPI would:

* each query or path parameter the request carries is validated by FastAPI's own validator of
  that parameter (``ModelField.validate``); an absent one takes its default, unvalidated;
* the dependencies run in FastAPI's order (depth first, in declaration order), each once per
  request; the session is the same dependency (``deps.get_session``), closed after the endpoint
  and before the answer is sent, its exit shielded from cancellation as FastAPI shields it;
* the endpoint runs in its worker thread, which answers with the JSON (``ModelRoute``).

Anything else takes FastAPI's own path: a route of another shape, a request whose parameters do
not validate (so every 422 — and the 401 that comes before it — is FastAPI's own answer), an app
with dependency overrides. The OpenAPI description is FastAPI's, untouched.
``tests/server/test_direct_routes.py`` sends the same requests both ways and compares answers.
"""

import inspect
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from copy import deepcopy
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, auto
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from anyio import CancelScope
from fastapi import Request, Response, params
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, Json

from server.api.deps import get_now, get_session

Handler = Callable[[Request], Awaitable[Response]]
_SCALARS = (bool, int, float, str, date, datetime, AwareDatetime, Enum)
_IMMUTABLE = (NoneType, bool, int, float, str, date, datetime, Enum)


class Leaf(Enum):
    """A dependency every check rests on, made once per request."""

    session = auto()
    now = auto()


LEAVES: dict[Any, Leaf] = {get_session: Leaf.session, get_now: Leaf.now}
_session = asynccontextmanager(get_session)


@dataclass(frozen=True)
class Param:
    """A query or path parameter: ``name`` in the endpoint, ``alias`` in the request."""

    name: str
    alias: str
    loc: tuple[str, str]
    field: Any  # FastAPI's ModelField of the parameter
    required: bool
    default: Any


@dataclass(frozen=True)
class Check:
    """A dependency on leaves (and the request): an access check, the app's context."""

    call: Callable[..., Awaitable[Any]]
    request: str | None  # the name of its Request argument
    leaves: tuple[tuple[str, Leaf], ...]  # its leaf arguments, in declaration order


@dataclass(frozen=True)
class Plan:
    params: tuple[Param, ...]
    dependencies: tuple[tuple[str, Leaf | Check], ...]  # endpoint argument → what gives it
    request: str | None  # the endpoint's own Request argument
    endpoint: Callable[..., Any]


def _scalar(annotation: Any) -> bool:
    """A type whose value is one query string item: no lists, models or JSON."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _scalar(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return all(arg is NoneType or _scalar(arg) for arg in get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, _SCALARS)


def _param(field: Any) -> Param | None:
    info = field.field_info
    if (
        not isinstance(info, params.Param)
        or info.in_ not in (params.ParamTypes.query, params.ParamTypes.path)
        or info.validation_alias is not None
        or info.validate_default
        or not _scalar(info.annotation)
        or any(item is Json or type(item) is Json for item in info.metadata)
    ):
        return None
    required = info.is_required()
    return Param(
        name=field.name,
        alias=field.alias,
        loc=(info.in_.value, field.alias),
        field=field,
        required=required,
        default=None if required else field.default,
    )


def _plain(dependant: Dependant) -> bool:
    """No parameter of a kind ``Direct`` does not give (headers, bodies, responses, …)."""
    return not (
        dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or dependant.parent_oauth_scopes
        or dependant.concurrency is not None
        or not dependant.use_cache
    )


def _is_async(call: Any) -> bool:
    """A coroutine function, or an object whose ``__call__`` is one (``deps.Require``)."""
    if inspect.isfunction(call) or inspect.ismethod(call):
        return inspect.iscoroutinefunction(call)
    return inspect.iscoroutinefunction(type(call).__call__)


def _check(dependant: Dependant) -> Check | None:
    if (
        not _plain(dependant)
        or dependant.path_params
        or dependant.query_params
        or dependant.call is None
        or not _is_async(dependant.call)
    ):
        return None
    leaves = []
    for sub in dependant.dependencies:
        leaf = LEAVES.get(sub.call)
        if leaf is None or sub.name is None or not _plain(sub):
            return None
        leaves.append((sub.name, leaf))
    return Check(dependant.call, dependant.request_param_name, tuple(leaves))


def plan(route: APIRoute) -> Plan | None:
    """How ``Direct`` serves ``route``, or None when it has another shape (FastAPI serves it).
    Only for a read (GET, the requests that come by the dozen), and only when its endpoint
    answers with a ``Response`` from its worker thread (``ModelRoute.serialises``). It fails
    closed: should a FastAPI release describe its dependencies otherwise, FastAPI serves the
    route (and ``test_direct_routes`` says the desks' routes are no longer direct)."""
    try:
        return _plan(route)
    except (AttributeError, TypeError):
        return None


def _plan(route: APIRoute) -> Plan | None:
    dependant = route.dependant
    if (
        route.methods != {"GET"}
        or not getattr(route, "serialises", False)
        or not _plain(dependant)
        or dependant.call is None
    ):
        return None
    found = [_param(field) for field in (*dependant.path_params, *dependant.query_params)]
    if any(p is None for p in found):
        return None
    dependencies: list[tuple[str, Leaf | Check]] = []
    for sub in dependant.dependencies:
        given = LEAVES.get(sub.call) or _check(sub)
        if given is None or sub.name is None:
            return None
        dependencies.append((sub.name, given))
    return Plan(
        params=tuple(p for p in found if p is not None),
        dependencies=tuple(dependencies),
        request=dependant.request_param_name,
        endpoint=dependant.call,
    )


class Direct:
    """The handler of a planned route; ``fallback`` (FastAPI's handler) for anything else."""

    def __init__(self, plan: Plan, fallback: Handler) -> None:
        self.plan = plan
        self.fallback = fallback

    def arguments(self, request: Request) -> dict[str, Any] | None:
        """The endpoint's parameters as FastAPI validates them, or None when one is missing or
        invalid (FastAPI then answers, with its own 422)."""
        values: dict[str, Any] = {}
        query = request.query_params
        path = request.path_params
        for param in self.plan.params:
            raw = (path if param.loc[0] == "path" else query).get(param.alias)
            if raw is None:
                if param.required:
                    return None
                default = param.default
                values[param.name] = (
                    default if isinstance(default, _IMMUTABLE) else deepcopy(default)
                )
                continue
            value, errors = param.field.validate(raw, {}, loc=param.loc)
            if errors:
                return None
            values[param.name] = value
        return values

    async def __call__(self, request: Request) -> Response:
        if request.app.dependency_overrides:
            return await self.fallback(request)
        values = self.arguments(request)
        if values is None:
            return await self.fallback(request)
        session: AbstractAsyncContextManager[Any] | None = None
        made: dict[Any, Any] = {}  # each leaf and check once per request, as FastAPI caches

        async def leaf(kind: Leaf) -> Any:
            nonlocal session
            if kind not in made:
                if kind is Leaf.session:
                    opening = _session(request)
                    made[kind] = await opening.__aenter__()
                    session = opening
                else:
                    made[kind] = await get_now(request)
            return made[kind]

        try:
            for name, given in self.plan.dependencies:
                if isinstance(given, Leaf):
                    values[name] = await leaf(given)
                    continue
                if given.call not in made:
                    arguments = {argument: await leaf(kind) for argument, kind in given.leaves}
                    if given.request is not None:
                        arguments[given.request] = request
                    made[given.call] = await given.call(**arguments)
                values[name] = made[given.call]
            if self.plan.request is not None:
                values[self.plan.request] = request
            response: Response = await run_in_threadpool(self.plan.endpoint, **values)
        except BaseException as error:
            if session is not None:
                with CancelScope(shield=True):
                    await session.__aexit__(type(error), error, error.__traceback__)
            raise
        if session is not None:
            with CancelScope(shield=True):
                await session.__aexit__(None, None, None)
        return response
