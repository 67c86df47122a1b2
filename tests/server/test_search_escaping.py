"""What a clerk types in a search box is text: ``%``, ``_`` and ``\\`` match themselves only."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from shared.enums import BusinessType
from tests.server.approval_world import application_body, build
from tests.server.conftest import Api
from tests.server.world import two_cities

WILDCARDS = ["%", "_", "%%", "\\", "\\%"]


@pytest.mark.parametrize("needle", WILDCARDS)
def test_wildcards_in_user_org_and_role_searches_match_nothing(
    admin: Api, client: TestClient, needle: str
) -> None:
    two_cities(admin, client)
    assert admin.get("/users", params={"q": "hz"}).json()["total"] > 0  # the search works
    everyone = admin.get("/users").json()["total"]
    found = admin.get("/users", params={"q": needle}).json()
    assert found["total"] < everyone
    assert all(needle in u["username"] or needle in u["name"] for u in found["items"])
    assert admin.get("/orgs", params={"q": needle}).json()["total"] == 0
    assert admin.get("/orgs", params={"region_code": needle}).json()["total"] == 0
    assert admin.get("/roles", params={"q": needle}).json()["total"] == 0
    assert admin.get("/audit", params={"action": "auth"}).json()["total"] > 0
    assert admin.get("/audit", params={"action": needle}).json()["total"] == 0


def test_a_literal_percent_sign_is_found(admin: Api, client: TestClient) -> None:
    hz, _ = two_cities(admin, client)
    admin.patch(f"/users/{hz.clerk_user_id}", json={"name": "百分%百"})
    found = admin.get("/users", params={"q": "%"}).json()
    assert [u["name"] for u in found["items"]] == ["百分%百"]


def test_wildcards_in_the_inbox_applicant_filter_match_nothing(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> None:
    world = build(initialised, client, settings, clock.now())
    body = application_body(BusinessType.annual_report_filing)
    world.apis["intake"].post("/applications", 201, json=body)
    clerk = world.apis["xh_clerk"]
    assert clerk.get("/inbox").json()["total"] == 1
    for needle in WILDCARDS:
        assert clerk.get("/inbox", params={"applicant": needle}).json()["total"] == 0, needle
