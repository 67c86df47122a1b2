"""The inbox (待办事项 / 通用审批): steps waiting for me, applications I have acted on, counts.

A pending step is mine when it is routed to my authority (my bureau, or the bureau above my
office), its business type and approval role are among my business approval roles, and it is
not assigned to someone else. Everything is filtered, sorted and paged in the database.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import Bundle, Session, lazyload
from sqlalchemy.sql.elements import ColumnElement

from server.db.approval_models import Application, ApprovalTask
from server.services.approvals.access import principal_authority
from server.services.approvals.tasks import BEIJING, PENDING
from server.services.authz import Principal
from server.services.paging import PageRequest
from shared.approvals import ApplicationStatus
from shared.enums import BusinessType


@dataclass(frozen=True)
class InboxFilter:
    business_type: BusinessType | None = None
    status: ApplicationStatus | None = None
    date_from: date | None = None
    date_to: date | None = None
    applicant: str | None = None
    overdue: bool | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BEIJING)


def mine_clause(session: Session, principal: Principal) -> ColumnElement[bool]:
    """Pending steps of the caller's bureau whose (business type, role) the caller holds, not
    assigned to someone else. Pairs are grouped by role (``role = r AND type IN (...)``): a
    short expression the task index serves, instead of one OR branch per pair."""
    types_by_role: dict[str, list[str]] = defaultdict(list)
    for business_type, role in sorted(principal.approval_pairs):
        types_by_role[role].append(business_type)
    if not types_by_role:
        return false()
    return and_(
        ApprovalTask.status == PENDING,
        ApprovalTask.acting_org_id == principal_authority(session, principal),
        or_(
            *(
                and_(ApprovalTask.approval_role == role, ApprovalTask.business_type.in_(types))
                for role, types in types_by_role.items()
            )
        ),
        or_(ApprovalTask.assignee_id.is_(None), ApprovalTask.assignee_id == principal.user_id),
    )


def _filters(f: InboxFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.business_type is not None:
        clauses.append(Application.business_type == f.business_type)
    if f.status is not None:
        clauses.append(Application.status == f.status)
    if f.date_from is not None:
        clauses.append(Application.submitted_at >= _start_of(f.date_from))
    if f.date_to is not None:
        clauses.append(Application.submitted_at < _start_of(f.date_to + timedelta(days=1)))
    if f.applicant:
        needle = f"%{f.applicant.strip()}%"
        clauses.append(
            or_(
                Application.applicant_name.like(needle),
                Application.applicant_code.like(needle.upper()),
                Application.number.like(needle.upper()),
            )
        )
    return clauses


def _order(columns: dict[str, Any], page: PageRequest, default: str) -> list[Any]:
    key = page.sort or default
    name = key.lstrip("-")
    if name not in columns:
        key, name = default, default.lstrip("-")
    column = columns[name]
    primary = column.desc() if key.startswith("-") else column.asc()
    return [primary, Application.id.desc()]


PENDING_SORTS = {
    "submitted_at": Application.submitted_at,
    "due_date": ApprovalTask.due_date,
    "number": Application.number,
    "business_type": Application.business_type,
    "applicant_name": Application.applicant_name,
    "started_at": ApprovalTask.started_at,
}


TASK_LINE: Bundle[Any] = Bundle(
    "task", ApprovalTask.id, ApprovalTask.step_name, ApprovalTask.due_date, ApprovalTask.status
)
APPLICATION_LINE: Bundle[Any] = Bundle(
    "application",
    Application.id,
    Application.number,
    Application.business_type,
    Application.applicant_name,
    Application.status,
    Application.round,
    Application.submitted_at,
    Application.version,
)


def list_pending(
    session: Session, principal: Principal, f: InboxFilter, page: PageRequest, *, today: date
) -> tuple[Sequence[Any], int]:
    """Rows of (task, application) waiting for ``principal``: light bundles of just the columns
    an inbox line shows (``views.row`` reads them like the entities), not ORM objects with their
    forms and every timestamp: the inbox is the most requested page of the system."""
    where = [mine_clause(session, principal), *_filters(f)]
    if f.overdue is True:
        where.append(ApprovalTask.due_date < today)
    elif f.overdue is False:
        where.append(ApprovalTask.due_date >= today)
    base = select(TASK_LINE, APPLICATION_LINE).join(
        Application, Application.id == ApprovalTask.application_id
    )
    rows = session.execute(
        base.where(*where)
        .order_by(*_order(PENDING_SORTS, page, "due_date"))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    if page.offset == 0 and len(rows) < page.limit:
        return rows, len(rows)  # the whole list fits on the first page: no count needed
    total = session.scalar(
        select(func.count()).select_from(ApprovalTask).join(Application).where(*where)
    )
    return rows, total or 0


def list_done(
    session: Session, principal: Principal, f: InboxFilter, page: PageRequest
) -> tuple[Sequence[Any], int]:
    """Rows of (application, when I last acted) for applications I have decided a step of."""
    mine = (
        select(
            ApprovalTask.application_id.label("application_id"),
            func.max(ApprovalTask.decided_at).label("last_at"),
        )
        .where(ApprovalTask.decided_by_id == principal.user_id)
        .group_by(ApprovalTask.application_id)
        .subquery()
    )
    where = _filters(f)
    joined = (
        select(Application, mine.c.last_at)
        .join(mine, mine.c.application_id == Application.id)
        .options(lazyload(Application.definition))
    )
    total = session.scalar(
        select(func.count())
        .select_from(Application)
        .join(mine, mine.c.application_id == Application.id)
        .where(*where)
    )
    sorts = {
        **{k: v for k, v in PENDING_SORTS.items() if k != "due_date"},
        "decided_at": mine.c.last_at,
    }
    rows = session.execute(
        joined.where(*where)
        .order_by(*_order(sorts, page, "-decided_at"))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return rows, total or 0


def counts(
    session: Session, principal: Principal, *, today: date
) -> tuple[int, int, dict[str, int]]:
    """(total, overdue, per business type) of the steps waiting for ``principal``."""
    rows = session.execute(
        select(
            ApprovalTask.business_type,
            func.count(),
            func.sum(case((ApprovalTask.due_date < today, 1), else_=0)),
        )
        .where(mine_clause(session, principal))
        .group_by(ApprovalTask.business_type)
    ).all()
    by_type = {bt: int(n) for bt, n, _ in rows}
    return sum(by_type.values()), sum(int(o or 0) for _, _, o in rows), by_type
