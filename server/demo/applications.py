"""Demo applications of every business type at every step, made through the real services.

Every application is submitted, screened, approved, rejected and gated by the same functions the
API calls, acting as the users the routing picks, so the demo inbox holds exactly what the engine
would have produced: pending steps at each level (some overdue), finished and returned ones, and a
few whose people are on the local watch list. Half of them belong to 西湖区 so the demo county
accounts (``x330106clerk1``…) have a full inbox.
"""

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, ApprovalTask, WatchListEntry
from server.db.models import Org, User
from server.demo.materials import application_form_pdf, licence_png
from server.demo.portraits import portrait_jpeg
from server.services.approvals import (
    actions,
    enrolment,
    fingerprints,
    intake,
    publishing,
    routing,
)
from server.services.approvals.definition import StepDef
from server.services.approvals.tasks import pending_task, process_of
from server.services.authz import Principal, principal_for
from server.services.documents.signing import DocumentSigner
from server.services.materials.records import add_material
from server.services.materials.store import MaterialStore
from server.services.screening.runs import run_screening
from server.services.screening.watchlist import WatchListProvider
from server.services.sync import records_out
from shared.approvals import ApplicantKind, Gate, PersonRole, ScreeningCategory
from shared.certificates import PHOTO_TITLE
from shared.enums import APPLICANT_TYPES, BusinessType, OrgType
from shared.idnumber import check_char
from shared.regions import region_table
from shared.schemas.applications import ApplicationCreate, PersonIn
from shared.schemas.forms import REQUIRED_PERSONS

FOCUS_COUNTY = "330106"  # 西湖区: the county the README's demo walk-through uses
PER_TYPE = {"small": 4, "standard": 12, "large": 40}
COHORT = {"small": 8, "standard": 16, "large": 40}
"""Enrolments approved weeks ago on top of the plans: the candidates of the demo's past exam."""
NO_PHOTO_ONE_IN = 15
"""About one enrolment in this many has no 证件照 (the certificate list's 是否有照片 shows it)."""
_TRADE = "平安 安邦 卫士 盾安 金盾 正信 恒安 华安 之江 钱塘 西子 天目".split()
_CLIENTS = "市第一人民医院 某商业银行 某小学 地铁运营公司 某会展中心 某物流园".split()


@dataclass(frozen=True)
class Plan:
    """What becomes of one application: ``approvals`` steps passed, then pending, finished
    (``approvals`` = all steps), or rejected at the next step; ``open_days`` is how long its
    current step has been waiting."""

    approvals: int
    reject: bool
    hit: bool
    screened: bool
    open_days: int


class _Maker:
    def __init__(
        self, session: Session, rng: random.Random, now: datetime, signer: DocumentSigner
    ) -> None:
        self.session = session
        self.signer = signer
        self.store: MaterialStore | None = None
        self.rng = rng
        self.now = now
        self.serial = 0
        self.filed = 0  # applications filed, for their extranet references
        self.provider = WatchListProvider(session)

    def id_number(self, region: str, born: date) -> str:
        first17 = f"{region}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
        return first17 + check_char(first17)

    def person(self, role: PersonRole, region: str, surnames: str) -> PersonIn:
        born = date(1960, 1, 1) + timedelta(days=self.rng.randrange(365 * 40))
        name = self.rng.choice(surnames) + self.rng.choice("伟强敏静磊军洋勇杰涛明超华平刚")
        return PersonIn(role=role, name=name, id_number=self.id_number(region, born))

    def unit(self, region: str) -> dict[str, Any]:
        self.serial += 1
        trade = self.rng.choice(_TRADE)
        code = f"9133{region[2:4]}{self.rng.randrange(10**6):06d}MA{self.serial:08d}"
        return {
            "unit_name": f"浙江{trade}保安服务有限公司{self.serial}号",
            "credit_code": code[:18],
            "address": f"{region_table().full_name(region)}{trade}路{self.rng.randrange(1, 300)}号",
            "phone": f"0571-8{self.rng.randrange(10**7):07d}",
        }

    def body(self, business_type: BusinessType, region: str) -> ApplicationCreate:
        persons: list[PersonIn] = []
        for role in sorted(REQUIRED_PERSONS[business_type]):
            person = self.person(role, region, "王李张刘陈杨黄赵吴周徐孙")
            while any(p.name == person.name for p in persons):  # two people, two names
                person = self.person(role, region, "王李张刘陈杨黄赵吴周徐孙")
            persons.append(person)
        if business_type == BusinessType.guard_exam_enrolment:
            applicant = persons[0]
            return ApplicationCreate(
                business_type=business_type,
                applicant_kind=ApplicantKind.person,
                applicant_name=applicant.name,
                applicant_code=applicant.id_number,
                region_code=region,
                form={
                    "gender": self.rng.choice("男男女"),
                    "education": self.rng.choice(["高中", "中专", "大专", "本科"]),
                    "address": region_table().full_name(region),
                },
                persons=persons,
            )
        unit = self.unit(region)
        return ApplicationCreate(
            business_type=business_type,
            applicant_kind=ApplicantKind.unit,
            applicant_name=unit["unit_name"],
            applicant_code=unit["credit_code"],
            region_code=region,
            form={**unit, **_form_extra(business_type, self.rng, unit, persons)},
            persons=persons,
        )


