"""Where a step goes: the bureau of the applicant's jurisdiction at the step's authority level,
and within it every user holding the step's business approval role (docs/glossary.md: The
approval flow)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Label, Table, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from server.db.approval_models import ApprovalTask
from server.db.collation import chinese
from server.db.models import Org, RolePermission, User, UserApprovalRole, UserRole
from server.services.approvals.access import authority_org_id
from server.services.errors import AppError
from shared.approvals import AuthorityLevel
from shared.enums import OrgType
from shared.errors import ErrorCode
from shared.permissions import approval_role_permissions

BUREAU_OF_LEVEL = {
    AuthorityLevel.county: OrgType.county_bureau,
    AuthorityLevel.city: OrgType.city_bureau,
    AuthorityLevel.province: OrgType.province_department,
}


def region_at(region_code: str, level: AuthorityLevel) -> str:
    """The applicant's region code at ``level``: 330106 → 330100 (city), 330000 (province)."""
    if level == AuthorityLevel.province:
        return region_code[:2] + "0000"
    if level == AuthorityLevel.city:
        return region_code[:4] + "00"
    return region_code


def region_at_sql(region_code: ColumnElement[str], level: AuthorityLevel) -> ColumnElement[str]:
    """``region_at`` as SQL over a region-code column (both engines have ``substr`` and
    ``||``), for queries that route in the database."""
    if level == AuthorityLevel.province:
        return func.substr(region_code, 1, 2) + "0000"
    if level == AuthorityLevel.city:
        return func.substr(region_code, 1, 4) + "00"
    return region_code


_ORGS = cast(Table, Org.__table__)
_BUREAUS = (
    select(_ORGS.c.id, _ORGS.c.type, _ORGS.c.region_code)
    .where(_ORGS.c.region_code.in_(bindparam("regions", expanding=True)))
    .where(_ORGS.c.type.in_([str(t) for t in BUREAU_OF_LEVEL.values()]))
    .order_by(_ORGS.c.id)
)
"""Core, on the session's connection: reading the organisation tree (changed only by the
organisation services, which flush) needs no flush of the caller's pending changes."""


def bureaus(session: Session, region_code: str) -> dict[AuthorityLevel, int]:
    """The bureau at each level that has one for ``region_code`` (the lowest id where several
    match), all levels in one query: what intake checks up front and a step opens with."""
    wanted = {(str(BUREAU_OF_LEVEL[lv]), region_at(region_code, lv)): lv for lv in AuthorityLevel}
    regions = sorted({region for _, region in wanted})
    found: dict[AuthorityLevel, int] = {}
    for org_id, org_type, org_region in session.connection().execute(
        _BUREAUS, {"regions": regions}
    ):
        level = wanted.get((org_type, org_region))
        if level is not None:
            found.setdefault(level, org_id)
    return found


def bureau_columns(region_code: ColumnElement[str]) -> list[Label[int]]:
    """``bureaus`` as three columns (county, city, province, in ``AuthorityLevel`` order) of a
    query that has ``region_code`` in its FROM: the lowest id of the bureau at each level, or
    NULL. An action reads them with the application it claims, instead of asking ``bureaus``
    again when it opens the next step."""
    columns = []
    for level in AuthorityLevel:
        org = _ORGS.alias(f"bureau_{level.value}")  # never correlated with an outer ``orgs``
        found = (
            select(org.c.id)
            .where(
                org.c.type == str(BUREAU_OF_LEVEL[level]),
                org.c.region_code == region_at_sql(region_code, level),
            )
            .order_by(org.c.id)
            .limit(1)
        )
        columns.append(found.scalar_subquery().label(f"bureau_{level.value}"))
    return columns


def bureaus_of_row(values: Sequence[int | None]) -> dict[AuthorityLevel, int]:
    """The values of ``bureau_columns`` as ``bureaus`` answers them."""
    return {
        level: org_id
        for level, org_id in zip(AuthorityLevel, values, strict=True)
        if org_id is not None
    }


