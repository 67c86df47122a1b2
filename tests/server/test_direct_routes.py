"""Routes served without FastAPI's per-request dependency solving (``server/api/direct``) answer
exactly as FastAPI would: every planned route, signed in as several people and not, with good,
bad and missing parameters, is asked the same question both ways (FastAPI's own handler is
taken whenever the app has a dependency override) and must give the same status, headers and
bytes."""

from datetime import date, datetime
from enum import Enum
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI, Request
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import AwareDatetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.api import direct
from server.api.deps import get_context
from server.app import API_PREFIX, ROUTERS
from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import Application
from server.db.certificate_models import Certificate
from server.db.exam_models import Exam
from server.db.models import Org, Role, User
from server.db.sync_models import SyncInboundBundle
from shared.enums import BusinessType
from tests.server.approval_world import application_body, build
from tests.server.conftest import ADMIN, ADMIN_PASSWORD, login

HOT = {  # what the desks request all day (bench/desks.py): these must stay direct
    "/inbox",
    "/inbox/counts",
    "/me",
    "/users",
    "/users/{user_id}",
    "/orgs",
    "/roles",
    "/audit",
    "/applications/{application_id}",
}


def _planned() -> list[APIRoute]:
    return [
        route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and direct.plan(route) is not None
    ]


def test_the_desks_routes_are_served_directly() -> None:
    planned = {route.path for route in _planned()}
    assert planned >= HOT, HOT - planned
    # writes, bodies and files keep FastAPI's handler
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.methods != {"GET"}:
                assert direct.plan(route) is None, route.path


