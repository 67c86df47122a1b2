"""How the API shows users: to a viewer (``public_users`` for a page, ``public_user`` for one,
masked unless the viewer may see personal numbers), and to themselves (``me``, ``GET /me``,
asked at every desk start and refresh)."""

from collections import namedtuple
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.membership import ids_param, one_of
from server.db.models import Org, Role, User, UserApprovalRole, UserRole
from server.services.auth import token_check_with
from server.services.authz import Principal
from server.services.grants import HeldRole, Holding, accounts, is_locked, page_action_states
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


USER_COLUMNS = (
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
    Org.path.label("org_path"),
)
"""What ``row_fields`` shows of a user, as plain columns of the user's row and organisation
(select them with ``.join(Org, Org.id == User.org_id)``), and the organisation's path, which
``grants.accounts`` needs for the subtree of an own_subtree role."""

_USER_IDS = ids_param("user_ids")
_HELD_ROLES = (
    select(UserRole.user_id, Role.id, Role.name, Role.data_scope_kind, Role.builtin_key)
    .join(Role, Role.id == UserRole.role_id)
    .where(one_of(UserRole.user_id, _USER_IDS))
    .order_by(UserRole.user_id, Role.id)
)
_APPROVAL_PAIRS = select(
    UserApprovalRole.user_id, UserApprovalRole.business_type, UserApprovalRole.approval_role
).where(one_of(UserApprovalRole.user_id, _USER_IDS))
"""Built once, the page's ids a parameter: a reused statement keeps its SQLAlchemy cache key."""


def public_users(
    session: Session, rows: Sequence[Any], viewer: Principal, *, now: datetime
) -> list[dict[str, Any]]:
    """``UserPublic`` of each of ``rows`` (plain rows of ``USER_COLUMNS``), as the dicts the
    answer is validated from in one go. Personal numbers are masked unless the viewer may see
    them; ``allowed_actions`` says what the viewer may do to each account and why not
    (``grants.action_refusal``). Their roles and approval roles are read as plain rows, one
    query each for the whole page (as ORM objects a page of 50 users made hundreds of them,
    most of the page's cost). Run after the caller's changes are committed or flushed."""
    if not rows:
        return []
    connection = session.connection()
    ids = {"user_ids": [row.id for row in rows]}
    roles: dict[int, list[tuple[int, str, str, str | None]]] = {row.id: [] for row in rows}
    for user_id, *role in connection.execute(_HELD_ROLES, ids).all():
        roles[user_id].append(tuple(role))  # type: ignore[arg-type]
    found: dict[int, list[tuple[str, str]]] = {row.id: [] for row in rows}
    for user_id, business_type, approval_role in connection.execute(_APPROVAL_PAIRS, ids).all():
        found[user_id].append((business_type, approval_role))
    pairs = {user_id: tuple(sorted(held)) for user_id, held in found.items()}
    shown: dict[tuple[tuple[str, str], ...], dict[BusinessType, list[ApprovalRole]]] = {}
    for held in pairs.values():
        if held not in shown:  # a page's clerks hold a few combinations between them
            shown[held] = approval_roles_from(held)
    holdings = [
        Holding(
            user_id=row.id,
            org_id=row.org_id,
            org_path=row.org_path,
            enabled=row.enabled,
            locked_until=row.locked_until,
            roles=tuple(HeldRole(role_id, kind, key) for role_id, _, kind, key in roles[row.id]),
            approval_pairs=pairs[row.id],
        )
        for row in rows
    ]
    states = page_action_states(viewer, accounts(session, holdings, now=now))
    reveal = viewer.can("users:view_sensitive")
    return [
        {
            **row_fields(row, org_name=row.org_name, reveal=reveal, now=now),
            "roles": [{"id": role_id, "name": name} for role_id, name, _, _ in roles[row.id]],
            "approval_roles": shown[pairs[row.id]],
            "allowed_actions": states[row.id],
        }
        for row in rows
    ]


def public_user(session: Session, viewer: Principal, row: Any, *, now: datetime) -> UserPublic:
    """One user (a row of ``USER_COLUMNS``, ``users.get_user``) as ``public_users`` shows it."""
    return UserPublic.model_validate(public_users(session, [row], viewer, now=now)[0])


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


_ME_COLUMNS = (*USER_COLUMNS, Org.region_code.label("org_region_code"))
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
