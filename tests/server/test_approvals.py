"""The approval engine through the API: golden traces, rejections, gates, stale actions, routing."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import ApprovalLogEntry, WatchListEntry, WorkflowDefinition
from server.services.approvals.definition_files import default_definition_paths, load_definition
from shared.enums import APPLICANT_TYPES, BusinessType
from tests.server.approval_world import PERSON_IDS, World, application_body, build
from tests.server.conftest import Api

ACTOR_OF_LEVEL = {"county": "xh_clerk", "city": "hz_clerk", "province": "prov_clerk"}
PROCESSES = {p.business_type: p for p in map(load_definition, default_definition_paths())}


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


def submit(world: World, business_type: BusinessType, **kw: Any) -> dict[str, Any]:
    return (
        world.apis["intake"]
        .post("/applications", 201, json=application_body(business_type, **kw))
        .json()
    )


def detail(api: Api, app_id: int) -> dict[str, Any]:
    return api.get(f"/applications/{app_id}").json()


def open_gates(world: World, app_id: int) -> None:
    """Do what the pending step's gates ask: screening, fingerprint card, payment."""
    actor = world.apis[
        ACTOR_OF_LEVEL[detail(world.apis["intake"], app_id)["current_task"]["level"]]
    ]
    app = detail(actor, app_id)
    gate = app["gate"]
    if gate["approve_allowed"]:
        return
    if gate["action"] == "fingerprint":
        actor.post(
            f"/applications/{app_id}/fingerprint",
            json={"version": app["version"], "card_number": "ZW3301060000000001"},
        )
    elif gate["action"] == "payment":
        actor.post("/applications/payments", json={"application_ids": [app_id]})
    else:
        actor.post(f"/applications/{app_id}/screening")
    assert detail(actor, app_id)["gate"]["approve_allowed"], detail(actor, app_id)["gate"]


def approve_current(world: World, app_id: int, opinion: str = "同意") -> dict[str, Any]:
    level = detail(world.apis["intake"], app_id)["current_task"]["level"]
    actor = world.apis[ACTOR_OF_LEVEL[level]]
    open_gates(world, app_id)
    version = detail(actor, app_id)["version"]
    return actor.post(
        f"/applications/{app_id}/approve", json={"version": version, "opinion": opinion}
    ).json()


@pytest.mark.parametrize("business_type", APPLICANT_TYPES)
def test_golden_trace_to_final_approval(world: World, business_type: BusinessType) -> None:
    process = PROCESSES[business_type]
    created = submit(world, business_type)
    assert created["status"] == "in_review" and created["number"].startswith("SQ2026")
    seen = []
    for index, step in enumerate(process.steps):
        world.session.expire_all()
        current = detail(world.apis["intake"], created["id"])["current_task"]
        assert current["step_key"] == step.key
        assert current["level"] == str(step.level)
        seen.append(current["step_name"])
        last = index == len(process.steps) - 1
        result = approve_current(
            world, created["id"], "准予许可" if last else f"第{index + 1}级内部意见"
        )
    assert result["status"] == "approved" and result["current_task"] is None
    assert seen == [s.name for s in process.steps]
    external = world.apis["intake"].get(f"/applications/{created['id']}/external").json()
    assert external["status"] == "approved"
    assert external["rounds"][0]["opinion"] == "准予许可"
    assert all(s["state"] == "done" for s in external["rounds"][0]["steps"])
    assert "内部意见" not in str(external)


@pytest.mark.parametrize("business_type", APPLICANT_TYPES)
def test_reject_at_each_step_returns_with_corrections_then_resubmit(
    world: World, business_type: BusinessType
) -> None:
    process = PROCESSES[business_type]
    for reject_at in range(len(process.steps)):
        app_id = submit(world, business_type)["id"]
        for _ in range(reject_at):
            approve_current(world, app_id, "内部意见：材料齐全")
        world.session.expire_all()
        level = detail(world.apis["intake"], app_id)["current_task"]["level"]
        actor = world.apis[ACTOR_OF_LEVEL[level]]
        if process.steps[reject_at].gates and "screening" in process.steps[reject_at].gates:
            actor.post(f"/applications/{app_id}/screening")
        version = detail(actor, app_id)["version"]
        body = {
            "version": version,
            "reason": "材料不全",
            "corrections": ["补充营业执照复印件", "法定代表人签字"],
        }
        result = actor.post(f"/applications/{app_id}/reject", json=body).json()
        assert result["status"] == "returned"
        external = world.apis["intake"].get(f"/applications/{app_id}/external").json()
        round_one = external["rounds"][0]
        assert round_one["outcome"] == "rejected"
        assert round_one["reason"] == "材料不全"
        assert round_one["corrections"] == ["补充营业执照复印件", "法定代表人签字"]
        assert [s["state"] for s in round_one["steps"]][: reject_at + 1] == ["done"] * reject_at + [
            "rejected"
        ]
        assert "内部意见" not in str(external)
        again = (
            world.apis["intake"]
            .post(
                f"/applications/{app_id}/resubmit",
                json={
                    "version": result["version"],
                    "form": application_body(business_type)["form"],
                    "persons": application_body(business_type)["persons"],
                },
            )
            .json()
        )
        assert again["round"] == 2 and again["status"] == "in_review"
        assert again["current_task"]["step_key"] == process.first.key
        progress = world.apis["xh_clerk"].get(f"/applications/{app_id}/progress").json()
        assert {e["round"] for e in progress["entries"]} == {1, 2}