def find_bureau(session: Session, region_code: str, level: AuthorityLevel) -> int | None:
    return bureaus(session, region_code).get(level)


def routed(found: dict[AuthorityLevel, int], region_code: str, level: AuthorityLevel) -> int:
    """The id of the bureau among ``found`` (see ``bureaus``) that works a ``level`` step, or
    ROUTING_NO_ORG."""
    org_id = found.get(level)
    if org_id is None:
        raise AppError(
            ErrorCode.ROUTING_NO_ORG,
            details={"level": str(level), "level_label": level.label, "region_code": region_code},
        )
    return org_id


def acting_org(session: Session, region_code: str, level: AuthorityLevel) -> int:
    """The id of the bureau that works a ``level`` step for ``region_code``."""
    return routed(bureaus(session, region_code), region_code, level)


def owner_org(found: dict[AuthorityLevel, int], region_code: str) -> int:
    """The organisation an application belongs to for data scope: the lowest bureau there is
    among ``found`` (see ``bureaus``)."""
    for level in (AuthorityLevel.county, AuthorityLevel.city, AuthorityLevel.province):
        if level in found:
            return found[level]
    raise AppError(ErrorCode.ROUTING_NO_ORG, details={"region_code": region_code})


def candidates(
    session: Session, task: ApprovalTask, *, ignore_assignee: bool = False
) -> list[User]:
    """Everyone who may act on ``task`` now (the assignee alone once the step is assigned), or
    with ``ignore_assignee`` everyone it may be assigned to, as accounts (see
    ``candidate_standings``)."""
    ids = [
        candidate.standing.user_id
        for candidate in candidate_standings(session, task, ignore_assignee=ignore_assignee)
    ]
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    return [users[i] for i in ids]


@dataclass(frozen=True)
class Candidate:
    standing: "Standing"
    org_id: int
    org_name: str


def candidate_standings(
    session: Session, task: ApprovalTask, *, ignore_assignee: bool = False
) -> list[Candidate]:
    """The standing and organisation of everyone ``candidates`` names, by name in pinyin
    order, in one query: the users of the step's bureau and of the offices under it holding
    the step's approval role, each with the standing ``allowed`` decides on, so the list and
    the actions never disagree (an office under a lower bureau works for that bureau:
    ``allowed`` leaves its users out)."""
    params = {
        "task_id": task.id,
        "acting_org_id": task.acting_org_id,
        "business_type": task.business_type,
        "approval_role": task.approval_role,
    }
    statement = _CANDIDATES
    if task.assignee_id is not None and not ignore_assignee:
        statement, params = _ASSIGNED, {**params, "assignee_id": task.assignee_id}
    found: list[Candidate] = []
    for row in session.execute(statement, params).all():
        standing = standing_of(session, row[:-1], task)
        if standing is not None and allowed(standing, task, ignore_assignee=ignore_assignee):
            found.append(Candidate(standing, row.org_id, row.org_name))
    return found


@dataclass(frozen=True)
class Standing:
    """What ``may_act`` weighs about one user for one step, however it was read."""

    user_id: int
    name: str
    enabled: bool
    authority_org_id: int  # the bureau whose steps the user works (above an office)
    holds_role: bool  # the step's (business type, approval role)
    holds_permissions: bool  # every permission that approval role exercises


def allowed(standing: Standing, task: ApprovalTask, *, ignore_assignee: bool = False) -> bool:
    """The one rule behind the pending-approver list, acting, assigning and releasing: an
    enabled account of the step's bureau (or of one of its offices) holding the step's
    approval role and the permission that role exercises, the step not assigned to someone
    else. ``ignore_assignee`` asks whether they could, were it theirs: whom a step may be
    assigned to, and whom it stays with."""
    if not standing.enabled:
        return False
    if not ignore_assignee and task.assignee_id not in (None, standing.user_id):
        return False
    return (
        standing.authority_org_id == task.acting_org_id
        and standing.holds_role
        and standing.holds_permissions
    )


