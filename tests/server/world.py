"""Two cities, each with a county bureau and a station, an admin and a clerk per city."""

from dataclasses import dataclass

from fastapi.testclient import TestClient

from tests.server.conftest import Api, login

STRONG = "Qiantang#River9"
ID_HZ = "330102199001011237"  # valid check digit


def _valid_id(region: str, birth: str = "19900101", seq: str = "123") -> str:
    from shared.idnumber import check_char

    first17 = region + birth + seq
    return first17 + check_char(first17)


@dataclass
class City:
    city_id: int
    county_id: int
    station_id: int
    admin_role_id: int
    clerk_role_id: int
    admin_user_id: int
    clerk_user_id: int
    admin: Api
    clerk: Api


CITY_ADMIN_PERMISSIONS = [
    "orgs:view",
    "orgs:create",
    "orgs:update",
    "orgs:delete",
    "roles:view",
    "roles:create",
    "roles:update",
    "roles:delete",
    "users:view",
    "users:create",
    "users:update",
    "users:reset_password",
    "users:unlock",
    "audit:view",
    "applications:view",
]


def activate(client: TestClient, username: str, one_time: str) -> Api:
    api = login(client, username, one_time)
    api.post("/auth/change-password", 204, json={"old_password": one_time, "new_password": STRONG})
    return login(client, username, STRONG)


def make_user(
    admin: Api, client: TestClient, username: str, org_id: int, role_id: int
) -> tuple[int, Api]:
    body = {
        "username": username,
        "name": f"用户{username}",
        "org_id": org_id,
        "mobile": "13812345678",
        "id_number": _valid_id("330102"),
        "is_police": True,
        "police_number": "012345",
        "role_ids": [role_id],
    }
    created = admin.post("/users", 201, json=body).json()
    return created["id"], activate(client, username, created["initial_password"])


def make_city(
    admin: Api, client: TestClient, root_id: int, key: str, region: str, county: str
) -> City:
    city = admin.post(
        "/orgs",
        201,
        json={
            "name": f"{key}市公安局",
            "parent_id": root_id,
            "type": "city_bureau",
            "region_code": region,
        },
    ).json()
    county_org = admin.post(
        "/orgs",
        201,
        json={
            "name": f"{key}县公安局",
            "parent_id": city["id"],
            "type": "county_bureau",
            "region_code": county,
        },
    ).json()
    station = admin.post(
        "/orgs",
        201,
        json={
            "name": f"{key}派出所",
            "parent_id": county_org["id"],
            "type": "police_station",
            "region_code": county,
        },
    ).json()
    admin_role = admin.post(
        "/roles",
        201,
        json={
            "name": f"{key}管理员",
            "org_id": city["id"],
            "permissions": CITY_ADMIN_PERMISSIONS,
            "data_scope": {"kind": "own_subtree"},
        },
    ).json()
    clerk_role = admin.post(
        "/roles",
        201,
        json={
            "name": f"{key}民警",
            "org_id": city["id"],
            "permissions": ["applications:view"],
            "data_scope": {"kind": "own_org"},
        },
    ).json()
    admin_id, admin_api = make_user(admin, client, f"{key}_admin", city["id"], admin_role["id"])
    clerk_id, clerk_api = make_user(admin, client, f"{key}_clerk", station["id"], clerk_role["id"])
    return City(
        city["id"],
        county_org["id"],
        station["id"],
        admin_role["id"],
        clerk_role["id"],
        admin_id,
        clerk_id,
        admin_api,
        clerk_api,
    )


def root_id(admin: Api) -> int:
    return int(admin.get("/me").json()["org_id"])


def two_cities(admin: Api, client: TestClient) -> tuple[City, City]:
    root = root_id(admin)
    return (
        make_city(admin, client, root, "hz", "330100", "330102"),
        make_city(admin, client, root, "nb", "330200", "330203"),
    )