def test_stale_version_answers_409_and_writes_nothing(world: World, session: Session) -> None:
    app = submit(world, BusinessType.annual_report_filing)
    clerk = world.apis["xh_clerk"]
    clerk.post(
        f"/applications/{app['id']}/approve", json={"version": app["version"], "opinion": "同意"}
    )
    before = session.scalar(select(func.count()).select_from(ApprovalLogEntry))
    stale = world.apis["hz_clerk"].post(
        f"/applications/{app['id']}/approve",
        409,
        json={"version": app["version"], "opinion": "同意"},
    )
    assert stale.json()["code"] == "STALE_VERSION"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ApprovalLogEntry)) == before


def test_intake_without_a_published_process_is_refused_after_routing(
    world: World, session: Session
) -> None:
    """The bureaus and the latest process are read together; with no process published, the
    refusals come in the same order: no bureau for the region first, then no process."""
    kind = BusinessType.annual_report_filing
    session.execute(delete(WorkflowDefinition).where(WorkflowDefinition.business_type == kind))
    session.commit()
    intake = world.apis["intake"]
    elsewhere = application_body(kind, region="110101")  # 北京东城: no bureau here
    assert intake.post("/applications", 422, json=elsewhere).json()["code"] == "ROUTING_NO_ORG"
    refused = intake.post("/applications", 409, json=application_body(kind))
    assert refused.json()["code"] == "WORKFLOW_NOT_PUBLISHED"
    assert submit(world, BusinessType.company_licence)["status"] == "in_review"  # others go on


def test_only_the_routed_bureau_and_role_may_act(world: World) -> None:
    app = submit(world, BusinessType.annual_report_filing)
    body = {"version": app["version"], "opinion": "同意"}
    # the province bureau sees everything in its subtree, but the county step is not its step
    refused = world.apis["prov_clerk"].post(f"/applications/{app['id']}/approve", 403, json=body)
    assert refused.json()["code"] == "NOT_YOUR_STEP"
    assert detail(world.apis["prov_clerk"], app["id"])["can_act"] is False
    # the refusal left nothing behind: the claim on the version was rolled back
    assert detail(world.apis["xh_clerk"], app["id"])["version"] == app["version"]
    # 上城区 (a sibling county) and 宁波 are outside the data scope and the routing: to them the
    # application does not exist, and neither does it for the city office before its step opens
    for outsider in ("sc_clerk", "hs_clerk", "hz_clerk"):
        world.apis[outsider].post(f"/applications/{app['id']}/approve", 404, json=body)
        world.apis[outsider].get(f"/applications/{app['id']}", 404)
    assert detail(world.apis["xh_clerk"], app["id"])["can_act"] is True


def test_screening_gate_missing_hit_and_clear(world: World, session: Session) -> None:
    app = submit(world, BusinessType.legal_rep_change)
    clerk = world.apis["xh_clerk"]
    gate = detail(clerk, app["id"])["gate"]
    assert gate == {
        "action": "approve",
        "label": "同意",
        "approve_allowed": False,
        "reject_allowed": True,
        "reasons": ["尚未完成全部人员的背景审查"],
    }
    refused = clerk.post(
        f"/applications/{app['id']}/approve", 409, json={"version": app["version"], "opinion": ""}
    )
    assert refused.json()["code"] == "GATE_CLOSED"
    session.add(
        WatchListEntry(
            id_number=PERSON_IDS["proposed_legal_rep"],
            name="人员拟任法定代表人",
            category="wanted_fugitive",
            source="测试名单",
            imported_at=world.now,
        )
    )
    session.commit()
    clerk.post(f"/applications/{app['id']}/screening")
    current = detail(clerk, app["id"])
    assert current["gate"]["approve_allowed"] is False and current["gate"]["reject_allowed"] is True
    hit = clerk.post(
        f"/applications/{app['id']}/approve",
        409,
        json={"version": current["version"], "opinion": ""},
    )
    assert hit.json()["code"] == "SCREENING_HIT"
    body = {
        "version": current["version"],
        "reason": "拟任法定代表人背景审查未通过",
        "corrections": ["更换拟任法定代表人"],
    }
    assert clerk.post(f"/applications/{app['id']}/reject", json=body).json()["status"] == "returned"


