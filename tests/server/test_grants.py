"""The granting rule (server/services/grants.py, D11): who may manage which account, as a matrix
of actor × target × action, and the API telling the desk the same before anyone tries."""

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.models import (
    Org,
    Role,
    RolePermission,
    SignInGuard,
    User,
    UserApprovalRole,
    UserRole,
)
from server.demo import data as demo_data
from server.services import grants
from server.services.authz import principal_for
from server.services.orgs import add_org
from server.services.passwords import Passwords
from shared.enums import ApprovalRole, BusinessType, OrgType
from shared.permissions import all_permissions
from shared.schemas.users import UserAction
from tests.server.conftest import ADMIN, ADMIN_PASSWORD, Api, login
from tests.server.world import STRONG, _valid_id

CITY_ADMIN = sorted(demo_data._ROLES["市局系统管理员"][1])
CLERK = sorted(demo_data._ROLES["审批民警"][1])
OFFICER = sorted(demo_data._ROLES["派出所民警"][1])


class Place:
    """杭州 (city) ⊃ 西湖区 (county) ⊃ 文新派出所 (station), and 宁波 (another city)."""

    def __init__(self, session: Session, now: datetime, settings: Settings) -> None:
        self.session, self.now = session, now
        self.hash = Passwords(settings).hash(STRONG)
        root = session.scalar(select(Org).where(Org.parent_id.is_(None)))
        assert root is not None

        def org(name: str, parent: Org, kind: OrgType, region: str) -> Org:
            return add_org(
                session, now=now, parent=parent, name=name, type=kind, region_code=region
            )

        self.root = root
        self.hz = org("杭州市公安局", root, OrgType.city_bureau, "330100")
        self.xh = org("西湖区分局", self.hz, OrgType.county_bureau, "330106")
        self.station = org("文新派出所", self.xh, OrgType.police_station, "330106")
        self.nb = org("宁波市公安局", root, OrgType.city_bureau, "330200")
        self.users: dict[str, User] = {}

    def role(self, name: str, permissions: list[str], scope: str = "own_subtree") -> Role:
        role = Role(
            org_id=self.root.id,
            name=name,
            data_scope_kind=scope,
            created_at=self.now,
            updated_at=self.now,
        )
        role.permission_rows = [RolePermission(permission=p) for p in permissions]
        self.session.add(role)
        self.session.flush()
        return role

    def user(
        self, username: str, org: Org, role: Role, approval: tuple[ApprovalRole, ...] = ()
    ) -> User:
        user = User(
            username=username,
            name=username,
            org_id=org.id,
            mobile="13800000000",
            id_number=_valid_id(org.region_code),
            password_hash=self.hash,
            must_change_password=False,
            created_at=self.now,
            updated_at=self.now,
        )
        user.role_rows = [UserRole(role_id=role.id)]
        user.approval_role_rows = [
            UserApprovalRole(business_type=str(bt), approval_role=str(a))
            for bt in BusinessType
            for a in approval
        ]
        self.session.add(user)
        self.session.flush()
        self.users[username] = user
        return user

    def lock(self, username: str, until: datetime) -> None:
        self.session.add(
            SignInGuard(
                username=username, failed_attempts=5, window_started_at=self.now, locked_until=until
            )
        )
        self.session.flush()


@pytest.fixture
def place(initialised: Session, clock: FrozenClock, settings: Settings) -> Place:
    now = clock.now()
    p = Place(initialised, now, settings)
    admin_role = p.role("市局系统管理员", CITY_ADMIN)
    clerk = p.role("审批民警", CLERK)
    officer = p.role("派出所民警", OFFICER, "own_org")
    root_admin = initialised.scalar(select(User).where(User.username == ADMIN))
    assert root_admin is not None
    p.users["prov_admin"] = root_admin
    p.user("city_admin", p.hz, admin_role)
    p.user("county_admin", p.xh, admin_role)
    p.user("city_admin2", p.hz, admin_role)  # equal rights
    p.user("city_clerk", p.hz, clerk, (ApprovalRole.city_clerk,))
    p.user("county_clerk", p.xh, clerk, (ApprovalRole.county_clerk,))
    p.user("officer", p.station, officer)
    p.user("city_strong", p.hz, p.role("同步", ["sync:run", "users:view"], "own_org"))
    p.user("city_wide", p.hz, p.role("全省查看", ["users:view"], "all"))
    p.user("nb_clerk", p.nb, clerk, (ApprovalRole.city_clerk,))
    # every permission and all data, but not the built-in role: may manage the administrator
    p.user("super", p.root, p.role("全权", sorted(all_permissions()), "all"))
    p.lock("county_clerk", now + timedelta(minutes=10))
    p.lock("officer", now - timedelta(minutes=1))  # expired: not locked
    initialised.commit()
    return p


