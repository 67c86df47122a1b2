"""Who may see an application: its owning organisation inside the caller's data scope, or the
caller's own authority having a step of it (an approver always sees what reaches their inbox).

Offices (内设部门) act for the bureau above them, so a clerk in a city bureau's security division
works the city bureau's steps. Records outside what the caller may see answer 404.
"""

from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from server.db.approval_models import Application, ApprovalTask
from server.db.models import Org
from server.services.authz import Principal, Scope, authority_of
from server.services.errors import not_found


def authority_org_id(session: Session, org_id: int) -> int:
    """The organisation whose steps a member of ``org_id`` works: itself, or above an office."""
    org = session.get(Org, org_id)
    return org_id if org is None else authority_of(session, org).id


def principal_authority(session: Session, principal: Principal) -> int:
    if principal.authority_org_id is not None:
        return principal.authority_org_id
    return authority_org_id(session, principal.org_id)


def visibility(
    scope: Scope, authority: int, applications: Any = Application
) -> ColumnElement[bool]:
    """Applications owned inside ``scope`` or with a step routed to ``authority``, as a clause
    on ``applications``: the mapped class, or the table's columns (``table.c``) for Core."""
    routed_here = exists(
        select(ApprovalTask.id).where(
            ApprovalTask.application_id == applications.id,
            ApprovalTask.acting_org_id == authority,
        )
    )
    return or_(scope.clause(applications.org_id), routed_here)


def visible_clause(session: Session, principal: Principal) -> ColumnElement[bool]:
    return visibility(principal.scope, principal_authority(session, principal))


@lru_cache(maxsize=1024)
def _visible_application(scope: Scope, authority: int) -> Select[Application]:
    """The statement for one application as seen with ``scope`` from ``authority``, built once
    per such pair and reused with a new id: building a statement and its cache key costs more
    than the database takes to answer it, and every action on an application starts here."""
    return select(Application).where(
        Application.id == bindparam("application_id"), visibility(scope, authority)
    )


def get_application(session: Session, principal: Principal, application_id: int) -> Application:
    stmt = _visible_application(principal.scope, principal_authority(session, principal))
    application = session.scalar(stmt, {"application_id": application_id})
    if application is None:
        raise not_found("application")
    return application


def sees_full_identity(principal: Principal) -> bool:
    """Approvers check identities against the scanned documents, so they see ID numbers and
    mobiles of an application's people in full; others only with the sensitive-data grant."""
    return principal.can("applications:approve") or principal.can("users:view_sensitive")
