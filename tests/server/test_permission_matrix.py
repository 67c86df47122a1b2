"""Every endpoint declares what it needs, and the server enforces exactly that."""

from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from server.api.deps import Authenticate, Require
from server.app import API_PREFIX, ROUTERS
from shared.permissions import all_permissions
from tests.server.conftest import Api
from tests.server.world import make_user, root_id

PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/health"),
    # anyone holding a 保安员证's QR, or its holder's name with the ID or certificate number
    ("POST", "/api/v1/certificates/verify"),
    ("GET", "/api/v1/certificates/lookup"),
}


def _dependency_calls(route: APIRoute) -> list[Any]:
    found, stack = [], list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


def declared(app=None) -> dict[tuple[str, str], str | bool | None]:  # type: ignore[no-untyped-def]
    """(method, path) → permission; None = any signed-in account; False = token only."""
    result: dict[tuple[str, str], str | bool | None] = {}
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    for route in routes:
        calls = _dependency_calls(route)
        requires = [c for c in calls if isinstance(c, Require)]
        for method in route.methods:
            key = (method, API_PREFIX + route.path)
            if requires:
                result[key] = requires[0].permission
            elif any(isinstance(c, Authenticate) for c in calls):
                result[key] = False
            else:
                result[key] = "PUBLIC"
    return result


def test_every_endpoint_declares_its_requirement(app) -> None:  # type: ignore[no-untyped-def]
    table = declared(app)
    served = {path for path in app.openapi()["paths"]}
    assert {path for _, path in table} == served  # the walk saw every published route
    public = {key for key, value in table.items() if value == "PUBLIC"}
    assert public == PUBLIC
    token_only = {path for (_, path), value in table.items() if value is False}
    assert token_only == {
        "/api/v1/auth/logout",
        "/api/v1/auth/change-password",
        "/api/v1/auth/verification-code",
        "/api/v1/me",
    }
    for key, value in table.items():
        if isinstance(value, str) and value != "PUBLIC":
            assert value in all_permissions(), key


def _path(path: str) -> str:
    path = path.removeprefix(API_PREFIX)
    return path.replace("{org_id}", "1").replace("{role_id}", "1").replace("{user_id}", "1")


def test_each_permission_is_enforced(app, client: TestClient, admin: Api) -> None:  # type: ignore[no-untyped-def]
    table = declared(app)
    protected = {
        key: perm for key, perm in table.items() if isinstance(perm, str) and perm != "PUBLIC"
    }
    root = root_id(admin)
    everything = sorted(all_permissions())
    for n, ((method, path), permission) in enumerate(sorted(protected.items())):
        without = [p for p in everything if p != permission]
        role = admin.post(
            "/roles",
            201,
            json={
                "name": f"缺{n}",
                "org_id": root,
                "permissions": without,
                "data_scope": {"kind": "all"},
            },
        ).json()
        _, api = make_user(admin, client, f"lack{n:03d}", root, role["id"])
        response = api.call(method, _path(path), json={})
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "PERMISSION_DENIED"
        assert response.json()["details"] == {"permission": permission}

        only = admin.post(
            "/roles",
            201,
            json={
                "name": f"仅{n}",
                "org_id": root,
                "permissions": [permission],
                "data_scope": {"kind": "all"},
            },
        ).json()
        _, holder = make_user(admin, client, f"only{n:03d}", root, only["id"])
        allowed = holder.call(method, _path(path), json={})
        assert allowed.status_code != 403 or allowed.json()["code"] != "PERMISSION_DENIED", (
            method,
            path,
            allowed.text,
        )


def test_signed_in_without_permissions_sees_catalogue(client: TestClient, admin: Api) -> None:
    role = admin.post(
        "/roles",
        201,
        json={
            "name": "无权限",
            "org_id": root_id(admin),
            "permissions": [],
            "data_scope": {"kind": "own_org"},
        },
    ).json()
    _, api = make_user(admin, client, "nobody", root_id(admin), role["id"])
    catalogue = api.get("/permissions").json()
    labels = {m["label"] for m in catalogue["modules"]}
    assert {"一键搜", "通用审批", "保安协会管理", "监督检查情况管理", "用户管理"} <= labels
    assert api.get("/orgs", 403).json()["message"] == "您没有执行该操作的权限"
