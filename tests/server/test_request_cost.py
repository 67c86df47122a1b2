"""The fixed cost of a request: how many statements and trips to the thread pool it takes, and
that the shortcuts taken for it (deferred access checks, answers serialised in the endpoint's
thread, the cached principal behind ``/me``) change nothing a caller can see."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import anyio.to_thread
import pytest
from fastapi import APIRouter, Query
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from server.api.deps import SignedIn
from server.api.responses import ModelRoute
from server.app import ROUTERS
from server.clock import FrozenClock
from server.config import Settings
from server.services.authz import Principal
from shared.enums import BusinessType
from tests.server.approval_world import application_body, build
from tests.server.conftest import Api
from tests.server.world import make_city, make_user, root_id


@contextmanager
def statements_of(app: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine: Engine = app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def thread_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    trips: list[str] = []
    real = anyio.to_thread.run_sync

    async def counted(func, *args, **kwargs):  # type: ignore[no-untyped-def]
        trips.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    yield trips


def _clerk(admin: Api, client: TestClient, username: str) -> tuple[int, int, Api]:
    role = admin.post(
        "/roles",
        201,
        json={
            "name": f"角色{username}",
            "org_id": root_id(admin),
            "permissions": ["orgs:view", "users:view"],
            "data_scope": {"kind": "all"},
        },
    ).json()
    user_id, api = make_user(admin, client, username, root_id(admin), role["id"])
    return role["id"], user_id, api


def test_every_route_is_a_model_route() -> None:
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert routes and all(isinstance(r, ModelRoute) for r in routes)


def test_me_takes_one_statement_once_the_principal_is_cached(
    admin: Api, client: TestClient, app: Any
) -> None:
    _, _, clerk = _clerk(admin, client, "costme1")
    first = clerk.get("/me").json()
    with statements_of(app) as seen:
        again = clerk.get("/me").json()
    assert len(seen) == 1, seen  # the token check, reading the user's row with it
    assert again == first


def test_me_follows_changes_of_access_and_of_the_row(admin: Api, client: TestClient) -> None:
    role_id, user_id, clerk = _clerk(admin, client, "costme2")
    before = clerk.get("/me").json()
    role = admin.get(f"/roles/{role_id}").json()
    admin.patch(f"/roles/{role_id}", json={"name": "改名后的角色", "version": role["version"]})
    user = admin.get(f"/users/{user_id}").json()
    admin.patch(f"/users/{user_id}", json={"mobile": "13900001111", "version": user["version"]})
    after = clerk.get("/me").json()
    assert [r["name"] for r in after["roles"]] == ["改名后的角色"]
    assert after["mobile"] == "13900001111"
    assert after["permissions"] == before["permissions"] == ["orgs:view", "users:view"]


def test_a_page_of_users_reads_role_permissions_once(
    admin: Api, client: TestClient, app: Any
) -> None:
    """What the caller may do to each account (``allowed_actions``) needs the permissions of
    the page's roles: read once for the page, so the cost does not grow with its users."""
    role_id, _, _ = _clerk(admin, client, "costpage1")
    _clerk(admin, client, "costpage2")
    admin.get("/users")
    with statements_of(app) as seen:
        page = admin.get("/users", params={"page_size": 50}).json()
    assert len(page["items"]) >= 3
    assert len([s for s in seen if "role_permissions" in s]) == 1, seen
    assert not [s for s in seen if "role_scope_orgs" in s]  # no role of chosen organisations
    # token, the page with its total, roles, approval roles, role permissions, administrators
    assert len(seen) == 6, seen
    for n in range(3, 6):  # more users with the same role
        make_user(admin, client, f"costpage{n}", root_id(admin), role_id)
    admin.get("/users")  # the caller's cached principal is rebuilt after the change
    with statements_of(app) as again:
        more = admin.get("/users", params={"page_size": 50}).json()
    assert len(more["items"]) == len(page["items"]) + 3
    assert len(again) == len(seen), again