def _base(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _base(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return _base(next(a for a in get_args(annotation) if a is not NoneType))
    return annotation


def _values(annotation: Any) -> list[str]:
    """Good, bad and edge values of a query parameter of this type."""
    kind = _base(annotation)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return [str(next(iter(kind)).value), "no-such-value", ""]
    if kind is bool:
        return ["true", "0", "maybe", ""]
    if kind is int:
        return ["1", "2", "50", "0", "-1", "3000000000", "x", ""]
    if kind in (datetime, AwareDatetime):
        return ["2026-03-01T00:00:00Z", "2026-03-01", "2026-03-01T08:00:00", "yesterday"]
    if kind is date:
        return ["2026-03-01", "2026-13-45", ""]
    return ["张", "a", "", "x" * 300, "%", "-name", "name"]


def _variants(route: APIRoute) -> list[tuple[dict[str, str], list[tuple[str, str]]]]:
    """(path parameters, query items) to ask a route: each parameter alone with good, bad and
    edge values, all of them good at once, repeated, unknown."""
    plan = direct.plan(route)
    assert plan is not None
    path = {p.alias: "7" for p in plan.params if p.loc[0] == "path"}
    query = [p for p in plan.params if p.loc[0] == "query"]
    asked: list[tuple[dict[str, str], list[tuple[str, str]]]] = [(path, []), (path, [("x", "1")])]
    for param in plan.params:
        for value in _values(param.field.field_info.annotation):
            if param.loc[0] == "path":
                asked.append(({**path, param.alias: value}, []))
            else:
                asked.append((path, [(param.alias, value)]))
                asked.append((path, [(param.alias, "1"), (param.alias, value)]))
    good = [(p.alias, _values(p.field.field_info.annotation)[0]) for p in query]
    asked.append((path, good))
    return asked


def test_direct_takes_fastapis_parameters() -> None:
    """What ``Direct.arguments`` gives the endpoint is what FastAPI's own parameter handling
    gives it, and it gives nothing (FastAPI answers) where FastAPI finds an error."""
    compared = 0
    for route in _planned():
        plan = direct.plan(route)
        assert plan is not None
        handler = direct.Direct(plan, fallback=None)  # type: ignore[arg-type]
        for path, query in _variants(route):
            request = Request(
                {
                    "type": "http",
                    "method": "GET",
                    "path": route.path,
                    "query_string": urlencode(query).encode(),
                    "headers": [],
                    "path_params": path,
                }
            )
            values, errors = request_params_to_args(route.dependant.path_params, path)
            found, more = request_params_to_args(route.dependant.query_params, request.query_params)
            expected = None if errors or more else {**values, **found}
            assert handler.arguments(request) == expected, (route.path, path, query)
            compared += 1
    assert compared > 500, compared


def _ids(session: Session) -> dict[str, list[str]]:
    """For each path parameter: a few ids that exist, then ones that do not or cannot."""

    def some(column: Any) -> list[str]:
        return [str(v) for v in session.scalars(select(column).order_by(column).limit(2))]

    found = {
        "application_id": some(Application.id),
        "user_id": some(User.id),
        "org_id": some(Org.id),
        "role_id": some(Role.id),
        "exam_id": some(Exam.id),
        "certificate_id": some(Certificate.id),
        "bundle_id": some(SyncInboundBundle.id),
    }
    return {name: [*ids, "999999", "abc"] for name, ids in found.items()}


def _requests(route: APIRoute, ids: dict[str, list[str]]) -> list[tuple[str, dict[str, str]]]:
    """The route at each of a few ids (found, missing, malformed), plainly and with every
    query parameter given a good value (``test_direct_takes_fastapis_parameters`` covers the
    rest of the values: they reach the endpoint as FastAPI's would, or not at all)."""
    plan = direct.plan(route)
    assert plan is not None
    paths = [route.path]
    for param in plan.params:
        if param.loc[0] == "path":
            paths = [
                p.replace("{" + param.alias + "}", value)
                for p in paths
                for value in ids[param.alias]
            ]
    good = {
        p.alias: _values(p.field.field_info.annotation)[0]
        for p in plan.params
        if p.loc[0] == "query"
    }
    variants = [{}, good] if good else [{}]
    return [(path, params) for path in paths for params in variants]


Answer = tuple[int, str | None, str | None, str | None, bytes]


def _both_ways(
    app: FastAPI, client: TestClient, path: str, params: dict[str, str], token: str | None
) -> list[Answer]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answers = []
    for overridden in (True, False):
        if overridden:  # any override sends every request FastAPI's way
            app.dependency_overrides[get_context] = get_context
        try:
            answer = client.get(f"{API_PREFIX}{path}", params=params, headers=headers)
        finally:
            app.dependency_overrides.clear()
        answers.append(
            (
                answer.status_code,
                answer.headers.get("content-type"),
                answer.headers.get("content-length"),
                answer.headers.get("allow"),
                answer.content,
            )
        )
    return answers


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"token_idle_minutes": 24 * 60})


def test_direct_answers_are_fastapis_answers(
    app: FastAPI, initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> None:
    world = build(initialised, client, settings, clock.now())
    for business_type in (BusinessType.annual_report_filing, BusinessType.commendation):
        body = application_body(business_type)
        world.apis["intake"].post("/applications", 201, json=body)
    first = world.apis["xh_clerk"].get("/inbox").json()["items"][0]
    detail = world.apis["xh_clerk"].get(f"/applications/{first['id']}").json()
    world.apis["xh_clerk"].post(
        f"/applications/{first['id']}/approve",
        json={"version": detail["version"], "opinion": "同意"},
    )
    callers = [
        login(client, ADMIN, ADMIN_PASSWORD).token,
        world.apis["xh_clerk"].token,
        world.apis["hz_clerk"].token,
        world.apis["intake"].token,
        None,
        "not-a-token",
    ]
    ids = _ids(initialised)
    asking = TestClient(app, raise_server_exceptions=False)  # a 500 must be the same 500
    differ = []
    asked = 0
    for route in _planned():
        for path, params in _requests(route, ids):
            # everyone asks the plain question; three of them the one with parameters
            for token in callers if not params else callers[::2]:
                through_fastapi, direct_answer = _both_ways(app, asking, path, params, token)
                asked += 1
                if through_fastapi != direct_answer:
                    differ.append((path, params, token, through_fastapi[:2], direct_answer[:2]))
    assert asked > 300, asked
    assert not differ, differ[:5]
