"""Years of approval history in bulk, for benchmarks: ``sgss-server demo-data --history N``.

The demo applications (``server.demo.applications``) go through the services one by one, which
is what a demo needs and far too slow for a province's five years. This writes the same rows the
engine would have written — applications, persons, one task per step, the log — with bulk inserts,
following the published definitions, the routing of each step to the bureau of the applicant's
jurisdiction, the approvers the demo organisation has, and the working-day time limits. Most
applications are finished; recent ones are still pending at some step (a few of them overdue);
some were rejected, and most of those resubmitted and went through in a second round.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from server.db.approval_models import (
    Application,
    ApplicationPerson,
    ApprovalLogEntry,
    ApprovalTask,
    NumberSequence,
)
from server.db.models import Org, User, UserApprovalRole
from server.services import audit
from server.services.approvals import publishing
from server.services.approvals.definition import ProcessDef, StepDef
from server.services.approvals.routing import acting_org
from shared.approvals import (
    ApplicantKind,
    ApplicationStatus,
    ApprovalAction,
    Gate,
    OpinionVisibility,
    PersonRole,
)
from shared.audit_actions import AuditAction, AuditEntity
from shared.china_time import china_day
from shared.enums import APPLICANT_TYPES, ApprovalRole, BusinessType, OrgType
from shared.idnumber import check_char
from shared.workdays import work_calendar

CHUNK = 2000  # applications per batch of inserts
REJECT_RATE = 0.12
RESUBMIT_RATE = 0.7
ASSIGN_RATE = 0.15


@dataclass
class HistorySummary:
    applications: int = 0
    tasks: int = 0
    log_entries: int = 0
    pending: int = 0


@dataclass
class _Rows:
    applications: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)


@cache
def _due(day: date, days: int) -> date:
    return work_calendar().add_working_days(day, days)


class _World:
    """What the generator looks up once: definitions, bureaus per region and level, approvers."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.processes: dict[BusinessType, tuple[int, ProcessDef]] = {}
        for business_type in APPLICANT_TYPES:
            row = publishing.latest(session, business_type)
            assert row is not None, f"未发布的审批流程：{business_type}"
            self.processes[business_type] = (row.id, publishing.process_of(row))
        self.counties = sorted(
            session.scalars(select(Org.region_code).where(Org.type == OrgType.county_bureau))
        )
        self._orgs: dict[tuple[str, str], int] = {}
        self.approvers: dict[tuple[int, str], tuple[int, str]] = {}
        rows = session.execute(
            select(User.org_id, UserApprovalRole.approval_role, User.id, User.name)
            .join(UserApprovalRole, UserApprovalRole.user_id == User.id)
            .order_by(User.id)
        )
        for org_id, role, user_id, name in rows:
            self.approvers.setdefault((org_id, role), (user_id, name))

    def org_for(self, region: str, step: StepDef) -> int:
        key = (region, str(step.level))
        if key not in self._orgs:
            self._orgs[key] = acting_org(self.session, region, step.level)
        return self._orgs[key]

    def approver(self, org_id: int, role: str) -> tuple[int | None, str]:
        return self.approvers.get((org_id, role), (None, "审批人"))


class _Ids:
    def __init__(self, session: Session) -> None:
        def top(model: Any) -> int:
            return int(session.scalar(select(func.max(model.id))) or 0)

        self.application = top(Application)
        self.person = top(ApplicationPerson)
        self.task = top(ApprovalTask)
        self.log = top(ApprovalLogEntry)
        self.numbers: dict[int, int] = {}
        for name, value in session.execute(select(NumberSequence.name, NumberSequence.value)):
            if name.startswith("application:"):
                self.numbers[int(name.split(":")[1])] = value

    def number(self, year: int) -> str:
        self.numbers[year] = self.numbers.get(year, 0) + 1
        return f"SQ{year}{self.numbers[year]:06d}"


