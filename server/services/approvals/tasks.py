"""Opening steps, finding the pending one, writing the approval log, counting time limits.

Time limits are working days on the Chinese calendar (``shared.workdays``) counted from the day
a step opens, in Beijing time. A rejection closes the round, so the days an application spends
back with the applicant never count against any step; the next round opens fresh steps.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, select
from sqlalchemy.orm import Session, aliased, lazyload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement

from server.db import write_behind
from server.db.approval_models import Application, ApprovalLogEntry, ApprovalTask
from server.db.models import Org, User
from server.services.approvals import publishing
from server.services.approvals.definition import ProcessDef, StepDef
from server.services.approvals.routing import acting_org, routed
from shared.approvals import ApprovalAction, AuthorityLevel, OpinionVisibility
from shared.china_time import china_day
from shared.workdays import work_calendar

PENDING, DONE, RETURNED, CANCELLED = "pending", "done", "returned", "cancelled"


def due_date(opened_at: datetime, days: int) -> date:
    return work_calendar().add_working_days(china_day(opened_at), days)


def is_overdue(task: ApprovalTask, now: datetime) -> bool:
    return overdue_on(task.status, task.due_date, china_day(now))


def overdue_on(status: str, due_date: date, today: date) -> bool:
    """The overdue rule: a step still pending past its due day (Beijing's ``today``)."""
    return status == PENDING and today > due_date


def process_of(application: Application) -> ProcessDef:
    return publishing.process_of(application.definition)


_TASKS = cast(Table, ApprovalTask.__table__)
OPEN_STEP = write_behind.inserting(_TASKS)
CLOSE_STEP = write_behind.updating(
    _TASKS,
    "task_id",
    {
        "status": "new_status",
        "decided_at": "now",
        "decided_by_id": "user_id",
        "decision": "new_decision",
    },
)
"""Core, built once: a step is one row written once when it opens and once when it closes, and
the ORM's unit of work (and the flush every query before the commit would otherwise trigger)
costs several times the statement itself. Both go through ``write_behind``: nothing reads them
back before the next statement, which sends them (on PostgreSQL, with the audit records)."""


def open_step(
    session: Session,
    application: Application,
    process: ProcessDef,
    step: StepDef,
    now: datetime,
    routes: dict[AuthorityLevel, int] | None = None,
) -> None:
    """Open the step's task, routed to its bureau (``routes``: the bureaus already looked up),
    written at once on the session's connection (``application`` must have been flushed)."""
    region = application.region_code
    if routes is None:
        org_id = acting_org(session, region, step.level)
    else:
        org_id = routed(routes, region, step.level)
    write_behind.write(
        session.connection(),
        OPEN_STEP,
        {
            "application_id": application.id,
            "business_type": application.business_type,
            "round": application.round,
            "step_index": process.index_of(step.key),
            "step_key": step.key,
            "step_name": step.name,
            "level": str(step.level),
            "approval_role": str(step.role),
            "acting_org_id": org_id,
            "assignee_id": None,
            "status": PENDING,
            "started_at": now,
            "due_date": due_date(now, step.time_limit_days),
            "overdue_notified_at": None,
            "decided_at": None,
            "decided_by_id": None,
            "decision": None,
        },
    )


def close_step(
    session: Session, task: ApprovalTask, user_id: int, decision: str, now: datetime, status: str
) -> None:
    """Close ``task`` (loaded in ``session``) with ``decision`` by ``user_id``: one UPDATE
    (``write_behind``), and the loaded row brought up to date without being marked changed."""
    write_behind.write(
        session.connection(),
        CLOSE_STEP,
        {
            "task_id": task.id,
            "new_status": status,
            "now": now,
            "user_id": user_id,
            "new_decision": decision,
        },
    )
    for key, value in (
        ("status", status),
        ("decided_at", now),
        ("decided_by_id", user_id),
        ("decision", decision),
    ):
        set_committed_value(task, key, value)


_PENDING_TASK = (
    select(ApprovalTask)
    .where(
        ApprovalTask.application_id == bindparam("application_id"),
        ApprovalTask.status == PENDING,
    )
    # callers hold the application already: the step's one comes from the identity map
    .options(lazyload(ApprovalTask.application))
)


def pending_task(session: Session, application_id: int) -> ApprovalTask | None:
    return session.scalar(_PENDING_TASK, {"application_id": application_id})


def _before(
    earlier: Any, application_id: Any, round_: Any, step_index: Any
) -> tuple[ColumnElement[bool], ...]:
    """The rule of ``previous_step``: a step of ``earlier`` done before ``step_index`` in the
    application's current round."""
    return (
        earlier.application_id == application_id,
        earlier.round == round_,
        earlier.status == DONE,
        earlier.step_index < step_index,
    )


def previous_step(
    session: Session, application: Application, task: ApprovalTask
) -> ApprovalTask | None:
    """The step 退回上一级 reopens: the last one done before ``task`` in this round (None: none
    was, 退回 is not possible)."""
    return session.scalar(
        select(ApprovalTask)
        .where(*_before(ApprovalTask, application.id, application.round, task.step_index))
        .order_by(ApprovalTask.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class PendingStep:
    """The pending step of an application with what the review dialog shows beside it."""

    task: ApprovalTask
    acting_org_name: str
    assignee_name: str | None  # None: not assigned (or to an account that is gone)
    has_previous: bool  # ``previous_step`` would find one: 退回上一级 is possible


_EARLIER = aliased(ApprovalTask)
_PENDING_STEP = (
    select(
        ApprovalTask,
        select(Org.name).where(Org.id == ApprovalTask.acting_org_id).scalar_subquery(),
        select(User.name).where(User.id == ApprovalTask.assignee_id).scalar_subquery(),
        exists().where(
            *_before(
                _EARLIER, ApprovalTask.application_id, bindparam("round"), ApprovalTask.step_index
            )
        ),
    )
    .where(
        ApprovalTask.application_id == bindparam("application_id"),
        ApprovalTask.status == PENDING,
    )
    .options(lazyload(ApprovalTask.application))
)


def pending_step(session: Session, application: Application) -> PendingStep | None:
    """``pending_task`` and the names and the fact beside it, in the one query: a round trip
    each would be four."""
    row = session.execute(
        _PENDING_STEP, {"application_id": application.id, "round": application.round}
    ).first()
    if row is None:
        return None
    task, acting_org_name, assignee_name, has_previous = row
    return PendingStep(task, acting_org_name or "", assignee_name, bool(has_previous))


def approval_visibility(final: bool) -> OpinionVisibility:
    """Who reads an opinion given with 同意: the applicant on the final step, which ends the
    review; the police only on every other (DOMAIN.md §4)."""
    return OpinionVisibility.external if final else OpinionVisibility.internal


WRITE_LOG = write_behind.inserting(cast(Table, ApprovalLogEntry.__table__))


def write_log(
    session: Session,
    application: Application,
    *,
    action: ApprovalAction,
    now: datetime,
    actor_id: int | None,
    actor_name: str,
    actor_role: str | None = None,
    task: ApprovalTask | None = None,
    opinion: str | None = None,
    visibility: OpinionVisibility = OpinionVisibility.internal,
    corrections: list[str] | None = None,
    assignee_name: str | None = None,
) -> None:
    """One line of the approval log: a Core INSERT on the session's connection
    (``write_behind``; the log is append-only and nothing reads the line back in its
    transaction, so it needs no ORM object, and writing it does not flush the session's pending
    changes)."""
    write_behind.write(
        session.connection(),
        WRITE_LOG,
        {
            "application_id": application.id,
            "round": application.round,
            "task_id": task.id if task is not None else None,
            "step_name": task.step_name if task is not None else None,
            "action": str(action),
            "at": now,
            "actor_id": actor_id,
            "actor_name": actor_name,
            "actor_role": actor_role,
            "opinion": opinion or None,
            "visibility": str(visibility),
            "corrections": corrections,
            "assignee_name": assignee_name,
        },
    )
