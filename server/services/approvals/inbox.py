"""The inbox (待办事项 / 通用审批): steps waiting for me, applications I have acted on, counts.

A pending step is mine when it is routed to my authority (my bureau, or the bureau above my
office), its business type and approval role are among my business approval roles, and it is
not assigned to someone else. Everything is filtered, sorted and paged in the database.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from server.db.approval_models import Application, ApprovalTask
from server.db.collation import chinese
from server.services import search
from server.services.approvals.access import principal_authority
from server.services.approvals.tasks import PENDING
from server.services.authz import Principal
from server.services.paging import PageRequest
from shared.approvals import ApplicationStatus
from shared.china_time import day_start
from shared.enums import BusinessType
from shared.permissions import approval_role_permissions


@dataclass(frozen=True)
class InboxFilter:
    business_type: BusinessType | None = None
    status: ApplicationStatus | None = None
    date_from: date | None = None
    date_to: date | None = None
    applicant: str | None = None
    overdue: bool | None = None


@dataclass(frozen=True)
class Mine:
    """What "waiting for me" depends on: the caller's authority, (business type, role) pairs and
    user id. Statements are built once per ``Mine`` and reused: building a statement and its
    SQLAlchemy cache key costs more than PostgreSQL takes to answer it, and the inbox is the
    most requested page of the system."""

    authority: int
    pairs: frozenset[tuple[str, str]]
    user_id: int


def mine_of(session: Session, principal: Principal) -> Mine:
    """Approval roles count only with the permission they exercise (``routing.may_act``)."""
    authority = principal_authority(session, principal)
    pairs = principal.approval_pairs
    if not approval_role_permissions(pairs) <= principal.permissions:
        pairs = frozenset()
    return Mine(authority, pairs, principal.user_id)


def _mine_clause(mine: Mine) -> ColumnElement[bool]:
    """Pending steps of the caller's bureau whose (business type, role) the caller holds, not
    assigned to someone else. Pairs are grouped by role (``role = r AND type IN (...)``): a
    short expression the task index serves, instead of one OR branch per pair."""
    types_by_role: dict[str, list[str]] = defaultdict(list)
    for business_type, role in sorted(mine.pairs):
        types_by_role[role].append(business_type)
    if not types_by_role:
        return false()
    return and_(
        ApprovalTask.status == PENDING,
        ApprovalTask.acting_org_id == mine.authority,
        or_(
            *(
                and_(
                    ApprovalTask.approval_role == role, ApprovalTask.business_type.in_(_each(types))
                )
                for role, types in types_by_role.items()
            )
        ),
        or_(ApprovalTask.assignee_id.is_(None), ApprovalTask.assignee_id == mine.user_id),
    )


def _each(values: list[str]) -> list[ColumnElement[str]]:
    """One bound parameter per value: ``IN (?, ?, ...)`` is rendered once with the statement,
    where a list would be an expanding parameter, re-rendered into the SQL at every
    execution."""
    return [literal(value, String) for value in values]


def _filters(f: InboxFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.business_type is not None:
        clauses.append(Application.business_type == f.business_type)
    if f.status is not None:
        clauses.append(Application.status == f.status)
    if f.date_from is not None:
        clauses.append(Application.submitted_at >= day_start(f.date_from))
    if f.date_to is not None:
        clauses.append(Application.submitted_at < day_start(f.date_to + timedelta(days=1)))
    if f.applicant:
        needle = f.applicant.strip()
        clauses.append(
            or_(
                search.contains(Application.applicant_name, needle),
                search.contains(Application.applicant_code, needle.upper()),
                search.contains(Application.number, needle.upper()),
            )
        )
    return clauses


def _sort_key(columns: dict[str, Any], sort: str | None, default: str) -> tuple[str, bool]:
    """The column name a list is sorted on and whether descending: ``sort`` ("-name" for
    descending) when it names one of ``columns``, else ``default``."""
    key = sort or default
    if key.lstrip("-") not in columns:
        key = default
    return key.lstrip("-"), key.startswith("-")


def _order(columns: dict[str, Any], page: PageRequest, default: str) -> list[Any]:
    name, descending = _sort_key(columns, page.sort, default)
    column = columns[name]
    return [column.desc() if descending else column.asc(), Application.id.desc()]


PENDING_SORTS = {
    "submitted_at": Application.submitted_at,
    "due_date": ApprovalTask.due_date,
    "number": Application.number,
    "business_type": Application.business_type,
    "applicant_name": chinese(Application.applicant_name),
    "started_at": ApprovalTask.started_at,
}


APPLICATION_LINE: tuple[Any, ...] = (
    Application.id,
    Application.number,
    Application.business_type,
    Application.applicant_name,
    Application.status,
    Application.round,
    Application.submitted_at,
    Application.version,
)
STEP_LINE: tuple[Any, ...] = (
    ApprovalTask.id.label("task_id"),
    ApprovalTask.step_name,
    ApprovalTask.due_date,
    ApprovalTask.status.label("task_status"),
)
PENDING_LINE: tuple[Any, ...] = (*STEP_LINE, *APPLICATION_LINE)
"""What an inbox line shows (``views.pending_rows``), as plain labelled columns."""


TODAY = bindparam("today", type_=Date)
LIMIT = bindparam("limit", type_=Integer)
OFFSET = bindparam("offset", type_=Integer)
TOTAL = func.count().over().label("total")


STEP_SORTS = {"due_date": ApprovalTask.due_date, "started_at": ApprovalTask.started_at}
"""The sorts of ``PENDING_SORTS`` on a step's own columns: a page in such an order is found
among the steps alone (``_steps_first``)."""


@lru_cache(maxsize=512)
def _pending_statement(
    mine: Mine, f: InboxFilter, sort: str | None, with_counts: bool = False
) -> Select[Any]:
    """One page of my pending steps with the total of all of them (a window count: one round
    trip instead of two) and, ``with_counts`` (PostgreSQL), the badge counts too
    (``_counts_column``: one more round trip saved, on the inbox's own request). Today, limit
    and offset are parameters, so a clerk paging through the same list reuses one statement.
    Without a filter or sort on the applications (the inbox as it opens), the page is chosen
    among the steps first (``_steps_first``)."""
    steps_first = _steps_first(mine, f, sort, with_counts)
    if steps_first is not None:
        return steps_first
    where = [_mine_clause(mine), *_filters(f), *_overdue(f)]
    line = (*PENDING_LINE, TOTAL, _counts_column(mine)) if with_counts else (*PENDING_LINE, TOTAL)
    return (
        select(*line)
        .join(Application, Application.id == ApprovalTask.application_id)
        .where(*where)
        .order_by(*_order(PENDING_SORTS, PageRequest(sort=sort), "due_date"))
        .limit(LIMIT)
        .offset(OFFSET)
    )


def _overdue(f: InboxFilter) -> list[ColumnElement[bool]]:
    if f.overdue is True:
        return [ApprovalTask.due_date < TODAY]
    if f.overdue is False:
        return [ApprovalTask.due_date >= TODAY]
    return []


def _steps_first(
    mine: Mine, f: InboxFilter, sort: str | None, with_counts: bool
) -> Select[Any] | None:
    """The page when neither a filter nor the sort looks at the applications: the page's steps
    and the total are found among the steps (the task index and rows), and only the page's
    applications are read after, by key. Joining first reads the application row of every
    pending step, a wide row (its form) for each, to keep fifty: the more steps wait, the more
    that costs. Same lines in the same order: applications are ordered by id, which is the
    step's ``application_id``. None when the page needs the join first (``_pending_statement``).
    """
    name, descending = _sort_key(PENDING_SORTS, sort, "due_date")
    if name not in STEP_SORTS or _filters(f):
        return None
    column = STEP_SORTS[name]
    steps = (
        select(*STEP_LINE, ApprovalTask.application_id, column.label("sort_key"), TOTAL)
        .where(_mine_clause(mine), *_overdue(f))
        .order_by(
            column.desc() if descending else column.asc(),
            ApprovalTask.application_id.desc(),
        )
        .limit(LIMIT)
        .offset(OFFSET)
        .subquery("steps")
    )
    s = steps.c
    line = (
        *(s[c.key] for c in STEP_LINE),
        *APPLICATION_LINE,
        s.total,
        *((_counts_column(mine),) if with_counts else ()),
    )
    return (
        select(*line)
        .join_from(steps, Application, Application.id == s.application_id)
        .order_by(
            s.sort_key.desc() if descending else s.sort_key.asc(),
            s.application_id.desc(),
        )
    )


Tally = tuple[int, int, dict[str, int]]
"""(total, overdue, steps per business type) of the steps waiting for me."""


def list_pending(
    session: Session,
    principal: Principal,
    f: InboxFilter,
    page: PageRequest,
    *,
    today: date,
    with_counts: bool = False,
) -> tuple[Sequence[Any], int, Tally | None]:
    """Lines (``PENDING_LINE`` and the total) waiting for ``principal``: plain rows of just the
    columns an inbox line shows, read on the session's connection past the ORM's statement and
    result handling (no entities, nothing for the ORM to do); ``with_counts``, the ``counts``
    too: on PostgreSQL in the same statement, a round trip fewer, when the page has a line to
    carry them (SQLite has no round trip to save: there each line would only carry them for
    nothing)."""
    mine = mine_of(session, principal)
    connection = session.connection()
    carried = with_counts and connection.dialect.name == "postgresql"
    statement = _pending_statement(mine, f, page.sort, carried)
    params = {"today": today, "limit": page.limit, "offset": page.offset}
    rows = connection.execute(statement, params).all()
    if rows and carried:
        return rows, rows[0].total, _tally(json.loads(rows[0].counts).items())
    tally = _counts_of(session, mine, today) if with_counts else None
    if rows:
        return rows, rows[0].total, tally
    if page.offset == 0:
        return rows, 0, tally
    past_the_end = connection.execute(statement, {**params, "limit": 1, "offset": 0}).first()
    return rows, past_the_end.total if past_the_end else 0, tally


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


@lru_cache(maxsize=512)
def _counts_statement(mine: Mine) -> Select[str, int, Any]:
    return (
        select(
            ApprovalTask.business_type.label("business_type"),
            func.count().label("steps"),
            func.sum(case((ApprovalTask.due_date < TODAY, 1), else_=0)).label("overdue"),
        )
        .where(_mine_clause(mine))
        .group_by(ApprovalTask.business_type)
    )


class _PerType(FunctionElement[str]):
    """Rows of (business type, steps, overdue) aggregated into the text of one JSON object of
    business type → [steps, overdue] (PostgreSQL's ``json_object_agg``). Text, not JSON: every
    line of the page carries it, and only the first one's is parsed."""

    type = Text()
    inherit_cache = True


@compiles(_PerType, "postgresql")
def _per_type_postgresql(element: _PerType, compiler: Any, **kw: Any) -> str:
    key, steps, overdue = (compiler.process(c, **kw) for c in element.clauses)
    return f"json_object_agg({key}, json_build_array({steps}, {overdue}))::text"


def _counts_column(mine: Mine) -> Any:
    """``counts`` as one column of the page's statement (PostgreSQL): an uncorrelated
    subquery, computed once, carried on every line."""
    per_type = _counts_statement(mine).subquery()
    return (
        select(_PerType(per_type.c.business_type, per_type.c.steps, per_type.c.overdue))
        .scalar_subquery()
        .label("counts")
    )


def _tally(per_type: Iterable[tuple[str, Sequence[Any]]]) -> Tally:
    """The badge counts from (business type, (steps, overdue)) pairs, in business-type order."""
    pairs = sorted(per_type)
    by_type = {bt: int(steps) for bt, (steps, _) in pairs}
    overdue = sum(int(late or 0) for _, (_, late) in pairs)
    return sum(by_type.values()), overdue, by_type


def _counts_of(session: Session, mine: Mine, today: date) -> Tally:
    rows = session.connection().execute(_counts_statement(mine), {"today": today}).all()
    return _tally((bt, (steps, late)) for bt, steps, late in rows)


def counts(session: Session, principal: Principal, *, today: date) -> Tally:
    """(total, overdue, per business type) of the steps waiting for ``principal``."""
    return _counts_of(session, mine_of(session, principal), today)
