"""Hostile or malformed input answers 4xx with a client-error code and a Chinese message, on both
engines; ``INTERNAL_ERROR`` stays reserved for faults of the server itself."""

import re
from typing import Any

import pytest

from tests.server.conftest import Api
from tests.server.world import root_id

HAN = re.compile(r"[\u4e00-\u9fff]")
BIG_ID = 3_000_000_000  # above PostgreSQL's integer (2**31 - 1)


def assert_client_error(response: Any, status: int | None = None) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status is not None:
        assert response.status_code == status, (response.status_code, response.text[:500])
    body: dict[str, Any] = response.json()
    assert body["code"] not in ("INTERNAL_ERROR", None), body
    assert HAN.search(body["message"]), body
    return body


@pytest.mark.parametrize(
    "path",
    [
        f"/orgs/{BIG_ID}",
        f"/roles/{BIG_ID}",
        f"/users/{BIG_ID}",
        f"/applications/{BIG_ID}",
        f"/applications/{BIG_ID}/screening",
        f"/materials/{BIG_ID}/content",
        f"/orgs/{2**64}",
        "/orgs/0",
        "/orgs/-1",
    ],
)
def test_ids_outside_the_database_range_are_refused(admin: Api, path: str) -> None:
    assert_client_error(admin.get(path, None))


def test_ids_in_query_and_body_outside_the_range_are_refused(admin: Api) -> None:
    assert_client_error(admin.get("/users", None, params={"org_id": BIG_ID}))
    assert_client_error(admin.get("/audit", None, params={"actor_id": BIG_ID}))
    org = {"name": "温州市公安局", "type": "city_bureau", "region_code": "330300"}
    assert_client_error(admin.post("/orgs", None, json={**org, "parent_id": BIG_ID}))
    root = admin.get(f"/orgs/{root_id(admin)}").json()
    too_new = {"name": "浙江省公安厅", "version": 2**70}
    assert_client_error(admin.patch(f"/orgs/{root['id']}", None, json=too_new))


@pytest.mark.parametrize("page", [10**12, 2**63, 10**30])
@pytest.mark.parametrize("path", ["/orgs", "/roles", "/users", "/audit", "/inbox"])
def test_huge_page_numbers_are_refused(admin: Api, path: str, page: int) -> None:
    assert_client_error(admin.get(path, None, params={"page": page}), 422)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/users", {"q": "a\x00b"}),
        ("/orgs", {"q": "\x00"}),
        ("/roles", {"q": "x\x00"}),
        ("/audit", {"entity_id": "\x00"}),
        ("/inbox", {"applicant": "\x00"}),
        ("/documents/verify", {"number": "\x00", "code": "1"}),
    ],
)
def test_nul_bytes_in_query_strings_are_refused(
    admin: Api, path: str, params: dict[str, str]
) -> None:
    assert_client_error(admin.get(path, None, params=params), 422)


@pytest.mark.parametrize(
    "params", [{"since": "2026-03-01"}, {"until": "2026-03-01T08:00:00"}, {"since": "昨天"}]
)
def test_instants_without_an_offset_are_refused(admin: Api, params: dict[str, str]) -> None:
    """A bare date or local time is no instant: the audit log's filter needs its offset."""
    assert_client_error(admin.get("/audit", None, params=params), 422)
    assert admin.get("/audit", params={"since": "2026-03-01T08:00:00+08:00"}).json()["items"]


def test_nul_bytes_in_bodies_are_refused(admin: Api) -> None:
    root = root_id(admin)
    org = {"name": "温州\x00公安局", "parent_id": root, "type": "city_bureau"}
    assert_client_error(admin.post("/orgs", None, json={**org, "region_code": "330300"}), 422)
    form = {"unit_name": "\x00\x00", "extra\x00": 1}
    body = {
        "business_type": "company_licence",
        "applicant_kind": "unit",
        "applicant_name": "某某保安",
        "applicant_code": "91330100MA27XXXX1A",
        "region_code": "330102",
        "form": form,
        "persons": [{"role": "legal_rep", "name": "张三", "id_number": "330102199001011237"}],
    }
    assert_client_error(admin.post("/applications", None, json=body), 422)


def test_a_role_with_100000_organisations_is_refused(admin: Api) -> None:
    body = {
        "name": "巨型角色",
        "org_id": root_id(admin),
        "permissions": ["orgs:view"],
        "data_scope": {"kind": "orgs", "org_ids": list(range(1, 100_001))},
    }
    assert_client_error(admin.post("/roles", None, json=body), 422)


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": "\xff\xfe\xfa", "parent_id": 1}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"\x00\x01\x02",
    ],
    ids=["not-utf8", "deep-list", "deep-object", "binary"],
)
def test_undecodable_json_bodies_are_refused(admin: Api, content: bytes) -> None:
    headers = {"Authorization": f"Bearer {admin.token}", "Content-Type": "application/json"}
    response = admin.client.post("/api/v1/orgs", content=content, headers=headers)
    assert_client_error(response)