OK, SELF, OUT, GONE, NO, NOT_LOCKED, LAST = (
    None,
    "USER_SELF_ACTION",
    "USER_OUTRANKS_YOU",
    "NOT_FOUND",
    "PERMISSION_DENIED",
    "USER_NOT_LOCKED",
    "LAST_ADMINISTRATOR",
)
# (actor, target): codes for (edit, reset_password, set_enabled, unlock); None = allowed
MATRIX = {
    # the province's built-in administrator: everything in the province, not himself
    ("prov_admin", "prov_admin"): (OK, SELF, SELF, NOT_LOCKED),
    ("prov_admin", "city_admin"): (OK, OK, OK, NOT_LOCKED),
    ("prov_admin", "city_strong"): (OK, OK, OK, NOT_LOCKED),
    ("prov_admin", "city_wide"): (OK, OK, OK, NOT_LOCKED),
    ("prov_admin", "nb_clerk"): (OK, OK, OK, NOT_LOCKED),
    ("prov_admin", "county_clerk"): (OK, OK, OK, OK),
    # the city administrator: his city's accounts holding no more than he does
    ("city_admin", "city_admin"): (OK, SELF, SELF, NOT_LOCKED),
    ("city_admin", "city_admin2"): (OK, OK, OK, NOT_LOCKED),
    ("city_admin", "city_clerk"): (OK, OK, OK, NOT_LOCKED),
    ("city_admin", "county_admin"): (OK, OK, OK, NOT_LOCKED),
    ("city_admin", "county_clerk"): (OK, OK, OK, OK),
    ("city_admin", "officer"): (OK, OK, OK, NOT_LOCKED),
    ("city_admin", "city_strong"): (OUT, OUT, OUT, OUT),  # a permission he lacks
    ("city_admin", "city_wide"): (OUT, OUT, OUT, OUT),  # a wider data scope
    ("city_admin", "nb_clerk"): (GONE, GONE, GONE, GONE),  # another city
    ("city_admin", "prov_admin"): (GONE, GONE, GONE, GONE),
    # the county administrator: his county only
    ("county_admin", "county_clerk"): (OK, OK, OK, OK),
    ("county_admin", "officer"): (OK, OK, OK, NOT_LOCKED),
    ("county_admin", "city_clerk"): (GONE, GONE, GONE, GONE),
    ("county_admin", "city_admin"): (GONE, GONE, GONE, GONE),
    ("county_admin", "county_admin"): (OK, SELF, SELF, NOT_LOCKED),
    # a clerk manages no account, his own included, for want of the permissions
    ("city_clerk", "city_clerk"): (NO, NO, NO, NO),
    ("city_clerk", "officer"): (NO, NO, NO, NO),
    # the last enabled administrator cannot be disabled, even by one who may manage him
    ("super", "prov_admin"): (OK, OK, LAST, NOT_LOCKED),
    ("super", "super"): (OK, SELF, SELF, NOT_LOCKED),
}
ACTIONS = (UserAction.edit, UserAction.reset_password, UserAction.set_enabled, UserAction.unlock)


def test_the_granting_rule_as_a_matrix(place: Place) -> None:
    session, now = place.session, place.now
    found = {}
    for actor, target in MATRIX:
        principal = principal_for(session, place.users[actor])
        account = grants.account_of(session, place.users[target], now=now)
        codes = []
        for action in ACTIONS:
            refusal = grants.action_refusal(principal, account, action)
            codes.append(None if refusal is None else refusal.code.value)
        found[actor, target] = tuple(codes)
    assert found == MATRIX


def test_a_manager_grants_only_what_he_holds(place: Place) -> None:
    city_admin = principal_for(place.session, place.users["city_admin"])
    county = grants.account_of(place.session, place.users["county_clerk"], now=place.now)
    assert grants.excess(city_admin, county.rights) is None
    # an approval role is the permission it exercises
    assert "applications:approve" in county.rights.permissions
    strong = grants.account_of(place.session, place.users["city_strong"], now=place.now)
    assert grants.excess(city_admin, strong.rights) == {"permissions": ["sync:run"]}
    wide = grants.account_of(place.session, place.users["city_wide"], now=place.now)
    assert grants.excess(city_admin, wide.rights) == {"scope": "exceeds"}


def test_the_demo_city_administrator_holds_what_his_city_holds() -> None:
    """The issue: c3301admin could not manage c3301clerk2 or a station officer."""
    held = set(CITY_ADMIN)
    for name, (_, permissions) in demo_data._ROLES.items():
        assert set(permissions) <= held, name


def api(client: TestClient, username: str) -> Api:
    return login(client, username, STRONG)


def test_the_city_administrator_manages_his_city_through_the_api(
    place: Place, client: TestClient
) -> None:
    admin = api(client, "city_admin")
    officer = place.users["officer"]
    clerk = place.users["city_clerk"]
    for target in (officer, clerk):
        reset = admin.post(f"/users/{target.id}/reset-password", 200).json()
        assert reset["initial_password"]
    # 编辑 → 保存 as the desk sends it: every field, roles and approval roles included
    seen = admin.get(f"/users/{officer.id}").json()
    body = {
        "name": "改名民警",
        "is_police": True,
        "police_number": "000777",
        "role_ids": [r["id"] for r in seen["roles"]],
        "approval_roles": seen["approval_roles"],
        "version": seen["version"],
    }
    saved = admin.patch(f"/users/{officer.id}", 200, json=body).json()
    assert saved["name"] == "改名民警" and saved["police_number"] == "000777"
    refused = admin.post(f"/users/{place.users['city_strong'].id}/reset-password", 403).json()
    assert refused["code"] == "USER_OUTRANKS_YOU"
    admin.post(f"/users/{place.users['nb_clerk'].id}/reset-password", 404)