def generate_history(
    session: Session, *, now: datetime, applications: int, years: int = 5, seed: int = 7
) -> HistorySummary:
    world = _World(session)
    ids = _Ids(session)
    rng = random.Random(seed)
    summary = HistorySummary()
    span = timedelta(days=365 * years)
    for batch in _batches(applications):
        rows = _Rows()
        for _ in range(batch):
            submitted = now - span * rng.random()
            _one(world, ids, rng, rows, submitted, now, summary)
        _write(session, rows)
        summary.applications += batch
        summary.tasks += len(rows.tasks)
        summary.log_entries += len(rows.log)
    _finish(session, ids)
    audit.record(
        session,
        now=now,
        actor=audit.CLI_ACTOR,
        action=AuditAction.DEMO_GENERATE,
        entity_type=AuditEntity.DATABASE,
        after={
            "history_applications": summary.applications,
            "tasks": summary.tasks,
            "log_entries": summary.log_entries,
            "years": years,
            "seed": seed,
        },
    )
    session.commit()
    return summary


def _batches(total: int) -> Iterator[int]:
    while total > 0:
        yield min(CHUNK, total)
        total -= CHUNK


def _write(session: Session, rows: _Rows) -> None:
    for model, values in (
        (Application, rows.applications),
        (ApplicationPerson, rows.persons),
        (ApprovalTask, rows.tasks),
        (ApprovalLogEntry, rows.log),
    ):
        if values:
            session.execute(insert(model), values)
    session.commit()


def _finish(session: Session, ids: _Ids) -> None:
    """Counters on from the generated rows: numbers and (on PostgreSQL) identity sequences."""
    for year, value in ids.numbers.items():
        name = f"application:{year}"
        if session.get(NumberSequence, name) is None:
            session.add(NumberSequence(name=name, value=value))
        else:
            session.execute(
                update(NumberSequence).where(NumberSequence.name == name).values(value=value)
            )
    if session.get_bind().dialect.name == "postgresql":
        for table in ("applications", "application_persons", "approval_tasks", "approval_log"):
            # table names are the constants above, never input
            sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"  # noqa: S608, E501
            session.execute(text(sql))
    session.flush()


def _person(rng: random.Random, region: str) -> tuple[str, str]:
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
    first17 = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return rng.choice("王李张刘陈杨黄赵吴周") + rng.choice("伟强敏静磊军洋"), first17 + check_char(
        first17
    )


def _one(
    world: _World,
    ids: _Ids,
    rng: random.Random,
    rows: _Rows,
    submitted: datetime,
    now: datetime,
    summary: HistorySummary,
) -> None:
    business_type = rng.choice(APPLICANT_TYPES)
    definition_id, process = world.processes[business_type]
    region = rng.choice(world.counties)
    ids.application += 1
    app_id = ids.application
    person_kind = business_type == BusinessType.guard_exam_enrolment
    name, id_number = _person(rng, region)
    applicant = name if person_kind else f"浙江{name}保安服务有限公司{app_id}"
    status, decided = ApplicationStatus.in_review, None
    moment = submitted
    log = rows.log
    first_entry = len(log)

    def entry(action: ApprovalAction, at: datetime, **kw: Any) -> None:
        ids.log += 1
        log.append(
            {
                "id": ids.log,
                "application_id": app_id,
                "round": kw.pop("round"),
                "task_id": kw.pop("task_id", None),
                "step_name": kw.pop("step_name", None),
                "action": action.value,
                "at": at,
                "actor_id": kw.pop("actor_id", None),
                "actor_name": kw.pop("actor_name", applicant),
                "actor_role": kw.pop("actor_role", "申请人"),
                "opinion": kw.pop("opinion", None),
                "visibility": kw.pop("visibility", OpinionVisibility.internal.value),
                "corrections": kw.pop("corrections", None),
                "assignee_name": None,
            }
        )

    round_no = 1
    entry(ApprovalAction.submit, moment, round=1)
    while True:
        kind, moment = _run_round(
            world, ids, rng, rows, process, app_id, region, round_no, moment, now, entry
        )
        if kind == "pending":
            summary.pending += 1
            break
        if kind == "approved":
            status, decided = ApplicationStatus.approved, moment
            break
        # rejected: back with the applicant; most come back corrected
        status, decided = ApplicationStatus.returned, moment
        again = moment + timedelta(days=rng.randrange(3, 20))
        if round_no >= 2 or rng.random() > RESUBMIT_RATE or again >= now:
            break
        round_no, moment = round_no + 1, again
        status, decided = ApplicationStatus.in_review, None
        entry(ApprovalAction.resubmit, moment, round=round_no)
    rounds = round_no
    rows.applications.append(
        {
            "id": app_id,
            "number": ids.number(china_day(submitted).year),
            "business_type": business_type.value,
            "applicant_kind": (ApplicantKind.person if person_kind else ApplicantKind.unit).value,
            "applicant_name": applicant,
            "applicant_code": id_number if person_kind else f"91{region}MA{app_id:010d}"[:18],
            "region_code": region,
            "org_id": world.org_for(region, process.steps[0]),
            "definition_id": definition_id,
            "round": rounds,
            "status": status.value,
            "form": {"address": f"{region}辖区", "phone": "0571-88000000"},
            "fingerprint_card_no": None,
            "paid_at": None,
            "source": "extranet",
            "external_ref": None,
            "submitted_at": submitted,
            "round_started_at": submitted,
            "decided_at": decided,
            "created_at": submitted,
            "updated_at": decided or moment,
            "version": 1 + len(log) - first_entry,
        }
    )
    for round_index in range(1, rounds + 1):
        ids.person += 1
        role = PersonRole.applicant if person_kind else PersonRole.legal_rep
        rows.persons.append(
            {
                "id": ids.person,
                "application_id": app_id,
                "round": round_index,
                "role": role.value,
                "name": name,
                "id_number": id_number,
                "mobile": None,
            }
        )