def _form_extra(
    business_type: BusinessType, rng: random.Random, unit: dict[str, Any], persons: list[PersonIn]
) -> dict[str, Any]:
    """The type's own fields, consistent with the rest of the application: a change of legal
    representative names the person listed as 法定代表人 as the one leaving; a change of
    address starts from the address on the form."""
    licence = f"浙公保服{rng.randrange(1, 999):03d}"
    named = {p.role: p.name for p in persons}
    extras: dict[BusinessType, dict[str, Any]] = {
        BusinessType.company_licence: {
            "registered_capital_wan": rng.choice([1000, 1500, 2000]),
            "service_scope": "门卫、巡逻、守护",
            "staff_planned": rng.randrange(20, 300),
        },
        BusinessType.foreign_company_licence: {
            "registered_capital_wan": 2000,
            "service_scope": "安全技术防范",
            "staff_planned": rng.randrange(20, 100),
            "foreign_investor": "Pacific Guard Holdings Ltd",
            "foreign_share_percent": 49,
        },
        BusinessType.training_licence: {
            "training_scope": "保安员培训",
            "classroom_area_m2": rng.randrange(200, 800),
            "teachers": rng.randrange(3, 12),
        },
        BusinessType.branch_filing: {"branch_name": "杭州分公司", "branch_address": "杭州市"},
        BusinessType.self_recruit_filing: {"guards": rng.randrange(3, 40), "posts": "门卫、巡逻"},
        BusinessType.self_recruit_revocation: {
            "filing_number": f"BA2025{rng.randrange(10**6):06d}",
            "reason": "不再自行招用保安员",
        },
        BusinessType.cross_region_filing: {
            "licence_number": licence,
            "target_province": "320000",
            "client_name": rng.choice(_CLIENTS),
            "start": "2027-01-01",
            "end": "2027-12-31",
        },
        BusinessType.annual_report_filing: {
            "year": 2025,
            "guards": rng.randrange(10, 500),
            "clients": rng.randrange(1, 60),
            "revenue_wan": rng.randrange(100, 5000),
        },
        BusinessType.client_unit_filing: {
            "client_name": rng.choice(_CLIENTS),
            "client_tier": rng.randrange(1, 4),
            "guards": rng.randrange(1, 20),
        },
        BusinessType.commendation: {"nominee": "李卫东", "deeds": "协助民警抓获盗窃嫌疑人"},
        BusinessType.licence_item_change: {
            "licence_number": licence,
            "item": "住所",
            "old_value": unit["address"],
            "new_value": f"{unit['address'].rsplit('路', 1)[0]}路{rng.randrange(300, 600)}号",
        },
        BusinessType.legal_rep_change: {
            "licence_number": licence,
            "current_legal_rep": named.get(PersonRole.legal_rep, ""),  # it names one
            "reason": "股东会决议更换法定代表人",
        },
    }
    return extras.get(business_type, {})


