"""The screening endpoints: run and view an application's screening, upload the watch list."""

from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.db.approval_models import ApprovalLogEntry, WatchListEntry
from shared.masking import mask_id_number
from tests.server.conftest import Api
from tests.server.screening_fixtures import LI, ZHANG, make_application, running_service
from tests.server.world import City, make_user, root_id, two_cities

SCREENER = ["applications:view", "screening:view", "screening:run"]


def _role(admin: Api, org_id: int, name: str, permissions: list[str]) -> int:
    body = {
        "name": name,
        "org_id": org_id,
        "permissions": permissions,
        "data_scope": {"kind": "own_subtree"},
    }
    return int(admin.post("/roles", 201, json=body).json()["id"])


@pytest.fixture
def cities(admin: Api, client: TestClient) -> tuple[City, City]:
    return two_cities(admin, client)


def _screener(admin: Api, client: TestClient, city: City, permissions: list[str]) -> Api:
    role = _role(admin, city.city_id, f"审查{len(permissions)}", permissions)
    _, api = make_user(admin, client, f"screener{len(permissions)}", city.city_id, role)
    return api


def test_run_and_view(
    admin: Api,
    client: TestClient,
    cities: tuple[City, City],
    session: Session,
    clock: FrozenClock,
) -> None:
    hz, _ = cities
    application = make_application(session, hz.county_id, clock.now())
    screener = _screener(admin, client, hz, SCREENER)
    path = f"/applications/{application.id}/screening"

    before = screener.get(path).json()
    assert (before["state"], before["state_label"]) == ("missing", "未完成审查")
    assert (before["approve_allowed"], before["reject_allowed"]) == (False, True)
    assert before["last_checked_at"] is None
    first = before["persons"][0]
    assert (first["name"], first["role"], first["role_label"]) == (
        "张三",
        "legal_rep",
        "法定代表人",
    )
    assert first["id_number"] == mask_id_number(ZHANG)
    assert [c["category_label"] for c in first["results"]] == [
        "刑事犯罪",
        "收容收教",
        "强制戒毒",
        "网上逃犯",
        "肇事肇祸精神病",
    ]
    assert {c["outcome_label"] for c in first["results"]} == {"未审查"}

    clear = screener.post(path).json()
    assert (clear["state"], clear["approve_allowed"], clear["reject_allowed"]) == (
        "clear",
        True,
        True,
    )
    cell = clear["persons"][1]["results"][0]
    assert (cell["outcome"], cell["provider"], cell["operator_name"]) == (
        "clear",
        "watchlist",
        "用户screener3",
    )

    session.add(
        WatchListEntry(
            id_number=LI,
            name="李四",
            category="drug_rehabilitation",
            source="西湖区公安分局",
            listed_date=date(2018, 6, 1),
            imported_at=clock.now(),
        )
    )
    session.commit()
    clock.advance(minutes=5)
    hit = screener.post(path).json()
    assert (hit["state"], hit["approve_allowed"], hit["reject_allowed"]) == ("hit", False, True)
    li = hit["persons"][1]
    assert li["state"] == "hit"
    assert li["results"][2]["detail"] == "来源：西湖区公安分局，列入日期：2018-06-01"
    assert hit == screener.get(path).json()
    opinions = session.scalars(
        select(ApprovalLogEntry.opinion).where(ApprovalLogEntry.application_id == application.id)
    ).all()
    assert opinions == ["审查 2 人：未见异常", "审查 2 人：命中 1 项（李四：强制戒毒）"]

    full = admin.get(path).json()  # the administrator may see personal numbers in full
    assert full["persons"][0]["id_number"] == ZHANG


def test_scope_and_permissions(
    admin: Api,
    client: TestClient,
    cities: tuple[City, City],
    session: Session,
    clock: FrozenClock,
) -> None:
    hz, nb = cities
    elsewhere = make_application(session, nb.county_id, clock.now())
    mine = make_application(session, hz.station_id, clock.now())
    screener = _screener(admin, client, hz, SCREENER)
    for method in ("GET", "POST"):
        response = screener.call(method, f"/applications/{elsewhere.id}/screening", 404)
        assert response.json()["code"] == "NOT_FOUND"
        screener.call(method, "/applications/999999/screening", 404)
    viewer = _screener(admin, client, hz, ["screening:view"])
    viewer.get(f"/applications/{mine.id}/screening")
    refused = viewer.post(f"/applications/{mine.id}/screening", 403).json()
    assert refused["details"] == {"permission": "screening:run"}
    hz.clerk.get(f"/applications/{mine.id}/screening", 403)


def test_run_through_the_police_data_service(
    app: FastAPI, admin: Api, session: Session, clock: FrozenClock
) -> None:
    application = make_application(session, root_id(admin), clock.now())
    path = f"/applications/{application.id}/screening"
    context = app.state.context
    context.settings = context.settings.model_copy(update={"screening_provider": "http"})
    unavailable = admin.post(path, 503).json()
    assert unavailable["code"] == "SCREENING_PROVIDER_UNAVAILABLE"
    with running_service() as (service, url):
        context.settings = context.settings.model_copy(
            update={"screening_url": url, "screening_timeout_seconds": 5}
        )
        service.mode = "malformed"
        failed = admin.post(path).json()
        assert (failed["state"], failed["approve_allowed"], failed["reject_allowed"]) == (
            "error",
            False,
            False,
        )
        assert failed["persons"][0]["results"][0]["detail"] == "公安数据服务返回的数据无法识别"
        service.mode, service.hits = "answer", {ZHANG: {"wanted_fugitive"}}
        clock.advance(minutes=1)
        hit = admin.post(path).json()
    assert hit["state"] == "hit"
    assert hit["persons"][0]["results"][3]["outcome_label"] == "命中"
    assert {c["provider"] for p in hit["persons"] for c in p["results"]} == {"http"}


def test_watch_list_upload(admin: Api, client: TestClient, session: Session) -> None:
    good = f"身份证号,姓名,类别,来源\n{ZHANG},张三,刑事犯罪,杭州市公安局\n".encode("gbk")
    report = admin.post("/screening/watch-list", files={"file": ("名单.csv", good)}).json()
    assert report == {"added": 1, "updated": 0, "unchanged": 0}
    bad = f"身份证号,姓名,类别,来源\n{LI},李四,赌博,杭州市公安局\n".encode()
    refused = admin.post("/screening/watch-list", 422, files={"file": ("名单.csv", bad)}).json()
    assert refused["code"] == "IMPORT_INVALID"
    assert refused["details"][0]["row"] == 2
    admin.post("/screening/watch-list", 422, files={"file": ("名单.txt", good)})
    assert session.scalars(select(WatchListEntry.id_number)).all() == [ZHANG]


def test_approvers_see_the_identities_they_check_in_full(
    admin: Api,
    client: TestClient,
    cities: tuple[City, City],
    session: Session,
    clock: FrozenClock,
) -> None:
    """The same rule as the application detail: whoever approves sees ID numbers in full."""
    hz, _ = cities
    application = make_application(session, hz.county_id, clock.now())
    approver = _screener(admin, client, hz, [*SCREENER, "applications:approve"])
    persons = approver.get(f"/applications/{application.id}/screening").json()["persons"]
    assert persons[0]["id_number"] == ZHANG
    detail = approver.get(f"/applications/{application.id}").json()
    assert ZHANG in [p["id_number"] for p in detail["persons"]]
