from fastapi.testclient import TestClient

from tests.server.conftest import Api, login
from tests.server.world import STRONG, root_id, two_cities


def test_create_user_returns_one_time_password_once(client: TestClient, admin: Api) -> None:
    hz, _ = two_cities(admin, client)
    created = admin.post(
        "/users",
        201,
        json={
            "username": "Zhang_San",
            "name": "张三",
            "org_id": hz.station_id,
            "mobile": "13700000001",
            "id_number": "11010519491231002x",
            "police_number": "100200",
            "approval_roles": {"guard_exam_enrolment": ["county_clerk"]},
        },
    ).json()
    assert created["username"] == "zhang_san"
    assert len(created["initial_password"]) == 12
    assert created["id_number"] == "11010519491231002X"  # the admin may see it in full
    fetched = admin.get(f"/users/{created['id']}").json()
    assert "initial_password" not in fetched
    assert fetched["approval_roles"] == {"guard_exam_enrolment": ["county_clerk"]}
    assert (
        login(client, "zhang_san", created["initial_password"])
        .get("/me")
        .json()["must_change_password"]
    )


def test_masking_depends_on_permission(client: TestClient, admin: Api) -> None:
    hz, _ = two_cities(admin, client)
    items = hz.admin.get("/users").json()["items"]
    assert all("*" in u["id_number"] and "*" in u["mobile"] for u in items)
    full = admin.get("/users", params={"org_id": hz.station_id}).json()["items"]
    assert all("*" not in u["id_number"] for u in full)
    # everyone sees their own numbers in full
    assert "*" not in hz.clerk.get("/me").json()["mobile"]


def test_user_validation_messages(admin: Api) -> None:
    root = root_id(admin)
    bad = admin.post(
        "/users",
        422,
        json={
            "username": "ok_name",
            "name": "李四",
            "org_id": root,
            "mobile": "12345",
            "id_number": "110105194912310021",
            "role_ids": [],
        },
    ).json()
    messages = {d["field"]: d["message"] for d in bad["details"]}
    assert messages["mobile"] == "格式不正确"
    assert "校验位" in messages["id_number"]
    none = admin.post(
        "/users",
        422,
        json={
            "username": "no_roles",
            "name": "王五",
            "org_id": root,
            "mobile": "13700000002",
        },
    ).json()
    assert none["code"] == "USER_ROLES_REQUIRED"
    assert none["message"] == "业务审批角色和自定义角色至少选一个"


def test_reset_password_revokes_and_forces_change(client: TestClient, admin: Api) -> None:
    hz, _ = two_cities(admin, client)
    reset = hz.admin.post(f"/users/{hz.clerk_user_id}/reset-password", 200).json()
    hz.clerk.get("/me", 401)
    fresh = login(client, "hz_clerk", reset["initial_password"])
    assert fresh.get("/me").json()["must_change_password"] is True
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "hz_clerk", "password": STRONG}
        ).status_code
        == 401
    )


def test_role_round_trip_and_in_use(client: TestClient, admin: Api) -> None:
    hz, _ = two_cities(admin, client)
    role = admin.get(f"/roles/{hz.clerk_role_id}").json()
    assert role["user_count"] == 1 and role["data_scope"] == {"kind": "own_org", "org_ids": []}
    updated = admin.patch(
        f"/roles/{hz.clerk_role_id}",
        200,
        json={
            "permissions": ["applications:view", "applications:approve"],
            "data_scope": {"kind": "orgs", "org_ids": [hz.station_id, hz.county_id]},
            "version": role["version"],
        },
    ).json()
    assert updated["permissions"] == ["applications:approve", "applications:view"]
    assert updated["data_scope"]["org_ids"] == sorted([hz.station_id, hz.county_id])
    assert "applications:approve" in hz.clerk.get("/me").json()["permissions"]
    in_use = admin.delete(f"/roles/{hz.clerk_role_id}", 409).json()
    assert in_use["code"] == "ROLE_IN_USE"
    unknown = admin.post(
        "/roles",
        422,
        json={
            "name": "坏",
            "org_id": hz.city_id,
            "permissions": ["orgs:fly"],
            "data_scope": {"kind": "all"},
        },
    ).json()
    assert "orgs:fly" in unknown["message"]


def test_paging_and_search(client: TestClient, admin: Api) -> None:
    two_cities(admin, client)
    page = admin.get("/users", params={"page": 1, "page_size": 2, "sort": "username"}).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert [u["username"] for u in page["items"]] == ["hz_admin", "hz_clerk"]
    second = admin.get("/users", params={"page": 2, "page_size": 2, "sort": "username"}).json()
    assert [u["username"] for u in second["items"]] == ["nb_admin", "nb_clerk"]
    assert admin.get("/users", params={"q": "用户nb"}).json()["total"] == 2
