"""Where a step goes: the bureau of the applicant's jurisdiction at the step's authority level,
and within it every user holding the step's business approval role (DOMAIN.md §4)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import ApprovalTask
from server.db.models import Org, User, UserApprovalRole
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


def find_bureau(session: Session, region_code: str, level: AuthorityLevel) -> Org | None:
    return session.scalar(
        select(Org)
        .where(Org.type == BUREAU_OF_LEVEL[level], Org.region_code == region_at(region_code, level))
        .order_by(Org.id)
        .limit(1)
    )


def acting_org(session: Session, region_code: str, level: AuthorityLevel) -> Org:
    org = find_bureau(session, region_code, level)
    if org is None:
        raise AppError(
            ErrorCode.ROUTING_NO_ORG,
            details={"level": str(level), "level_label": level.label, "region_code": region_code},
        )
    return org


def owner_org(session: Session, region_code: str) -> Org:
    """The organisation an application belongs to for data scope: the lowest bureau there is."""
    for level in (AuthorityLevel.county, AuthorityLevel.city, AuthorityLevel.province):
        org = find_bureau(session, region_code, level)
        if org is not None:
            return org
    raise AppError(ErrorCode.ROUTING_NO_ORG, details={"region_code": region_code})


def authority_members(session: Session, org_id: int) -> list[int]:
    """Organisation ids whose users work ``org_id``'s steps: itself and its offices."""
    org = session.get(Org, org_id)
    if org is None:
        return []
    offices = session.scalars(
        select(Org.id).where(Org.path.startswith(org.path), Org.type == OrgType.office)
    ).all()
    return [org_id, *(o for o in offices if authority_org_id(session, o) == org_id)]


def candidates(
    session: Session, task: ApprovalTask, *, ignore_assignee: bool = False
) -> list[User]:
    """Everyone who may act on ``task`` now (the assignee alone once the step is assigned), or
    with ``ignore_assignee`` everyone it may be assigned to. The query narrows the bureau's
    users down; ``may_act`` decides, so the list and the actions never disagree."""
    stmt = (
        select(User)
        .join(UserApprovalRole, UserApprovalRole.user_id == User.id)
        .where(
            User.enabled.is_(True),
            User.org_id.in_(authority_members(session, task.acting_org_id)),
            UserApprovalRole.business_type == task.business_type,
            UserApprovalRole.approval_role == task.approval_role,
        )
        .order_by(User.name, User.id)
    )
    if task.assignee_id is not None and not ignore_assignee:
        stmt = stmt.where(User.id == task.assignee_id)
    users = session.scalars(stmt).unique()
    return [u for u in users if may_act(session, u, task, ignore_assignee=ignore_assignee)]


def may_act(
    session: Session, user: User, task: ApprovalTask, *, ignore_assignee: bool = False
) -> bool:
    """Whether ``user`` works ``task``'s step: an enabled account of the step's bureau (or of
    one of its offices) holding the step's approval role and the permission that role
    exercises, the step not assigned to someone else. ``ignore_assignee`` asks whether they
    could, were it theirs: whom a step may be assigned to, and whom it stays with.

    The one rule behind the pending-approver list, acting, assigning and releasing."""
    if not user.enabled:
        return False
    if not ignore_assignee and task.assignee_id not in (None, user.id):
        return False
    if authority_org_id(session, user.org_id) != task.acting_org_id:
        return False
    pair = (task.business_type, task.approval_role)
    if not any((r.business_type, r.approval_role) == pair for r in user.approval_role_rows):
        return False
    held = {p for row in user.role_rows for p in row.role.permissions}
    return approval_role_permissions([pair]) <= held