def _run_round(
    world: _World,
    ids: _Ids,
    rng: random.Random,
    rows: _Rows,
    process: ProcessDef,
    app_id: int,
    region: str,
    round_no: int,
    moment: datetime,
    now: datetime,
    entry: Any,
) -> tuple[str, datetime]:
    """Walk the steps of one round; returns ('approved'|'rejected'|'pending', last moment)."""
    reject_at = rng.randrange(len(process.steps)) if rng.random() < REJECT_RATE else None
    for index, step in enumerate(process.steps):
        org_id = world.org_for(region, step)
        ids.task += 1
        task_id = ids.task
        opened = moment
        took = timedelta(days=rng.randrange(1, 7), hours=rng.randrange(9))
        user_id, user_name = world.approver(org_id, str(step.role))
        role_label = ApprovalRole(str(step.role)).label
        task = {
            "id": task_id,
            "application_id": app_id,
            "business_type": process.business_type.value,
            "round": round_no,
            "step_index": index,
            "step_key": step.key,
            "step_name": step.name,
            "level": str(step.level),
            "approval_role": str(step.role),
            "acting_org_id": org_id,
            "assignee_id": None,
            "status": "pending",
            "started_at": opened,
            "due_date": _due(china_day(opened), step.time_limit_days),
            "overdue_notified_at": None,
            "decided_at": None,
            "decided_by_id": None,
            "decision": None,
        }
        rows.tasks.append(task)
        if opened + took >= now:
            return "pending", opened
        moment = opened + took
        common = {
            "round": round_no,
            "task_id": task_id,
            "step_name": step.name,
            "actor_id": user_id,
            "actor_name": user_name,
            "actor_role": role_label,
        }
        if index == 0 and Gate.screening in step.gates:
            entry(ApprovalAction.screening, opened + took / 3, opinion="审查：未见异常", **common)
        if index == len(process.steps) - 1 and rng.random() < ASSIGN_RATE:
            entry(ApprovalAction.assign, opened + took / 2, opinion="请办理", **common)
        final = index == len(process.steps) - 1
        task.update(decided_at=moment, decided_by_id=user_id, status="done")
        if index == reject_at:
            task["decision"] = "reject"
            entry(
                ApprovalAction.reject,
                moment,
                opinion="材料不齐全，请补正后重新提交",
                visibility=OpinionVisibility.external.value,
                corrections=["补充身份证复印件"],
                **common,
            )
            return "rejected", moment
        task["decision"] = "approve"
        entry(
            ApprovalAction.approve,
            moment,
            opinion="同意。" if final else "材料齐全，同意。",
            visibility=(OpinionVisibility.external if final else OpinionVisibility.internal).value,
            **common,
        )
    return "approved", moment