def may_act(
    session: Session, user: User, task: ApprovalTask, *, ignore_assignee: bool = False
) -> bool:
    """Whether ``user`` (loaded, with their roles) works ``task``'s step (see ``allowed``)."""
    pair = (task.business_type, task.approval_role)
    held = {p for row in user.role_rows for p in row.role.permissions}
    standing = Standing(
        user_id=user.id,
        name=user.name,
        enabled=user.enabled,
        authority_org_id=authority_org_id(session, user.org_id),
        holds_role=any((r.business_type, r.approval_role) == pair for r in user.approval_role_rows),
        holds_permissions=approval_role_permissions([pair]) <= held,
    )
    return allowed(standing, task, ignore_assignee=ignore_assignee)


# What any approval role exercises (``applications:approve``): held or not, each one is a column,
# and ``Standing.holds_permissions`` compares the step's own with them.
EXERCISED = sorted(approval_role_permissions([("*", "*")]))
STANDING_COLUMNS = (
    User.id,
    User.name,
    User.enabled,
    User.org_id,
    Org.type,
    exists()
    .where(
        UserApprovalRole.user_id == User.id,
        UserApprovalRole.business_type == ApprovalTask.business_type,
        UserApprovalRole.approval_role == ApprovalTask.approval_role,
    )
    .label("holds_role"),
    *(
        exists()
        .where(
            UserRole.user_id == User.id,
            RolePermission.role_id == UserRole.role_id,
            RolePermission.permission == permission,
        )
        .label(f"holds_permission_{n}")
        for n, permission in enumerate(EXERCISED)
    ),
)
"""A user's standing for a step, as columns of a query that has ``users`` joined to its
``orgs`` and ``approval_tasks`` in its FROM: ``candidate_standings`` reads them for the
bureau's users, an action's claim (``actions.claim``) for the caller, together with the
application and its step."""

_ACTING = aliased(Org)
_ACTING_PATH = select(_ACTING.path).where(_ACTING.id == bindparam("acting_org_id"))
_CANDIDATES = (
    select(*STANDING_COLUMNS, Org.name.label("org_name"))
    .select_from(User)
    .join(Org, Org.id == User.org_id)
    .join(ApprovalTask, ApprovalTask.id == bindparam("task_id"))
    .where(
        User.enabled.is_(True),
        or_(
            User.org_id == bindparam("acting_org_id"),
            and_(Org.type == OrgType.office, Org.path.startswith(_ACTING_PATH.scalar_subquery())),
        ),
        exists().where(
            UserApprovalRole.user_id == User.id,
            UserApprovalRole.business_type == bindparam("business_type"),
            UserApprovalRole.approval_role == bindparam("approval_role"),
        ),
    )
    .order_by(chinese(User.name), User.id)
)
_ASSIGNED = _CANDIDATES.where(User.id == bindparam("assignee_id"))
"""Built once, the step's values parameters: a statement built per request, with its cache key,
cost more than the database takes to answer it."""


def standing_of(session: Session, row: Sequence[Any], task: ApprovalTask) -> Standing | None:
    """The standing in ``row``, the values of ``STANDING_COLUMNS`` for ``task`` (None: the
    user does not exist)."""
    uid, name, enabled, org_id, org_type, holds_role, *held_flags = row
    if uid is None:
        return None
    held = {p for p, flag in zip(EXERCISED, held_flags, strict=True) if flag}
    needed = approval_role_permissions([(task.business_type, task.approval_role)])
    authority = org_id if org_type != OrgType.office else authority_org_id(session, org_id)
    return Standing(
        user_id=uid,
        name=name,
        enabled=bool(enabled),
        authority_org_id=authority,
        holds_role=bool(holds_role),
        holds_permissions=needed <= held,
    )