def _plans(steps: int, screened_first: bool, count: int, rng: random.Random) -> list[Plan]:
    """Every step pending on time and overdue (the first one also unscreened), one finished,
    one rejected at each step, one screening hit; the rest at random."""
    plans = [
        Plan(0, reject=False, hit=False, screened=False, open_days=1),
        Plan(steps, reject=False, hit=False, screened=True, open_days=0),
    ]
    plans += [Plan(i, False, False, True, open_days=1) for i in range(steps)]
    plans += [Plan(i, False, False, True, open_days=12) for i in range(steps)]  # overdue
    plans += [Plan(i, True, False, True, 0) for i in range(steps)]
    if screened_first:
        plans.append(Plan(0, reject=False, hit=True, screened=True, open_days=2))
    while len(plans) < count:
        done = rng.randrange(steps + 1)
        reject = done < steps and rng.random() < 0.1
        waited = rng.randrange(10, 20) if rng.random() < 0.2 else rng.randrange(0, 4)
        plans.append(Plan(done, reject, hit=False, screened=True, open_days=waited))
    return plans


def generate_applications(
    session: Session,
    *,
    now: datetime,
    size: str,
    seed: int,
    intake_user: User,
    signer: DocumentSigner,
    store: MaterialStore | None = None,
) -> int:
    """Submit and work the demo applications; returns how many were made. Finished ones get
    their licence or certificate, signed by ``signer``, as the API would issue it."""
    rng = random.Random(seed + 1)
    maker = _Maker(session, rng, now, signer)
    maker.store = store
    clerk = principal_for(session, intake_user)
    counties = _counties_with_bureaus(session)
    made = 0
    for business_type in APPLICANT_TYPES:
        steps = _steps(session, business_type)
        screened_first = Gate.screening in steps[0].gates
        plans = _plans(len(steps), screened_first, PER_TYPE[size], rng)
        for n, plan in enumerate(plans):
            region = FOCUS_COUNTY if n % 2 == 0 else rng.choice(counties)
            _work(session, maker, clerk, maker.body(business_type, region), plan)
            made += 1
    for n in range(COHORT[size]):
        region = FOCUS_COUNTY if n % 2 == 0 else rng.choice(counties)
        plan = Plan(3, reject=False, hit=False, screened=True, open_days=rng.randrange(45, 60))
        _work(session, maker, clerk, maker.body(BusinessType.guard_exam_enrolment, region), plan)
        made += 1
    return made


def _steps(session: Session, business_type: BusinessType) -> tuple[StepDef, ...]:
    row = publishing.latest(session, business_type)
    assert row is not None, business_type
    return tuple(publishing.process_of(row).steps)


def _counties_with_bureaus(session: Session) -> list[str]:
    return sorted(
        session.scalars(select(Org.region_code).where(Org.type == OrgType.county_bureau)).all()
    )


def _actor(session: Session, task: ApprovalTask) -> Principal:
    users = routing.candidates(session, task)
    if not users:
        raise RuntimeError(f"演示数据：步骤 {task.step_key} 在机构 {task.acting_org_id} 无审批人")
    return principal_for(session, users[0])