@pytest.mark.parametrize("path", ["/me", "/orgs", "/inbox/counts", "/permissions"])
def test_a_signed_in_read_takes_one_trip_to_the_thread_pool(
    admin: Api, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin.get(path)
    with thread_trips(monkeypatch) as trips:
        admin.get(path)
    assert len(trips) == 1, trips


def test_a_write_takes_two_trips(admin: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The endpoint, then the session's close (a ROLLBACK) after the answer."""
    root = admin.get(f"/orgs/{root_id(admin)}").json()
    with thread_trips(monkeypatch) as trips:
        admin.patch(f"/orgs/{root['id']}", json={"phone": "0571-1", "version": root["version"]})
    assert len(trips) == 2, trips


def test_a_refused_token_answers_before_bad_parameters(admin: Api, client: TestClient) -> None:
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/users", params={"page": 0}, headers=bad).status_code == 401
    assert client.get("/api/v1/users/abc").status_code == 401
    assert client.get("/api/v1/me", headers=bad).status_code == 401
    assert admin.get("/users", expect=422, params={"page": 0}).status_code == 422


class Answer(BaseModel):
    name: str
    count: int


class Wider(Answer):
    secret: str


def _probes(app: Any) -> None:
    direct = APIRouter(route_class=ModelRoute)
    plain = APIRouter()

    @direct.get("/probe/direct", response_model=Answer)
    def _direct(_: SignedIn, q: Annotated[int, Query(ge=0)] = 0) -> Answer:
        return Answer(name="名称", count=q)

    @direct.get("/probe/wider", response_model=Answer)
    def _wider(_: SignedIn) -> Answer:
        return Wider(name="名称", count=1, secret="不可见")

    @direct.get("/probe/async")
    async def _async(principal: SignedIn) -> bool:
        return isinstance(principal, Principal)

    @plain.get("/probe/plain", response_model=Answer)
    def _plain(principal: SignedIn, q: int = 0) -> Answer:
        assert isinstance(principal, Principal)
        return Answer(name="名称", count=q)

    app.include_router(direct, prefix="/api/v1")
    app.include_router(plain, prefix="/api/v1")


def test_model_routes_answer_what_fastapi_would(app: Any, admin: Api) -> None:
    _probes(app)
    direct = admin.get("/probe/direct", params={"q": 3})
    plain = admin.get("/probe/plain", params={"q": 3})
    assert direct.content == plain.content == '{"name":"名称","count":3}'.encode()
    assert direct.headers["content-type"] == plain.headers["content-type"]
    assert admin.get("/probe/wider").json() == {"name": "名称", "count": 1}


def test_checks_are_not_deferred_where_nothing_would_run_them(
    app: Any, admin: Api, client: TestClient
) -> None:
    """Fail closed: an async endpoint, or a route of another class, gets the check at once."""
    _probes(app)
    for path in ("/probe/async", "/probe/plain", "/probe/direct"):
        assert client.get(f"/api/v1{path}").status_code == 401, path
    assert admin.get("/probe/async").json() is True
    assert admin.get("/probe/plain").json() == {"name": "名称", "count": 0}


def test_one_user_takes_five_statements(admin: Api, client: TestClient, app: Any) -> None:
    _, user_id, _ = _clerk(admin, client, "costone1")
    admin.get(f"/users/{user_id}")
    with statements_of(app) as seen:
        admin.get(f"/users/{user_id}")
    # token, the user's row, roles, approval roles, role permissions
    assert len(seen) == 5, seen


def test_a_page_of_roles_reads_permissions_once(admin: Api, client: TestClient, app: Any) -> None:
    """Every role's permissions in one query of plain rows, whatever the number of roles."""
    _clerk(admin, client, "costrole1")
    admin.get("/roles")
    with statements_of(app) as seen:
        first = admin.get("/roles", params={"page_size": 50}).json()
    # token, the page with its total, permissions, holders
    assert len(seen) == 4, seen
    for n in range(2, 5):
        _clerk(admin, client, f"costrole{n}")
    admin.post(
        "/roles",
        201,
        json={
            "name": "指定机构角色",
            "org_id": root_id(admin),
            "permissions": ["orgs:view"],
            "data_scope": {"kind": "orgs", "org_ids": [root_id(admin)]},
        },
    )
    admin.get("/roles")
    with statements_of(app) as again:
        more = admin.get("/roles", params={"page_size": 50}).json()
    assert len(more["items"]) == len(first["items"]) + 4
    chosen = next(r for r in more["items"] if r["name"] == "指定机构角色")
    assert chosen["data_scope"] == {"kind": "orgs", "org_ids": [root_id(admin)]}
    assert len(again) == 5, again  # and the chosen organisations of the one role that has them


def test_a_page_of_organisations_takes_three_statements(
    admin: Api, client: TestClient, app: Any
) -> None:
    admin.get("/orgs")
    with statements_of(app) as seen:
        page = admin.get("/orgs", params={"page_size": 50}).json()
    assert page["items"]
    # token, the page with its total, the children counted per organisation
    assert len(seen) == 3, seen


def test_an_application_detail_reads_each_fact_once(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock, app: Any
) -> None:
    """What the review dialog is told is read with what it is about: the names of the step's
    bureau, of its assignee and of its candidates' organisations, and whether a step came
    before it, with the step or the candidates (not once per place they are shown, nor by
    loading an account with its roles)."""
    world = build(initialised, client, settings, clock.now())
    body = application_body(BusinessType.annual_report_filing)
    app_id = world.apis["intake"].post("/applications", 201, json=body).json()["id"]
    clerk = world.apis["xh_clerk"]
    first = clerk.get(f"/applications/{app_id}").json()
    with statements_of(app) as seen:
        again = clerk.get(f"/applications/{app_id}").json()
    assert again == first and again["can_act"] and again["assign_to"]
    # token, application, its pending step (with its bureau's and assignee's names and whether
    # a step was done before it), the candidates with their organisations and standings (the
    # caller's among them), the people
    assert len(seen) == 5, seen
    colleague = world.users["xh_clerk2"].id
    clerk.post(
        f"/applications/{app_id}/assign",
        json={"version": first["version"], "assignee_id": colleague},
    )
    with statements_of(app) as assigned:
        seen_assigned = clerk.get(f"/applications/{app_id}").json()
    assert seen_assigned["current_task"]["assignee_name"] == world.users["xh_clerk2"].name
    assert not seen_assigned["can_act"]
    # token, application, step (with the assignee's name), candidates, the people
    assert len(assigned) == 5, assigned


def test_a_city_page_of_users_reads_its_subtrees_in_one_query(
    admin: Api, client: TestClient, app: Any
) -> None:
    """A city administrator's own_subtree role reaches every bureau under his city: the
    subtrees of the page's organisations are read in one query, their paths coming with the
    page's rows."""
    city = make_city(admin, client, root_id(admin), "hz", "330100", "330102")
    city.admin.get("/users")
    with statements_of(app) as seen:
        page = city.admin.get("/users", params={"page_size": 50}).json()
    assert {u["id"] for u in page["items"]} == {city.admin_user_id, city.clerk_user_id}
    assert len([s for s in seen if "orgs.path LIKE" in s]) == 1, seen
    # token, the page with its total, roles, approval roles, role permissions, subtrees
    assert len(seen) == 6, seen
