"""No approval step can become unreachable (issue 14 item 5).

Approval roles are granted only by who may approve; a step is assigned only to someone who can
act on it; an assignee who can no longer act (disabled, roles changed, approval role removed,
moved) gives the step back to the bureau in the same transaction; the bureau's leader and an
administrator can take back (收回), take (认领) or reassign (改派) any pending step.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.models import AuditEntry
from server.services import users
from shared.audit_actions import readable
from shared.enums import ApprovalRole
from tests.server.approval_world import APPROVER_PERMISSIONS, World, build
from tests.server.conftest import ADMIN, ADMIN_PASSWORD, Api, login
from tests.server.test_approvals import approve_current, detail, submit

USER_ADMIN = ["users:view", "users:create", "users:update", "roles:view", "applications:view"]


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


def at_province_step(world: World) -> int:
    from shared.enums import BusinessType

    app_id: int = submit(world, BusinessType.legal_rep_change)["id"]
    approve_current(world, app_id, "县级同意")
    approve_current(world, app_id, "市级同意")
    return app_id


def submit_city_step(world: World) -> int:
    from shared.enums import BusinessType

    app_id: int = submit(world, BusinessType.legal_rep_change)["id"]
    approve_current(world, app_id, "县级同意")
    return app_id


def role(world: World, name: str, permissions: list[str]) -> int:
    """A role at the root, committed so that requests see it."""
    made = world.role(name, world.orgs["root"], permissions, "own_subtree")
    world.session.commit()
    return made.id


def uid(world: World, username: str) -> int:
    return world.users[username].id


def assign(world: World, app_id: int, to: str, by: str = "prov_clerk", expect: int = 200) -> Any:
    api = world.apis[by]
    body = {"version": detail(api, app_id)["version"], "assignee_id": uid(world, to)}
    return api.post(f"/applications/{app_id}/assign", expect, json=body)


def pending_names(api: Api, app_id: int) -> list[str]:
    return [p["name"] for p in api.get(f"/applications/{app_id}/progress").json()["pending"]]


def patch_user(admin: Api, user_id: int, expect: int = 200, **changes: Any) -> Any:
    version = admin.get(f"/users/{user_id}").json()["version"]
    return admin.patch(f"/users/{user_id}", expect, json={"version": version, **changes})


def test_approval_roles_are_granted_only_by_who_may_approve(world: World) -> None:
    """c3301admin (users, no approve) can neither give himself approval roles nor a colleague."""
    role = world.role("市局系统管理员", world.orgs["hz"], USER_ADMIN, "own_subtree")
    city_admin = world.user("c3301admin", world.orgs["hz"], role)
    me = uid(world, "c3301admin")
    refused = patch_user(
        city_admin, me, 403, approval_roles={"legal_rep_change": ["city_clerk"]}
    ).json()
    assert refused["code"] == "ROLE_GRANT_EXCEEDS_OWN"
    assert refused["details"] == {"permissions": ["applications:approve"]}
    created = city_admin.post(
        "/users",
        403,
        json={
            "username": "new_clerk",
            "name": "新民警",
            "org_id": world.orgs["office"].id,
            "mobile": "13700000009",
            "approval_roles": {"legal_rep_change": ["city_clerk"]},
        },
    ).json()
    assert created["code"] == "ROLE_GRANT_EXCEEDS_OWN"
    # editing something else keeps approval roles the account already holds
    patch_user(city_admin, me, name="市局管理员")


def test_a_step_is_assigned_only_to_someone_who_can_act(world: World) -> None:
    """Holding the approval role without the permission to approve is not enough."""
    viewer = world.role("只读民警", world.orgs["root"], ["applications:view"], "own_subtree")
    world.user("prov_viewer", world.orgs["root"], viewer, [ApprovalRole.province_clerk])
    app_id = at_province_step(world)
    chief = world.apis["prov_clerk"]
    assert world.users["prov_viewer"].name not in pending_names(chief, app_id)
    assert world.apis["prov_viewer"].get("/inbox").json()["total"] == 0
    refused = assign(world, app_id, "prov_viewer", expect=422).json()
    assert refused["code"] == "ASSIGNEE_INVALID"
    assert refused["message"] == "被指派人不能办理该审批环节"


CHANGES = {
    "disabled": lambda w: {"enabled": False},
    "approval_role_removed": lambda w: {"approval_roles": {}},
    "roles_changed": lambda w: {"role_ids": [role(w, "只读", ["applications:view"])]},
    "moved_org": lambda w: {"org_id": w.orgs["hz"].id},
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_an_assignee_who_can_no_longer_act_gives_the_step_back(
    world: World, client: TestClient, change: str
) -> None:
    app_id = at_province_step(world)
    assign(world, app_id, "prov_clerk2")
    admin = login(client, ADMIN, ADMIN_PASSWORD)
    patch_user(admin, uid(world, "prov_clerk2"), **CHANGES[change](world))
    chief = world.apis["prov_clerk"]
    assert pending_names(chief, app_id) == [world.users["prov_clerk"].name]
    last = chief.get(f"/applications/{app_id}/progress").json()["entries"][-1]
    assert last["action"] == "release" and last["actor_name"] == "系统管理员"
    assert detail(chief, app_id)["current_task"]["assignee_name"] is None
    approve_current(world, app_id, "同意")
    assert detail(chief, app_id)["status"] == "approved"


def test_disabling_from_the_cli_gives_the_step_back(
    world: World, session: Session, clock: FrozenClock
) -> None:
    app_id = at_province_step(world)
    assign(world, app_id, "prov_clerk2")
    users.set_enabled_by_cli(session, uid(world, "prov_clerk2"), now=clock.now(), enabled=False)
    assert pending_names(world.apis["prov_clerk"], app_id) == [world.users["prov_clerk"].name]


def test_removing_approve_from_a_role_gives_its_holders_steps_back(
    world: World, client: TestClient
) -> None:
    own = role(world, "二号民警", APPROVER_PERMISSIONS)
    admin = login(client, ADMIN, ADMIN_PASSWORD)
    patch_user(admin, uid(world, "prov_clerk2"), role_ids=[own])
    app_id = at_province_step(world)
    assign(world, app_id, "prov_clerk2")
    version = admin.get(f"/roles/{own}").json()["version"]
    kept = [p for p in APPROVER_PERMISSIONS if p != "applications:approve"]
    admin.patch(f"/roles/{own}", json={"version": version, "permissions": kept})
    assert pending_names(world.apis["prov_clerk"], app_id) == [world.users["prov_clerk"].name]


def test_leader_and_administrator_take_back_take_or_reassign(
    world: World, client: TestClient, session: Session
) -> None:
    app_id = at_province_step(world)
    assign(world, app_id, "prov_clerk2")
    admin = login(client, ADMIN, ADMIN_PASSWORD)
    seen = detail(admin, app_id)
    assert seen["can_reassign"] is True and seen["can_act"] is False
    # 改派 goes to someone else than the assignee; 收回 is possible, the step being assigned
    assert [p["name"] for p in seen["reassign_to"]] == [world.users["prov_clerk"].name]
    assert seen["allowed_actions"]["release"] == {
        "allowed": True,
        "reason_code": None,
        "reason": None,
    }
    assert seen["allowed_actions"]["reassign"]["allowed"] is True
    clerk_view = detail(world.apis["prov_clerk"], app_id)
    assert clerk_view["can_reassign"] is False and clerk_view["reassign_to"] == []
    assert clerk_view["allowed_actions"]["release"]["reason_code"] == "PERMISSION_DENIED"
    assert clerk_view["allowed_actions"]["approve"]["reason_code"] == "NOT_YOUR_STEP"
    assert clerk_view["allowed_actions"]["approve"]["reason"] == (
        f"该审批环节已指派给{world.users['prov_clerk2'].name}办理"
    )

    def reassign(api: Api, to: int | None, expect: int = 200) -> Any:
        body = {"version": detail(api, app_id)["version"], "assignee_id": to, "opinion": "调整"}
        return api.post(f"/applications/{app_id}/reassign", expect, json=body)

    cannot = reassign(admin, uid(world, "intake"), 422).json()  # no approval role
    assert cannot["code"] == "ASSIGNEE_INVALID"
    same = reassign(admin, uid(world, "prov_clerk2"), 422).json()  # already theirs
    assert same["code"] == "ASSIGNEE_INVALID"
    itself = reassign(admin, None).json()  # 收回: back to the bureau
    assert itself["current_task"]["assignee_name"] is None
    assert itself["allowed_actions"]["release"]["reason_code"] == "STEP_NOT_ASSIGNED"
    assert len(itself["reassign_to"]) == 2  # nobody holds it: both may take it
    assert reassign(admin, None, 409).json()["code"] == "STEP_NOT_ASSIGNED"
    reassign(admin, uid(world, "prov_clerk"))  # 改派
    chief = world.apis["prov_clerk"]
    assert pending_names(chief, app_id) == [world.users["prov_clerk"].name]

    leaders = world.role(
        "领导", world.orgs["root"], [*APPROVER_PERMISSIONS, "applications:reassign"], "own_org"
    )
    leader = world.user("prov_leader", world.orgs["root"], leaders, [ApprovalRole.province_clerk])
    reassign(leader, uid(world, "prov_leader"))  # 认领
    assert pending_names(chief, app_id) == [world.users["prov_leader"].name]
    entries = chief.get(f"/applications/{app_id}/progress").json()["entries"]
    assert [e["action"] for e in entries[-4:]] == ["assign", "release", "reassign", "take"]
    assert entries[-2]["assignee_name"] == world.users["prov_clerk"].name

    # a city leader cannot touch the province's step
    city_leader = world.user("hz_leader", world.orgs["office"], leaders, [])
    assert reassign(city_leader, None, 403).json()["code"] == "NOT_YOUR_STEP"

    audited = session.scalars(
        select(AuditEntry.after)
        .where(AuditEntry.action == "application.reassign")
        .order_by(AuditEntry.seq)
    ).all()
    assert [a["assignee_id"] for a in audited if a] == [
        None,
        uid(world, "prov_clerk"),
        uid(world, "prov_leader"),
    ]
    # the audit page reads the step and the people by name, not by key or id
    assert {a["step"] for a in audited} == {entries[-1]["step_name"]}
    assert [a["assignee"] for a in audited] == [
        None,
        world.users["prov_clerk"].name,
        world.users["prov_leader"].name,
    ]
    assert "被指派人：" + world.users["prov_clerk"].name in readable(audited[1])
    assert "/api/v1/applications/{application_id}/reassign" in client.app.openapi()["paths"]  # type: ignore[attr-defined]


def test_an_office_turned_bureau_gives_its_members_steps_back(
    world: World, client: TestClient
) -> None:
    """Who works a bureau's steps follows the organisation tree: an office acts for the bureau
    above it, a bureau for itself. Changing the type moves its members' steps back."""
    app_id = submit_city_step(world)
    assign(world, app_id, "hz_clerk", by="hz_clerk")  # the office clerk takes the city's step
    admin = login(client, ADMIN, ADMIN_PASSWORD)
    office = world.orgs["office"].id
    version = admin.get(f"/orgs/{office}").json()["version"]
    admin.patch(
        f"/orgs/{office}",
        json={"version": version, "type": "county_bureau", "region_code": "330105"},
    )
    seen = detail(admin, app_id)["current_task"]
    assert seen["level"] == "city" and seen["assignee_name"] is None
    last = admin.get(f"/applications/{app_id}/progress").json()["entries"][-1]
    assert last["action"] == "release"