def test_a_multipart_body_of_3000_parts_is_refused(admin: Api) -> None:
    fields = {f"f{i}": "x" for i in range(3000)}
    response = admin.post(
        "/applications/1/materials",
        None,
        data=fields,
        files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert_client_error(response)


def test_a_10_mb_title_is_refused(admin: Api) -> None:
    response = admin.post(
        "/applications/1/materials",
        None,
        data={"title": "材" * (10 * 1024 * 1024 // 3)},
        files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert_client_error(response)


def test_method_not_allowed_keeps_the_allow_header(admin: Api) -> None:
    response = admin.call("DELETE", "/health", 405)
    assert response.headers.get("allow") == "GET"
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


def test_every_numeric_path_parameter_is_bounded() -> None:
    """Every integer in a path is a bounded ``Id`` (a plain ``int`` reaches PostgreSQL's integer
    columns and fails there), or a sync seq bounded by its ``BIGINT`` (``MAX_SEQ``); walked over
    every router so a new route cannot forget it."""
    from fastapi.routing import APIRoute

    from server.app import ROUTERS
    from shared.schemas.common import INT32_MAX
    from shared.sync.bundle import MAX_SEQ

    unbounded, checked = [], 0
    for route in (r for router in ROUTERS for r in router.routes):
        if not isinstance(route, APIRoute):
            continue
        for param in route.dependant.path_params:
            checked += 1
            if param.field_info.annotation is not int:
                continue
            limits = [getattr(m, "le", None) for m in param.field_info.metadata]
            if INT32_MAX not in limits and MAX_SEQ not in limits:
                unbounded.append(f"{route.path} {param.name}")
    assert checked > 10 and unbounded == []


def test_every_field_a_request_carries_has_a_chinese_name() -> None:
    """A 422's message starts with the field's name, and the desk shows the message as it is:
    walked over the whole API description (parameters and request bodies, JSON and forms), so
    a new field cannot reach a clerk as ``reason：长度不足``."""
    from fastapi.openapi.utils import get_openapi

    from server.app import ROUTERS
    from shared.validation import field_label

    spec = get_openapi(
        title="sgss", version="0", routes=[r for router in ROUTERS for r in router.routes]
    )
    schemas = spec["components"]["schemas"]
    names: set[str] = set()
    for operation in (op for ops in spec["paths"].values() for op in ops.values()):
        names.update(p["name"] for p in operation.get("parameters", []))
        for content in operation.get("requestBody", {}).get("content", {}).values():
            ref = content["schema"].get("$ref", "")
            names.update(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
    assert len(names) > 50
    unnamed = sorted(
        n for n in names if not HAN.search(field_label(n)) or field_label(n) == "提交的数据"
    )
    assert unnamed == []


def test_a_clerk_reads_which_field_is_wrong_in_chinese(admin: Api) -> None:
    """What a tired clerk can send: a one-character reason, an over-long material title (a form
    field, whose length error is reported as a sequence's), a page number of 0."""
    returned = admin.post("/applications/1/return", 422, json={"version": 1, "reason": "无"})
    assert returned.json()["message"] == "原因：长度不足"
    titled = admin.post(
        "/applications/1/materials",
        422,
        data={"title": "材" * 101},
        files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert titled.json()["message"] == "材料名称：长度超出限制"
    assert admin.get("/users", 422, params={"page": 0}).json()["message"] == "页码：数值过小"
    unknown = admin.get("/inbox", 422, params={"box": "zzz"}).json()["message"]
    assert unknown == "事项类别：取值无效"


def test_a_name_differing_only_in_invisible_characters_is_the_same_name(admin: Api) -> None:
    """Pasted names bring zero-width spaces, byte-order marks and direction overrides along
    unseen; a look-alike ideograph (CJK compatibility block) reads the same too. Each would
    make a second "上城区公安分局" or "系统管理员" that no one can tell apart from the first."""
    root = root_id(admin)
    org = {"parent_id": root, "type": "city_bureau", "region_code": "330100"}
    created = admin.post("/orgs", 201, json={**org, "name": "杭州市公安局\ufeff"}).json()
    assert created["name"] == "杭州市公安局"
    for twin in ("杭州市公安局\u200b", "\u202e杭州市公安局", "杭\u2060州市公安局"):
        assert admin.post("/orgs", 409, json={**org, "name": twin}).json()["code"] == (
            "ORG_NAME_TAKEN"
        )
    role = {"org_id": root, "permissions": ["users:view"], "data_scope": {"kind": "own_org"}}
    builtin = admin.get("/roles", params={"org_id": root}).json()["items"][0]["name"]
    twin_role = admin.post("/roles", 409, json={**role, "name": builtin + "\u200b"})
    assert twin_role.json()["code"] == "ROLE_NAME_TAKEN"
    assert admin.post("/roles", 201, json={**role, "name": "\uf900\u200b"}).json()["name"] == (
        "\u8c48"
    )
    nothing = admin.post("/orgs", 422, json={**org, "name": "\u200b\u200b\u200b"}).json()
    assert nothing["message"] == "名称：长度不足"
    two_lines = admin.post("/orgs", 422, json={**org, "name": "杭州\n市局"}).json()
    assert two_lines["message"] == "名称：不能包含换行、制表符等控制字符"


def test_method_not_allowed_names_every_method_of_the_path(admin: Api) -> None:
    """``GET /orgs`` and ``POST /orgs`` are two routes: a PUT hears of both, not of the first
    one the framework tried."""
    response = admin.call("PUT", "/orgs", 405)
    assert response.headers.get("allow") == "GET, POST"
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