def test_guard_enrolment_buttons_follow_fingerprint_and_payment(world: World) -> None:
    app_id = submit(world, BusinessType.guard_exam_enrolment)["id"]
    approve_current(world, app_id, "一级通过")
    clerk = world.apis["xh_clerk"]
    level_two = detail(clerk, app_id)
    assert (level_two["gate"]["action"], level_two["gate"]["label"]) == (
        "fingerprint",
        "获取指纹卡号",
    )
    clerk.post(
        f"/applications/{app_id}/approve",
        409,
        json={"version": level_two["version"], "opinion": ""},
    )
    bad = clerk.post(
        f"/applications/{app_id}/fingerprint",
        422,
        json={"version": level_two["version"], "card_number": "12345"},
    )
    assert bad.json()["code"] == "VALIDATION_ERROR"
    clerk.post(
        f"/applications/{app_id}/fingerprint",
        json={"version": level_two["version"], "card_number": "ZW3301060000000007"},
    )
    assert detail(clerk, app_id)["gate"]["label"] == "同意"
    approve_current(world, app_id, "二级通过")
    city = world.apis["hz_clerk"]
    level_three = detail(city, app_id)
    assert (level_three["gate"]["action"], level_three["gate"]["label"]) == ("payment", "缴费确认")
    assert city.post("/applications/payments", json={"application_ids": [app_id]}).json() == {
        "confirmed": [app_id]
    }
    assert city.post("/applications/payments", json={"application_ids": [app_id]}).json() == {
        "confirmed": []
    }
    assert detail(city, app_id)["gate"]["label"] == "同意"


def test_bulk_payment_is_all_or_nothing(world: World) -> None:
    enrolment = submit(world, BusinessType.guard_exam_enrolment)["id"]
    other = submit(world, BusinessType.annual_report_filing)["id"]
    # the province officer sees both; one is not an enrolment, so neither is marked paid
    province = world.apis["prov_clerk"]
    refused = province.post(
        "/applications/payments", 422, json={"application_ids": [enrolment, other]}
    )
    assert [p["application_id"] for p in refused.json()["details"]] == [other]
    assert detail(province, enrolment)["paid_at"] is None
    # the city office cannot see an enrolment still at county level: refused as out of scope
    hidden = world.apis["hz_clerk"].post(
        "/applications/payments", 422, json={"application_ids": [enrolment]}
    )
    assert hidden.json()["details"][0]["message"] == "不存在或不在您的数据范围内"


def test_assign_hands_the_step_to_one_colleague(world: World) -> None:
    city_app = submit(world, BusinessType.legal_rep_change)["id"]
    approve_current(world, city_app, "县级同意")
    approve_current(world, city_app, "市级同意")
    chief = world.apis["prov_clerk"]
    version = detail(chief, city_app)["version"]
    users = {u.username: u.id for u in world.users.values()}
    wrong = chief.post(
        f"/applications/{city_app}/assign",
        422,
        json={"version": version, "assignee_id": users["xh_clerk"]},
    )
    assert wrong.json()["code"] == "ASSIGNEE_INVALID"
    chief.post(
        f"/applications/{city_app}/assign",
        json={"version": version, "assignee_id": users["prov_clerk2"]},
    )
    pending = world.apis["prov_clerk2"].get("/inbox").json()
    assert [row["id"] for row in pending["items"]] == [city_app]
    assert world.apis["prov_clerk"].get("/inbox").json()["total"] == 0
    version = detail(chief, city_app)["version"]
    chief.post(f"/applications/{city_app}/approve", 403, json={"version": version, "opinion": "x"})
    progress = chief.get(f"/applications/{city_app}/progress").json()
    assert [p["name"] for p in progress["pending"]] == [world.users["prov_clerk2"].name]
    assert progress["entries"][-1]["action"] == "assign"
    assert progress["entries"][-1]["assignee_name"] == world.users["prov_clerk2"].name


def test_return_to_previous_step(world: World) -> None:
    app_id = submit(world, BusinessType.annual_report_filing)["id"]
    first = world.apis["xh_clerk"]
    version = detail(first, app_id)["version"]
    refused = first.post(
        f"/applications/{app_id}/return", 409, json={"version": version, "reason": "退回补充"}
    )
    assert refused.json()["code"] == "NO_PREVIOUS_STEP"
    approve_current(world, app_id, "县级同意")
    city = world.apis["hz_clerk"]
    version = detail(city, app_id)["version"]
    back = city.post(
        f"/applications/{app_id}/return", json={"version": version, "reason": "请县局核实人数"}
    ).json()
    assert back["current_task"]["level"] == "county" and back["status"] == "in_review"
    assert world.apis["xh_clerk"].get("/inbox").json()["total"] == 1


def test_internal_opinions_never_reach_a_caller_without_the_permission(world: World) -> None:
    app_id = submit(world, BusinessType.legal_rep_change)["id"]
    approve_current(world, app_id, "机密：内部研判意见")
    full = world.apis["xh_clerk"].get(f"/applications/{app_id}/progress").json()
    assert "机密：内部研判意见" in str(full)
    outsider = world.apis["intake"]  # applications:view without view_internal
    hidden = outsider.get(f"/applications/{app_id}/progress").json()
    approve_entry = next(e for e in hidden["entries"] if e["action"] == "approve")
    assert approve_entry["opinion"] is None and approve_entry["opinion_hidden"] is True
    for path in ("progress", "external", ""):
        text = outsider.get(f"/applications/{app_id}/{path}".rstrip("/")).text
        assert "机密" not in text, path
