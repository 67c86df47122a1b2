"""How the API shows users: to a viewer (``to_public``, masked unless the viewer may see
personal numbers), a page of them at once (``to_public_page``), and to themselves (``me``,
``GET /me``, asked at every desk start and refresh)."""

from collections import namedtuple
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Org, User, UserApprovalRole
from server.services.auth import token_check_with
from server.services.authz import Principal
from server.services.grants import Account, account_of, accounts, action_states, is_locked
from shared.enums import ApprovalRole, BusinessType
from shared.masking import mask_id_number, mask_mobile
from shared.schemas.users import EffectiveScope, Me, RoleRef, UserPublic


def approval_roles_of(user: User) -> dict[BusinessType, list[ApprovalRole]]:
    return approval_roles_from(
        (row.business_type, row.approval_role) for row in user.approval_role_rows
    )


def approval_roles_from(pairs: Iterable[tuple[str, str]]) -> dict[BusinessType, list[ApprovalRole]]:
    """(business type, approval role) pairs as the API shows them, in a stable order."""
    result: dict[BusinessType, list[ApprovalRole]] = {}
    for business_type, approval_role in sorted(pairs):
        result.setdefault(BusinessType(business_type), []).append(ApprovalRole(approval_role))
    return result


def to_public(
    session: Session,
    user: User,
    viewer: Principal,
    *,
    now: datetime,
    approval_pairs: Iterable[tuple[str, str]] | None = None,
    account: Account | None = None,
) -> UserPublic:
    """Personal numbers are masked unless the viewer may see them; with what the viewer may do
    to the account and why not (``grants.action_refusal``). The approval roles come from
    ``approval_pairs``, the account from ``account``, when the caller has read them already."""
    reveal = viewer.can("users:view_sensitive")
    if account is None:
        account = account_of(session, user, now=now)
    return UserPublic(
        **row_fields(user, org_name=user.org.name, reveal=reveal, now=now),
        roles=[RoleRef(id=r.role.id, name=r.role.name) for r in user.role_rows],
        approval_roles=approval_roles_of(user)
        if approval_pairs is None
        else approval_roles_from(approval_pairs),
        allowed_actions=action_states(viewer, account),
    )


def to_public_page(
    session: Session, found: Sequence[User], viewer: Principal, *, now: datetime
) -> list[UserPublic]:
    """``to_public`` for a page of users (loaded with ``users.PAGE_VIEW``). Their approval roles are
    read as plain rows, in one query: a clerk has one per business type, and as ORM objects a
    page of 50 users made hundreds of them, most of the page's cost."""
    pairs: dict[int, list[tuple[str, str]]] = {user.id: [] for user in found}
    if pairs:
        rows = session.execute(
            select(
                UserApprovalRole.user_id,
                UserApprovalRole.business_type,
                UserApprovalRole.approval_role,
            ).where(UserApprovalRole.user_id.in_(pairs))
        )
        for user_id, business_type, approval_role in rows:
            pairs[user_id].append((business_type, approval_role))
    held = accounts(session, found, now=now, approval_pairs=pairs)
    return [
        to_public(
            session, user, viewer, now=now, approval_pairs=pairs[user.id], account=held[user.id]
        )
        for user in found
    ]


def row_fields(user: Any, *, org_name: str, reveal: bool, now: datetime) -> dict[str, Any]:
    """What the API shows of a user that is kept in the user's own row, from a ``User`` or a
    row with the same column names (``locked`` as it stands at ``now``)."""
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "org_id": user.org_id,
        "org_name": org_name,
        "is_police": user.is_police,
        "police_number": user.police_number,
        "id_number": user.id_number if reveal else mask_id_number(user.id_number),
        "mobile": user.mobile if reveal else mask_mobile(user.mobile),
        "enabled": user.enabled,
        "locked_until": user.locked_until,
        "locked": is_locked(user.locked_until, now),
        "must_change_password": user.must_change_password,
        "login_count": user.login_count,
        "last_login_at": user.last_login_at,
        "version": user.version,
        "created_at": user.created_at,
    }


_ME_COLUMNS = (
    User.id,
    User.username,
    User.name,
    User.org_id,
    User.is_police,
    User.police_number,
    User.id_number,
    User.mobile,
    User.enabled,
    User.locked_until.label("locked_until"),
    User.must_change_password,
    User.login_count,
    User.last_login_at,
    User.version,
    User.created_at,
    Org.name.label("org_name"),
    Org.region_code.label("org_region_code"),
)
ME_TOKEN_CHECK = token_check_with(*_ME_COLUMNS, org=True)
"""``GET /me``'s token check, reading the user's own row and organisation with the token: one
query for the whole request. Plain columns, no ORM objects and no role collections; built once
(a reused statement keeps its SQLAlchemy cache key)."""
_MeRow = namedtuple("_MeRow", [column.key for column in _ME_COLUMNS])  # type: ignore[misc]


def me(principal: Principal, also: tuple[Any, ...], *, now: datetime) -> Me:
    """Everything about access (roles, approval roles, permissions, scope) is in the principal,
    which is cached while the access epoch stands; the rest is the user's row and organisation,
    ``also`` as ``ME_TOKEN_CHECK`` read them."""
    row: Any = _MeRow(*also)
    return Me(
        **row_fields(row, org_name=row.org_name, reveal=True, now=now),
        org_region_code=row.org_region_code,
        roles=[RoleRef(id=role_id, name=name) for role_id, name in principal.roles],
        approval_roles=approval_roles_from(principal.approval_pairs),
        permissions=sorted(principal.permissions),
        scope=EffectiveScope(
            all=principal.scope.all,
            org_ids=sorted(principal.scope.org_ids),
            kinds=sorted(principal.scope_kinds),
        ),
    )