def test_nobody_changes_their_own_roles_approval_roles_or_organisation(world: World) -> None:
    """A manager who may grant approval roles still may not widen his own: one person must not
    be able to take two approval levels of one application alone."""
    permissions = sorted({*APPROVER_PERMISSIONS, *USER_ADMIN})
    manager = world.role("审批与用户管理", world.orgs["root"], permissions, "own_subtree")
    api = world.user("chief", world.orgs["root"], manager, [ApprovalRole.province_clerk])
    me = uid(world, "chief")
    for change in (
        {"approval_roles": {"legal_rep_change": ["province_clerk", "province_section_chief"]}},
        {"role_ids": [manager.id, role(world, "查看", ["applications:view"])]},
        {"org_id": world.orgs["hz"].id},
    ):
        refused = patch_user(api, me, 409, **change).json()
        assert refused["code"] == "USER_SELF_ACTION" and "其他管理员" in refused["message"]
    patch_user(api, me, name="省厅审批主管")  # other fields stay his own to edit
    colleague = uid(world, "prov_clerk2")
    patch_user(api, colleague, approval_roles={"legal_rep_change": ["province_section_chief"]})


def test_a_bureau_with_pending_steps_keeps_its_type_and_region(
    world: World, client: TestClient
) -> None:
    """Steps are routed to a bureau by type and region: turning 杭州市公安局 into an office (or
    moving its region) under a pending city step would leave the step with nobody."""
    app_id = submit_city_step(world)
    admin = login(client, ADMIN, ADMIN_PASSWORD)
    city = world.orgs["hz"].id
    for change in ({"type": "office"}, {"region_code": "330200"}):
        version = admin.get(f"/orgs/{city}").json()["version"]
        refused = admin.patch(f"/orgs/{city}", 409, json={"version": version, **change}).json()
        assert refused["code"] == "ORG_HAS_PENDING_STEPS" and refused["details"] == {"count": 1}
    assert detail(admin, app_id)["current_task"]["level"] == "city"
    version = admin.get(f"/orgs/{city}").json()["version"]
    admin.patch(f"/orgs/{city}", json={"version": version, "phone": "0571-87000000"})
