"""A province with two cities, built straight through the services (fast), and approvers at
each level holding every business type's approval role for their level."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.models import Org, Role, RolePermission, User, UserApprovalRole, UserRole
from server.services.orgs import add_org
from server.services.passwords import Passwords
from shared.enums import ApprovalRole, BusinessType, OrgType
from tests.server.conftest import Api, login
from tests.server.world import STRONG, _valid_id

APPROVER_PERMISSIONS = [
    "applications:view",
    "applications:view_internal",
    "applications:approve",
    "applications:print",
    "screening:view",
    "screening:run",
    "exam_enrolments:fingerprint",
    "exam_enrolments:confirm_payment",
]
INTAKE_PERMISSIONS = ["applications:view", "applications:intake"]

LEVEL_ROLES = {
    "county": [ApprovalRole.county_clerk, ApprovalRole.county_leader],
    "city": [ApprovalRole.city_clerk, ApprovalRole.city_security_leader],
    "province": [ApprovalRole.province_clerk, ApprovalRole.province_section_chief],
}


@dataclass
class World:
    session: Session
    client: TestClient
    settings: Settings
    now: datetime
    orgs: dict[str, Org] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    apis: dict[str, Api] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def role(self, name: str, org: Org, permissions: list[str], scope: str) -> Role:
        role = Role(
            org_id=org.id,
            name=name,
            data_scope_kind=scope,
            created_at=self.now,
            updated_at=self.now,
        )
        role.permission_rows = [RolePermission(permission=p) for p in permissions]
        self.session.add(role)
        self.session.flush()
        self.roles[name] = role
        return role

    def user(
        self,
        username: str,
        org: Org,
        role: Role,
        approval: list[ApprovalRole] = (),  # type: ignore[assignment]
        types: list[BusinessType] | None = None,
    ) -> Api:
        user = User(
            username=username,
            name=f"{org.name[:3]}{username}",
            org_id=org.id,
            mobile="13800000000",
            id_number=_valid_id(org.region_code),
            password_hash=Passwords(self.settings).hash(STRONG),
            must_change_password=False,
            created_at=self.now,
            updated_at=self.now,
        )
        user.role_rows = [UserRole(role_id=role.id)]
        user.approval_role_rows = [
            UserApprovalRole(business_type=str(bt), approval_role=str(r))
            for bt in (types or list(BusinessType))
            for r in approval
        ]
        self.session.add(user)
        self.session.commit()
        self.users[username] = user
        api = login(self.client, username, STRONG)
        self.apis[username] = api
        return api


def build(session: Session, client: TestClient, settings: Settings, now: datetime) -> World:
    """杭州 (西湖区, 上城区) and 宁波 (海曙区) under the root 浙江省公安厅, with approvers."""
    world = World(session, client, settings, now)
    root = session.scalar(select(Org).where(Org.parent_id.is_(None)))
    assert root is not None
    hz = add_org(
        session,
        now=now,
        parent=root,
        name="杭州市公安局",
        type=OrgType.city_bureau,
        region_code="330100",
    )
    xh = add_org(
        session,
        now=now,
        parent=hz,
        name="西湖区分局",
        type=OrgType.county_bureau,
        region_code="330106",
    )
    sc = add_org(
        session,
        now=now,
        parent=hz,
        name="上城区分局",
        type=OrgType.county_bureau,
        region_code="330102",
    )
    office = add_org(
        session,
        now=now,
        parent=hz,
        name="杭州市局治安支队",
        type=OrgType.office,
        region_code="330100",
    )
    nb = add_org(
        session,
        now=now,
        parent=root,
        name="宁波市公安局",
        type=OrgType.city_bureau,
        region_code="330200",
    )
    hs = add_org(
        session,
        now=now,
        parent=nb,
        name="海曙区分局",
        type=OrgType.county_bureau,
        region_code="330203",
    )
    session.flush()
    world.orgs = {"root": root, "hz": hz, "xh": xh, "sc": sc, "office": office, "nb": nb, "hs": hs}
    approver = world.role("审批民警", root, APPROVER_PERMISSIONS, "own_subtree")
    intake = world.role("受理", root, INTAKE_PERMISSIONS, "all")
    world.user("intake", root, intake)
    world.user("xh_clerk", xh, approver, LEVEL_ROLES["county"])
    world.user("xh_clerk2", xh, approver, [ApprovalRole.county_clerk])
    world.user("sc_clerk", sc, approver, LEVEL_ROLES["county"])
    world.user("hz_clerk", office, approver, LEVEL_ROLES["city"])
    world.user("nb_clerk", nb, approver, LEVEL_ROLES["city"])
    world.user("hs_clerk", hs, approver, LEVEL_ROLES["county"])
    world.user("prov_clerk", root, approver, LEVEL_ROLES["province"])
    world.user("prov_clerk2", root, approver, [ApprovalRole.province_clerk])
    return world


PERSON_IDS = {
    "legal_rep": _valid_id("330106", "19800101", "011"),
    "principal": _valid_id("330106", "19820202", "021"),
    "proposed_legal_rep": _valid_id("330106", "19850303", "031"),
    "applicant": _valid_id("330106", "19950505", "041"),
}

UNIT = {
    "unit_name": "杭州平安保安服务有限公司",
    "credit_code": "91330106MA2B3C4D5E",
    "address": "杭州市西湖区文三路1号",
    "phone": "0571-88000000",
}

FORMS: dict[BusinessType, dict[str, Any]] = {
    BusinessType.company_licence: {
        **UNIT,
        "registered_capital_wan": 1000,
        "service_scope": "门卫、巡逻",
        "staff_planned": 50,
    },
    BusinessType.foreign_company_licence: {
        **UNIT,
        "registered_capital_wan": 2000,
        "service_scope": "守护",
        "staff_planned": 20,
        "foreign_investor": "ACME Ltd",
        "foreign_share_percent": 49,
    },
    BusinessType.training_licence: {
        **UNIT,
        "training_scope": "保安员培训",
        "classroom_area_m2": 300,
        "teachers": 5,
    },
    BusinessType.guard_exam_enrolment: {
        "gender": "男",
        "education": "高中",
        "address": "杭州市西湖区",
    },
    BusinessType.branch_filing: {
        **UNIT,
        "branch_name": "杭州平安保安西湖分公司",
        "branch_address": "杭州市西湖区",
    },
    BusinessType.self_recruit_filing: {**UNIT, "guards": 12, "posts": "门卫"},
    BusinessType.self_recruit_revocation: {
        **UNIT,
        "filing_number": "BA2025000001",
        "reason": "不再自行招用",
    },
    BusinessType.cross_region_filing: {
        **UNIT,
        "licence_number": "浙公保服001",
        "target_province": "320000",
        "client_name": "南京某银行",
        "start": "2026-12-01",
        "end": "2027-11-30",
    },
    BusinessType.annual_report_filing: {
        **UNIT,
        "year": 2025,
        "guards": 80,
        "clients": 12,
        "revenue_wan": 900,
    },
    BusinessType.client_unit_filing: {
        **UNIT,
        "client_name": "杭州某小学",
        "client_tier": 1,
        "guards": 3,
    },
    BusinessType.commendation: {**UNIT, "nominee": "张三", "deeds": "见义勇为"},
    BusinessType.licence_item_change: {
        **UNIT,
        "licence_number": "浙公保服001",
        "item": "住所",
        "old_value": "文三路1号",
        "new_value": "文三路2号",
    },
    BusinessType.legal_rep_change: {
        **UNIT,
        "licence_number": "浙公保服001",
        "current_legal_rep": "李四",
        "reason": "股东会决议",
    },
}


def application_body(
    business_type: BusinessType, *, region: str = "330106", name: str | None = None
) -> dict[str, Any]:
    from shared.schemas.forms import REQUIRED_PERSONS

    person = business_type == BusinessType.guard_exam_enrolment
    persons = [
        {"role": str(role), "name": f"人员{role.label}", "id_number": PERSON_IDS[str(role)]}
        for role in sorted(REQUIRED_PERSONS[business_type])
    ]
    return {
        "business_type": str(business_type),
        "applicant_kind": "person" if person else "unit",
        "applicant_name": name or ("王小明" if person else UNIT["unit_name"]),
        "applicant_code": PERSON_IDS["applicant"] if person else UNIT["credit_code"],
        "region_code": region,
        "form": FORMS[business_type],
        "persons": persons,
    }
