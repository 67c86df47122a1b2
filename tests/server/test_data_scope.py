"""Data-scope isolation between two cities on every list and detail endpoint."""

from fastapi.testclient import TestClient

from tests.server.conftest import Api
from tests.server.world import two_cities


def _ids(api: Api, path: str, **params: object) -> set[int]:
    items = api.get(path, params={"page_size": 1000, **params}).json()["items"]
    return {item.get("id", item.get("seq")) for item in items}


def test_lists_show_only_own_city(client: TestClient, admin: Api) -> None:
    hz, nb = two_cities(admin, client)
    hz_orgs = _ids(hz.admin, "/orgs")
    assert hz_orgs == {hz.city_id, hz.county_id, hz.station_id}
    hz_roles = _ids(hz.admin, "/roles")
    assert {hz.admin_role_id, hz.clerk_role_id} <= hz_roles
    assert not {nb.admin_role_id, nb.clerk_role_id} & hz_roles
    assert _ids(hz.admin, "/users") == {hz.admin_user_id, hz.clerk_user_id}
    audit_orgs = {
        e["org_id"] for e in hz.admin.get("/audit", params={"page_size": 500}).json()["items"]
    }
    assert audit_orgs and audit_orgs <= hz_orgs
    assert _ids(nb.admin, "/users") == {nb.admin_user_id, nb.clerk_user_id}
    # a station clerk with own_org scope sees nothing of the city above (and has no users:view)
    hz.clerk.get("/users", 403)


def test_details_of_the_other_city_are_not_found(client: TestClient, admin: Api) -> None:
    hz, nb = two_cities(admin, client)
    for path in (
        f"/orgs/{nb.city_id}",
        f"/orgs/{nb.station_id}",
        f"/roles/{nb.admin_role_id}",
        f"/users/{nb.admin_user_id}",
        f"/users/{nb.clerk_user_id}",
    ):
        body = hz.admin.get(path, 404).json()
        assert body["code"] == "NOT_FOUND"
    # writes are refused the same way, and nothing changes
    hz.admin.patch(f"/orgs/{nb.county_id}", 404, json={"phone": "0571-1"})
    hz.admin.delete(f"/orgs/{nb.station_id}", 404)
    hz.admin.patch(f"/roles/{nb.clerk_role_id}", 404, json={"name": "x"})
    hz.admin.delete(f"/roles/{nb.clerk_role_id}", 404)
    hz.admin.patch(f"/users/{nb.clerk_user_id}", 404, json={"name": "x"})
    hz.admin.post(f"/users/{nb.clerk_user_id}/reset-password", 404)
    hz.admin.post(f"/users/{nb.clerk_user_id}/unlock", 404)
    hz.admin.post(
        "/orgs",
        404,
        json={
            "name": "越界所",
            "parent_id": nb.county_id,
            "type": "police_station",
            "region_code": "330203",
        },
    )
    assert admin.get(f"/users/{nb.clerk_user_id}").json()["name"] == "用户nb_clerk"


def test_no_escalation_through_roles(client: TestClient, admin: Api) -> None:
    hz, nb = two_cities(admin, client)
    # more permissions than the creator holds
    over = hz.admin.post(
        "/roles",
        403,
        json={
            "name": "超权",
            "org_id": hz.city_id,
            "permissions": ["sync:run"],
            "data_scope": {"kind": "own_org"},
        },
    ).json()
    assert over["code"] == "ROLE_GRANT_EXCEEDS_OWN"
    # a wider data scope than the creator's
    hz.admin.post(
        "/roles",
        403,
        json={
            "name": "全省",
            "org_id": hz.city_id,
            "permissions": [],
            "data_scope": {"kind": "all"},
        },
    )
    hz.admin.post(
        "/roles",
        403,
        json={
            "name": "看宁波",
            "org_id": hz.city_id,
            "permissions": [],
            "data_scope": {"kind": "orgs", "org_ids": [nb.city_id]},
        },
    )
    # a role of another organisation branch cannot be given to a user
    hz_station_role = hz.admin.post(
        "/roles",
        201,
        json={
            "name": "所内",
            "org_id": hz.station_id,
            "permissions": ["orgs:view"],
            "data_scope": {"kind": "own_org"},
        },
    ).json()
    wrong = hz.admin.post(
        "/users",
        422,
        json={
            "username": "misfit",
            "name": "错配",
            "org_id": hz.county_id,
            "mobile": "13900000002",
            "role_ids": [hz_station_role["id"]],
        },
    ).json()
    assert wrong["code"] == "ROLE_NOT_APPLICABLE"


def test_manager_cannot_take_over_a_stronger_account(client: TestClient, admin: Api) -> None:
    hz, _ = two_cities(admin, client)
    city_station_clerk = hz.admin.get(f"/users/{hz.clerk_user_id}").json()
    assert city_station_clerk["id_number"].count("*") == 8  # masked without view_sensitive
    # a peer in the same city holding a permission the city admin lacks
    strong_role = admin.post(
        "/roles",
        201,
        json={
            "name": "强",
            "org_id": hz.city_id,
            "permissions": ["sync:run", "users:view"],
            "data_scope": {"kind": "own_org"},
        },
    ).json()
    created = admin.post(
        "/users",
        201,
        json={
            "username": "strong",
            "name": "强者",
            "org_id": hz.city_id,
            "mobile": "13900000003",
            "role_ids": [strong_role["id"]],
        },
    ).json()
    refused = hz.admin.post(f"/users/{created['id']}/reset-password", 403).json()
    assert refused["code"] == "USER_OUTRANKS_YOU"


def test_roles_of_the_province_are_usable_not_editable(client: TestClient, admin: Api) -> None:
    hz, _ = two_cities(admin, client)
    root = admin.get("/me").json()["org_id"]
    standard = admin.post(
        "/roles",
        201,
        json={
            "name": "全省通用民警",
            "org_id": root,
            "permissions": ["applications:view"],
            "data_scope": {"kind": "own_org"},
        },
    ).json()
    assert standard["id"] in _ids(hz.admin, "/roles")
    hz.admin.get(f"/roles/{standard['id']}", 200)
    created = hz.admin.post(
        "/users",
        201,
        json={
            "username": "hz_std",
            "name": "标准",
            "org_id": hz.station_id,
            "mobile": "13900000009",
            "role_ids": [standard["id"]],
        },
    ).json()
    assert [r["name"] for r in created["roles"]] == ["全省通用民警"]
    refused = hz.admin.patch(f"/roles/{standard['id']}", 403, json={"name": "改名"}).json()
    assert refused["code"] == "PERMISSION_DENIED"
    hz.admin.delete(f"/roles/{standard['id']}", 403)
