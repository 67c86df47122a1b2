from fastapi.testclient import TestClient

from tests.server.conftest import Api
from tests.server.world import root_id, two_cities


def test_create_edit_delete_org(admin: Api) -> None:
    root = root_id(admin)
    city = admin.post(
        "/orgs",
        201,
        json={
            "name": "温州市公安局",
            "parent_id": root,
            "type": "city_bureau",
            "region_code": "330300",
            "phone": "0577-88888888",
            "address": "温州市鹿城区",
        },
    ).json()
    assert city["region_name"] == "浙江省温州市"
    assert city["depth"] == 1
    edited = admin.patch(
        f"/orgs/{city['id']}", 200, json={"phone": "0577-1", "version": city["version"]}
    ).json()
    assert edited["phone"] == "0577-1" and edited["version"] == city["version"] + 1
    stale = admin.patch(
        f"/orgs/{city['id']}", 409, json={"phone": "0577-2", "version": city["version"]}
    )
    assert stale.json()["code"] == "STALE_VERSION"
    tree = admin.get("/orgs", params={"parent_id": root}).json()
    assert [o["name"] for o in tree["items"]] == ["温州市公安局"]
    assert admin.get(f"/orgs/{root}").json()["child_count"] == 1
    admin.delete(f"/orgs/{city['id']}")
    admin.get(f"/orgs/{city['id']}", 404)


def test_placement_rules(admin: Api) -> None:
    root = root_id(admin)
    outside = admin.post(
        "/orgs",
        422,
        json={
            "name": "南京市公安局",
            "parent_id": root,
            "type": "city_bureau",
            "region_code": "320100",
        },
    ).json()
    assert outside["code"] == "ORG_REGION_INVALID"
    wrong_level = admin.post(
        "/orgs",
        422,
        json={
            "name": "错级",
            "parent_id": root,
            "type": "city_bureau",
            "region_code": "330102",
        },
    ).json()
    assert wrong_level["code"] == "ORG_REGION_INVALID"
    unknown = admin.post(
        "/orgs",
        422,
        json={
            "name": "虚构",
            "parent_id": root,
            "type": "city_bureau",
            "region_code": "339900",
        },
    ).json()
    assert unknown["code"] == "ORG_REGION_INVALID"
    city = admin.post(
        "/orgs",
        201,
        json={
            "name": "杭州市公安局",
            "parent_id": root,
            "type": "city_bureau",
            "region_code": "330100",
        },
    ).json()
    station = admin.post(
        "/orgs",
        201,
        json={
            "name": "湖滨派出所",
            "parent_id": city["id"],
            "type": "police_station",
            "region_code": "330102",
        },
    ).json()
    upside_down = admin.post(
        "/orgs",
        422,
        json={
            "name": "倒挂分局",
            "parent_id": station["id"],
            "type": "county_bureau",
            "region_code": "330102",
        },
    ).json()
    assert upside_down["code"] == "ORG_INVALID_PARENT"
    twin = admin.post(
        "/orgs",
        409,
        json={
            "name": "湖滨派出所",
            "parent_id": city["id"],
            "type": "police_station",
            "region_code": "330102",
        },
    ).json()
    assert twin["code"] == "ORG_NAME_TAKEN"
    bad_shape = admin.post(
        "/orgs",
        422,
        json={
            "name": "x",
            "parent_id": root,
            "type": "nonsense",
            "region_code": "33",
        },
    ).json()
    assert bad_shape["code"] == "VALIDATION_ERROR"
    assert {d["field"] for d in bad_shape["details"]} == {"name", "type", "region_code"}


def test_delete_refused_with_children_users_or_root(client: TestClient, admin: Api) -> None:
    hz, _ = two_cities(admin, client)
    children = admin.delete(f"/orgs/{hz.county_id}", 409).json()
    assert children["code"] == "ORG_HAS_CHILDREN"
    assert children["message"] == "该机构下还有下级机构，不能删除"
    with_users = admin.delete(f"/orgs/{hz.station_id}", 409).json()
    assert with_users["code"] == "ORG_HAS_USERS" and with_users["details"] == {"count": 1}
    assert admin.delete(f"/orgs/{root_id(admin)}", 409).json()["code"] == "ORG_ROOT_PROTECTED"
    admin.get(f"/orgs/{hz.station_id}", 200)


def test_city_admin_works_inside_own_jurisdiction(client: TestClient, admin: Api) -> None:
    hz, _ = two_cities(admin, client)
    new = hz.admin.post(
        "/orgs",
        201,
        json={
            "name": "南山派出所",
            "parent_id": hz.county_id,
            "type": "police_station",
            "region_code": "330102",
        },
    ).json()
    assert new["editable"] is True
    hz.admin.delete(f"/orgs/{new['id']}")
    # the city admin cannot delete the city itself (their own organisation)
    assert hz.admin.delete(f"/orgs/{hz.city_id}", 409).json()["code"] == "ORG_ROOT_PROTECTED"


def test_a_new_org_starts_at_version_one(admin: Api) -> None:
    city = admin.post(
        "/orgs",
        201,
        json={
            "name": "台州市公安局",
            "parent_id": root_id(admin),
            "type": "city_bureau",
            "region_code": "331000",
        },
    ).json()
    assert city["version"] == 1
    assert (
        admin.patch(
            f"/orgs/{city['id']}", 200, json={"phone": "0576-88000000", "version": 1}
        ).json()["version"]
        == 2
    )
