"""Deterministic demo (and benchmark) data: a whole province's police organisation with users.

The same seed gives the same data. ``size`` scales stations, users and applications. The
applications come from ``server.demo.applications``, which works them through the approval services.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Org, Role, RolePermission, User, UserApprovalRole, UserRole
from server.demo.applications import generate_applications
from server.demo.exams import generate_exams
from server.services import audit
from server.services.bootstrap import sync_admin_role
from server.services.certificates.from_review import CertificateIssuing
from server.services.documents.signing import DocumentSigner
from server.services.errors import AppError
from server.services.materials.store import MaterialStore
from server.services.orgs import add_org
from server.services.passwords import Passwords
from shared.audit_actions import AuditAction, AuditEntity
from shared.enums import ApprovalRole, BusinessType, DataScopeKind, OrgType
from shared.errors import ErrorCode
from shared.idnumber import check_char
from shared.regions import GROUPING_NAMES, Region, RegionLevel, region_table

DEMO_PASSWORD = "Sgss@2026demo"


@dataclass(frozen=True)
class Size:
    stations_per_county: int
    clerks_per_org: int


SIZES = {
    "small": Size(stations_per_county=1, clerks_per_org=1),
    "standard": Size(stations_per_county=4, clerks_per_org=2),
    "large": Size(stations_per_county=12, clerks_per_org=6),
}

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢傅钟姜崔谭陆汪范金石廖贾夏韦付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤"  # noqa: E501
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建国文辉俊鹏飞宇浩然欣怡子涵雨轩博文志远海燕晓东丹丹佳琪梦瑶思远嘉懿晨曦振华立新卫东建平"  # noqa: E501
_STATION_PLACES = [
    "城东",
    "城西",
    "城南",
    "城北",
    "新城",
    "江滨",
    "湖滨",
    "望江",
    "古荡",
    "文新",
    "翠苑",
    "北山",
    "南星",
    "紫阳",
    "清波",
    "小营",
    "湖墅",
    "米市",
    "拱宸",
    "半山",
    "祥符",
    "康桥",
    "临平",
    "塘栖",
    "崇贤",
    "瓶窑",
    "良渚",
    "勾庄",
    "五常",
    "蒋村",
]

# Demo roles, defined at the provincial department so every level can use them.
_ROLES: dict[str, tuple[DataScopeKind, tuple[str, ...]]] = {
    "市局系统管理员": (
        DataScopeKind.own_subtree,
        (
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
        ),
    ),
    "审批民警": (
        DataScopeKind.own_subtree,
        (
            "applications:view",
            "applications:view_internal",
            "applications:approve",
            "applications:print",
            "applications:export",
            "screening:view",
            "screening:run",
            "exam_enrolments:fingerprint",
            "exam_enrolments:confirm_payment",
            "company_licences:view",
            "training_licences:view",
            "exam_enrolments:view",
            "exam_enrolments:export",
            "exam_enrolments:resubmit",
            "exams:view",
            "exams:create",
            "exams:update",
            "exams:delete",
            "exams:publish",
            "exams:notify",
            "exam_scores:view",
            "exam_scores:update",
            "exam_scores:import",
            "exam_scores:export",
            "exam_scores:notify",
            "certificates:view",
            "certificates:print",
            "certificates:export",
            "certificates:reissue",
            "search:view",
            "person_center:view",
            "companies:view",
            "guards:view",
            "statistics:view",
            "orgs:view",
            "users:view",
        ),
    ),
    "派出所民警": (
        DataScopeKind.own_org,
        (
            "applications:view",
            "exam_enrolments:fingerprint",
            "exam_enrolments:view",
            "search:view",
            "guards:view",
            "companies:view",
        ),
    ),
    "领导": (
        DataScopeKind.own_subtree,
        (
            "applications:view",
            "applications:view_internal",
            "applications:approve",
            "applications:reassign",
            "applications:print",
            "screening:view",
            "screening:run",
            "exam_enrolments:fingerprint",
            "exam_enrolments:confirm_payment",
            "exam_scores:view",
            "exam_scores:amend",
            "certificates:view",
            "certificates:view_sensitive",
            "certificates:reprint",
            "certificates:revoke",
            "certificates:cancel",
            "statistics:view",
            "statistics:export",
            "search:view",
            "companies:view",
            "guards:view",
            "orgs:view",
            "users:view",
        ),
    ),
}

# The granting rule (``server.services.grants``, D11): an administrator manages only accounts
# whose rights he holds himself. The city administrator manages his city's clerks, leaders and
# station officers, so his role holds every permission of theirs; holding no approval role, he
# still acts on no step.
_ROLES["市局系统管理员"] = (
    DataScopeKind.own_subtree,
    tuple(sorted({p for _, perms in _ROLES.values() for p in perms})),
)

_APPROVAL_BY_LEVEL = {
    OrgType.province_department: (ApprovalRole.province_clerk, ApprovalRole.province_section_chief),
    OrgType.city_bureau: (ApprovalRole.city_clerk, ApprovalRole.city_security_leader),
    OrgType.county_bureau: (ApprovalRole.county_clerk, ApprovalRole.county_leader),
}


@dataclass
class DemoSummary:
    orgs: int = 0
    users: int = 0
    roles: int = 0
    applications: int = 0


class _People:
    """Plausible names, ID numbers and mobiles from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = 0

    def name(self) -> str:
        given = "".join(self.rng.choice(_GIVEN) for _ in range(self.rng.choice((1, 2))))
        return self.rng.choice(_SURNAMES) + given

    def id_number(self, region_code: str) -> str:
        birth = date(1965, 1, 1) + timedelta(days=self.rng.randrange(0, 365 * 35))
        first17 = f"{region_code}{birth:%Y%m%d}{self.rng.randrange(0, 1000):03d}"
        return first17 + check_char(first17)

    def mobile(self) -> str:
        return f"1{self.rng.choice('3578')}{self.rng.randrange(0, 10**9):09d}"

    def police_number(self) -> str:
        self.serial += 1
        return f"{self.serial:06d}"


