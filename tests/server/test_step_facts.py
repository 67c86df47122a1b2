"""The application detail states the step's facts and the caller's actions (issue 15): whether
the step is final, whether 退回上一级 has somewhere to go, who reads the opinion, what the caller
may do and why not; the final approval's answer says the review is finished."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from shared.enums import BusinessType
from tests.server.approval_world import World, build
from tests.server.test_approvals import approve_current, detail, open_gates, submit


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


def refused(seen: dict[str, Any], action: str) -> str | None:
    state = seen["allowed_actions"][action]
    assert state["allowed"] is (state["reason_code"] is None)
    return state["reason_code"]  # type: ignore[no-any-return]


def test_facts_of_each_step_of_a_three_level_flow(world: World) -> None:
    app_id = submit(world, BusinessType.legal_rep_change)["id"]
    county = detail(world.apis["xh_clerk"], app_id)
    assert county["finished"] is False
    assert county["step"] == {
        "is_final": False,
        "can_return": False,
        "approve_opinion_visibility": "internal",
        "approve_opinion_required": False,
        "reject_opinion_visibility": "external",
        "return_opinion_visibility": "internal",
    }
    assert refused(county, "return_back") == "NO_PREVIOUS_STEP"
    assert refused(county, "approve") == "GATE_CLOSED"  # screening not run yet
    assert "背景审查" in county["allowed_actions"]["approve"]["reason"]
    assert refused(county, "assign") is None  # xh_clerk2 is a colleague of the step
    assigned_to = [p["user_id"] for p in county["assign_to"]]
    assert assigned_to == [world.users["xh_clerk2"].id]  # never the caller
    assert refused(county, "release") == "PERMISSION_DENIED"
    # another bureau's clerk sees the application's facts but may do nothing
    other = detail(world.apis["intake"], app_id)
    assert refused(other, "approve") == "PERMISSION_DENIED"
    open_gates(world, app_id)
    assert refused(detail(world.apis["xh_clerk"], app_id), "approve") is None

    approve_current(world, app_id, "县级确认")
    city = detail(world.apis["hz_clerk"], app_id)
    assert city["step"]["can_return"] is True and city["step"]["is_final"] is False
    assert refused(city, "return_back") is None
    assert refused(city, "assign") == "NO_OTHER_APPROVER"  # alone at the city
    assert city["assign_to"] == []
    assert refused(detail(world.apis["xh_clerk"], app_id), "approve") == "NOT_YOUR_STEP"

    approve_current(world, app_id, "市级同意")
    province = detail(world.apis["prov_clerk"], app_id)
    assert province["step"]["is_final"] is True
    assert province["step"]["approve_opinion_visibility"] == "external"
    assert province["step"]["approve_opinion_required"] is True

    done = approve_current(world, app_id, "准予变更")
    assert done["finished"] is True and done["status"] == "approved"
    assert done["step"] is None
    assert {s["reason_code"] for s in done["allowed_actions"].values()} == {
        "APPLICATION_NOT_PENDING"
    }


def test_a_rejection_finishes_the_review(world: World) -> None:
    app_id = submit(world, BusinessType.legal_rep_change)["id"]
    open_gates(world, app_id)
    api = world.apis["xh_clerk"]
    body = {"version": detail(api, app_id)["version"], "reason": "材料不全", "corrections": ["补"]}
    answer = api.post(f"/applications/{app_id}/reject", 200, json=body).json()
    assert answer["finished"] is True and answer["status"] == "returned"