def _work(
    session: Session, maker: _Maker, clerk: Principal, body: ApplicationCreate, plan: Plan
) -> None:
    """Replay the plan in time order, ending ``plan.open_days`` days before now."""
    rng = maker.rng
    steps_taken = plan.approvals + (1 if plan.reject else 0)
    gaps = [timedelta(days=rng.randrange(1, 4), hours=rng.randrange(8)) for _ in range(steps_taken)]
    moment = (
        maker.now
        - timedelta(days=plan.open_days, hours=rng.randrange(1, 6))
        - sum(gaps, timedelta())
    )
    # every applicant files on the extranet portal (DOMAIN.md §1): so do the demo's, and what
    # goes back to the portal (docs/sync.md) is in the outbox from the start
    maker.filed += 1
    body = body.model_copy(update={"external_ref": f"WW{maker.now:%Y}{maker.filed:07d}"})
    application = intake.create_application(
        session, clerk, body, now=moment, source=records_out.EXTRANET
    )
    if maker.store is not None:
        _attach_scans(session, maker.store, clerk, application, body, moment)
    if plan.hit:
        target = body.persons[-1]
        session.add(
            WatchListEntry(
                id_number=target.id_number,
                name=target.name,
                category=rng.choice(list(ScreeningCategory)),
                source="演示名单",
                listed_date=date(2024, 5, 1),
                imported_at=moment,
            )
        )
        session.flush()
    for index in range(steps_taken):
        task = pending_task(session, application.id)
        assert task is not None
        step = process_of(application).step(task.step_key)
        principal = _actor(session, task)
        moment += gaps[index] / 2
        if Gate.screening in step.gates and (plan.screened or index > 0):
            _screen(session, maker, principal, application, task, step.name, moment)
        moment += gaps[index] / 2
        if plan.reject and index == steps_taken - 1:
            actions.reject(
                session,
                principal,
                application.id,
                version=application.version,
                reason="申请材料不齐全，请补正后重新提交",
                corrections=["补充法定代表人身份证复印件", "营业执照副本须加盖公章"],
                now=moment,
            )
            return
        _open_gates(session, principal, application, step.gates, moment)
        final = index == len(process_of(application).steps) - 1
        actions.approve(
            session,
            principal,
            application.id,
            version=application.version,
            opinion="同意。" if final else "材料齐全，符合条件，同意。",
            now=moment,
            signer=maker.signer,
        )
    if plan.hit or (plan.screened and plan.approvals == 0):
        task = pending_task(session, application.id)
        if task is not None:
            step = process_of(application).step(task.step_key)
            if Gate.screening in step.gates:
                _screen(session, maker, _actor(session, task), application, task, step.name, moment)


def _screen(
    session: Session,
    maker: _Maker,
    principal: Principal,
    application: Application,
    task: ApprovalTask,
    step_name: str,
    now: datetime,
) -> None:
    run_screening(
        session,
        principal,
        application,
        provider=maker.provider,
        now=now,
        task_id=task.id,
        step_name=step_name,
    )
    session.commit()


def _attach_scans(
    session: Session,
    store: MaterialStore,
    clerk: Principal,
    application: Application,
    body: ApplicationCreate,
    moment: datetime,
) -> None:
    scans = [("申请表", "申请表.pdf", application_form_pdf(body))]
    if body.applicant_kind == ApplicantKind.unit:
        scans.append(
            ("营业执照", "营业执照.png", licence_png(body.applicant_name, body.applicant_code))
        )
    if body.business_type == BusinessType.guard_exam_enrolment and has_photo(body.applicant_code):
        scans.append((PHOTO_TITLE, f"{PHOTO_TITLE}.jpg", portrait_jpeg(body.applicant_code)))
    for title, filename, content in scans:
        add_material(
            session,
            clerk,
            application,
            title=title,
            filename=filename,
            chunks=[content],
            store=store,
            max_bytes=10 * 2**20,
            now=moment,
        )
    session.commit()


def has_photo(id_number: str) -> bool:
    """Whether the demo gives this person a 证件照: decided by the ID number (not the shared
    random stream, so the rest of the demo is as before)."""
    digest = hashlib.sha256(id_number.encode()).digest()
    return int.from_bytes(digest[:4], "big") % NO_PHOTO_ONE_IN != 0


def _open_gates(
    session: Session,
    principal: Principal,
    application: Application,
    gates: tuple[Gate, ...],
    moment: datetime,
) -> None:
    if Gate.fingerprint_card in gates and application.fingerprint_card_no is None:
        card = fingerprints.card_number(session, application.region_code)
        enrolment.record_fingerprint(
            session,
            principal,
            application.id,
            version=application.version,
            card_number=card,
            now=moment,
        )
    if Gate.payment in gates and application.paid_at is None:
        enrolment.confirm_payment(session, principal, [application.id], now=moment)