def generate(
    session: Session,
    *,
    now: datetime,
    passwords: Passwords,
    signer: DocumentSigner,
    province: str = "330000",
    size: str = "standard",
    seed: int = 2026,
    store: MaterialStore | None = None,
    certificates: CertificateIssuing | None = None,
) -> DemoSummary:
    """Fill an initialised, still empty database (only the root organisation and admins).
    ``certificates``: the signing keys and number rule, to approve some 制证审批 into cards
    (without, they all stay in the inbox)."""
    root = session.scalar(select(Org).where(Org.parent_id.is_(None)))
    if root is None or root.region_code != province:
        raise AppError(ErrorCode.NOT_FOUND, f"请先运行 sgss-server init-db --province {province}")
    if session.scalar(select(func.count()).select_from(Org)) != 1:
        raise AppError(ErrorCode.CONFLICT, "数据库中已有机构数据，演示数据只能写入新初始化的数据库")
    scale = SIZES[size]
    rng = random.Random(seed)
    people = _People(rng)
    summary = DemoSummary(orgs=1)
    password_hash = passwords.hash(DEMO_PASSWORD)  # one hash for all: demo data only
    admin_role = sync_admin_role(session, root, now=now)
    roles = {
        name: _role(session, root, name, kind, perms, now) for name, (kind, perms) in _ROLES.items()
    }
    summary.roles = len(roles) + 1

    def user(
        org: Org, username: str, role: Role, *, approval: tuple[ApprovalRole, ...] = ()
    ) -> None:
        person = User(
            username=username,
            name=people.name(),
            org_id=org.id,
            is_police=True,
            police_number=people.police_number(),
            id_number=people.id_number(org.region_code),
            mobile=people.mobile(),
            password_hash=password_hash,
            must_change_password=False,
            created_at=now,
            updated_at=now,
        )
        person.role_rows = [UserRole(role_id=role.id)]
        person.approval_role_rows = [
            UserApprovalRole(business_type=bt.value, approval_role=a.value)
            for a in approval
            for bt in BusinessType
        ]
        session.add(person)
        summary.users += 1

    user(root, "demo_admin", admin_role)
    user(
        root,
        "zj_clerk",
        roles["审批民警"],
        approval=_APPROVAL_BY_LEVEL[OrgType.province_department][:1],
    )
    user(
        root,
        "zj_chief",
        roles["领导"],
        approval=_APPROVAL_BY_LEVEL[OrgType.province_department][1:],
    )
    table = region_table()
    for city_region in table.children(province):
        counties = _counties(city_region.code)
        city = root
        if city_region.name not in GROUPING_NAMES:
            city = add_org(
                session,
                now=now,
                parent=root,
                name=f"{city_region.name}公安局",
                type=OrgType.city_bureau,
                region_code=city_region.code,
                phone=f"0{rng.randrange(570, 580)}-110",
                address=f"{table.full_name(city_region.code)}",
            )
            summary.orgs += 1
            prefix = city_region.code[:4]
            user(city, f"c{prefix}admin", roles["市局系统管理员"])
            user(
                city,
                f"c{prefix}lead",
                roles["领导"],
                approval=_APPROVAL_BY_LEVEL[OrgType.city_bureau][1:],
            )
            for n in range(scale.clerks_per_org):
                user(
                    city,
                    f"c{prefix}clerk{n + 1}",
                    roles["审批民警"],
                    approval=_APPROVAL_BY_LEVEL[OrgType.city_bureau][:1],
                )
        for county_region in counties:
            suffix = "公安分局" if county_region.name.endswith("区") else "公安局"
            county = add_org(
                session,
                now=now,
                parent=city,
                name=f"{county_region.name}{suffix}",
                type=OrgType.county_bureau,
                region_code=county_region.code,
                address=table.full_name(county_region.code),
            )
            summary.orgs += 1
            code = county_region.code
            user(
                county,
                f"x{code}lead",
                roles["领导"],
                approval=_APPROVAL_BY_LEVEL[OrgType.county_bureau][1:],
            )
            for n in range(scale.clerks_per_org):
                user(
                    county,
                    f"x{code}clerk{n + 1}",
                    roles["审批民警"],
                    approval=_APPROVAL_BY_LEVEL[OrgType.county_bureau][:1],
                )
            places = rng.sample(
                _STATION_PLACES, min(scale.stations_per_county, len(_STATION_PLACES))
            )
            for s, place in enumerate(places, start=1):
                station = add_org(
                    session,
                    now=now,
                    parent=county,
                    name=f"{place}派出所",
                    type=OrgType.police_station,
                    region_code=county_region.code,
                    address=f"{table.full_name(county_region.code)}{place}路{rng.randrange(300)}号",
                )
                summary.orgs += 1
                for n in range(max(1, scale.clerks_per_org // 2)):
                    user(station, f"s{code}{s:02d}m{n + 1}", roles["派出所民警"])
    session.flush()
    audit.record(
        session,
        now=now,
        actor=audit.CLI_ACTOR,
        action=AuditAction.DEMO_GENERATE,
        entity_type=AuditEntity.DATABASE,
        org_id=root.id,
        after={
            "seed": seed,
            "size": size,
            "orgs": summary.orgs,
            "users": summary.users,
            "roles": summary.roles,
        },
    )
    session.commit()
    admin = session.scalar(select(User).where(User.username == "demo_admin"))
    assert admin is not None
    summary.applications = generate_applications(
        session, now=now, size=size, seed=seed, intake_user=admin, signer=signer, store=store
    )
    generate_exams(
        session, now=now, seed=seed, clerk=admin, signer=signer, certificates=certificates
    )
    return summary


def _counties(prefecture: str) -> list[Region]:
    return [r for r in region_table().children(prefecture) if r.level == RegionLevel.county]


def _role(
    session: Session,
    root: Org,
    name: str,
    kind: DataScopeKind,
    perms: tuple[str, ...],
    now: datetime,
) -> Role:
    role = Role(
        org_id=root.id, name=name, data_scope_kind=kind.value, created_at=now, updated_at=now
    )
    role.permission_rows = [RolePermission(permission=p) for p in sorted(set(perms))]
    session.add(role)
    session.flush()
    return role