def test_the_list_says_what_the_caller_may_do_and_why_not(place: Place, client: TestClient) -> None:
    admin = api(client, "city_admin")
    page = admin.get("/users", params={"org_id": place.hz.id, "include_subtree": True}).json()
    rows = {u["username"]: u for u in page["items"]}
    assert "nb_clerk" not in rows
    for username, row in rows.items():
        expected = MATRIX.get(("city_admin", username))
        if expected is None:
            continue
        actions = row["allowed_actions"]
        assert set(actions) == {a.value for a in UserAction}
        for action, code in zip(ACTIONS, expected, strict=True):
            state = actions[action.value]
            assert state["allowed"] is (code is None), (username, action)
            assert state["reason_code"] == code, (username, action)
            assert (state["reason"] is None) is (code is None)
    assert rows["city_strong"]["allowed_actions"]["reset_password"]["reason"] == (
        "该用户的权限或数据范围超出您的权限，不能管理该账号"
    )
    assert rows["city_admin"]["allowed_actions"]["reset_password"]["reason"] == (
        "不能重置自己的密码，请使用【修改密码】"
    )
    # the detail says the same as the list
    one = admin.get(f"/users/{place.users['city_strong'].id}").json()
    assert one["allowed_actions"] == rows["city_strong"]["allowed_actions"]


def test_locked_is_the_lock_in_force_now(place: Place, client: TestClient) -> None:
    admin = api(client, "city_admin")
    county_clerk = admin.get(f"/users/{place.users['county_clerk'].id}").json()
    officer = admin.get(f"/users/{place.users['officer'].id}").json()
    assert county_clerk["locked"] is True
    assert officer["locked"] is False and officer["locked_until"] is not None  # expired
    refused = admin.post(f"/users/{place.users['officer'].id}/unlock", 409).json()
    assert refused["code"] == "USER_NOT_LOCKED"
    unlocked = admin.post(f"/users/{place.users['county_clerk'].id}/unlock", 200).json()
    assert unlocked["locked"] is False
    assert unlocked["allowed_actions"]["unlock"]["reason_code"] == "USER_NOT_LOCKED"


def test_services_refuse_what_the_rule_refuses(place: Place, client: TestClient) -> None:
    """Each refusal of the matrix is the API's answer too (a sample of each code)."""
    city_admin = api(client, "city_admin")
    me = place.users["city_admin"].id
    assert city_admin.post(f"/users/{me}/reset-password", 409).json()["code"] == "USER_SELF_ACTION"
    version = city_admin.get(f"/users/{me}").json()["version"]
    self_disable = city_admin.patch(
        f"/users/{me}", 409, json={"enabled": False, "version": version}
    ).json()
    assert self_disable["code"] == "USER_SELF_ACTION"
    strong = place.users["city_strong"].id
    version = city_admin.get(f"/users/{strong}").json()["version"]
    patch = city_admin.patch(f"/users/{strong}", 403, json={"name": "x", "version": version})
    assert patch.json()["code"] == "USER_OUTRANKS_YOU"
    root = login(client, ADMIN, ADMIN_PASSWORD)
    root.post(f"/users/{place.users['city_admin2'].id}/reset-password", 200)
    superuser = api(client, "super")
    admin_id = place.users["prov_admin"].id
    version = superuser.get(f"/users/{admin_id}").json()["version"]
    last = superuser.patch(f"/users/{admin_id}", 409, json={"enabled": False, "version": version})
    assert last.json()["code"] == "LAST_ADMINISTRATOR"


def test_a_principal_read_before_a_new_office_still_covers_its_city(place: Place) -> None:
    """A principal is reused while the access epoch stands (``authz_cache``), so a request that
    read the epoch just before a colleague added a police station holds the city without it,
    and then reads the account it manages with it (found live under load: a city
    administrator told that his own clerk outranks him while stations were being added). A
    subtree held whole covers whatever is added under it; a wider scope is still refused."""
    session = place.session
    city_admin = principal_for(session, place.users["city_admin"])  # before the new station
    add_org(
        session,
        now=place.now,
        parent=place.xh,
        name="新设派出所",
        type=OrgType.police_station,
        region_code="330106",
    )
    session.flush()
    for target in ("county_clerk", "county_admin", "city_clerk", "city_admin2"):
        account = grants.account_of(session, place.users[target], now=place.now)
        assert grants.action_refusal(city_admin, account, UserAction.edit) is None, target
    county_admin = principal_for(session, place.users["county_admin"])
    city_clerk = grants.account_of(session, place.users["city_clerk"], now=place.now)
    assert grants.excess(county_admin, city_clerk.rights) == {"scope": "exceeds"}
    wide = grants.account_of(session, place.users["city_wide"], now=place.now)
    assert grants.action_refusal(city_admin, wide, UserAction.edit) is not None
