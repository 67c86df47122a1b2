"""Users (用户): accounts of police staff, their roles and business approval roles."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.db.collation import chinese
from server.db.models import Org, Role, User, UserApprovalRole, UserRole
from server.services import audit, search, signin_guard
from server.services.approvals import dispatch
from server.services.auth import revoke_user_tokens
from server.services.authz import Principal, scope_of_roles
from server.services.builtin_roles import ensure_an_administrator_remains, is_administrator
from server.services.errors import AppError, check_version, not_found
from server.services.grants import PERMISSION_OF, account_of, ensure_can_grant, ensure_may
from server.services.paging import PageRequest, fetch_rows, order_by
from server.services.passwords import Passwords, one_time_password
from server.services.roles import usable
from server.services.user_views import USER_COLUMNS, approval_roles_of
from shared.audit_actions import AuditAction, AuditEntity
from shared.enums import ApprovalRole, BusinessType
from shared.errors import ErrorCode
from shared.masking import mask_id_number, mask_mobile
from shared.schemas.users import (
    UserAction,
    UserCreate,
    UserUpdate,
)

_SORTS = {
    "username": User.username,
    "name": chinese(User.name),
    "id": User.id,
    "last_login_at": User.last_login_at,
    "created_at": User.created_at,
    "login_count": User.login_count,
}


def snapshot(user: User) -> dict[str, Any]:
    """What the audit log keeps of a user: never the password hash, ID number masked."""
    return {
        "username": user.username,
        "name": user.name,
        "org_id": user.org_id,
        "is_police": user.is_police,
        "police_number": user.police_number,
        "id_number": mask_id_number(user.id_number),
        "mobile": mask_mobile(user.mobile),
        "enabled": user.enabled,
        "role_ids": sorted(row.role_id for row in user.role_rows),
        "approval_roles": {
            k.value: [r.value for r in v] for k, v in approval_roles_of(user).items()
        },
    }


def _visible(session: Session, principal: Principal, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not principal.scope.contains(user.org_id):
        raise not_found("user")
    return user


def get_user(session: Session, principal: Principal, user_id: int) -> Any:
    """A user in the principal's scope as a plain row of ``user_views.USER_COLUMNS``."""
    row = (
        session.connection()
        .execute(select(*USER_COLUMNS).join(Org, Org.id == User.org_id).where(User.id == user_id))
        .first()
    )
    if row is None or not principal.scope.contains(row.org_id):
        raise not_found("user")
    return row


def list_users(
    session: Session,
    principal: Principal,
    *,
    org_id: int | None = None,
    include_subtree: bool = False,
    q: str | None = None,
    enabled: bool | None = None,
    page: PageRequest,
) -> tuple[Sequence[Any], int]:
    """A page of users in the principal's scope as plain rows of ``user_views.USER_COLUMNS``
    (for ``user_views.public_users``), and the total."""
    stmt = (
        select(*USER_COLUMNS)
        .join(Org, Org.id == User.org_id)
        .where(principal.scope.clause(User.org_id))
    )
    if org_id is not None:
        if include_subtree:
            path = session.scalar(select(Org.path).where(Org.id == org_id)) or "/none/"
            stmt = stmt.where(Org.path.startswith(path))
        else:
            stmt = stmt.where(User.org_id == org_id)
    if q:
        needle = q.strip()
        stmt = stmt.where(
            or_(
                search.contains(User.name, needle),
                search.contains(User.username, needle.lower()),
                search.contains(User.police_number, needle),
            )
        )
    if enabled is not None:
        stmt = stmt.where(User.enabled == enabled)
    # then by id: users alike in the chosen order (never signed in) keep one order, page by page
    return fetch_rows(session, order_by(stmt, page, _SORTS, "id").order_by(User.id), page)


def _roles_for(session: Session, principal: Principal, role_ids: list[int], org: Org) -> list[Role]:
    """Roles the principal may see, defined at the user's organisation or one above it."""
    roles = list(session.scalars(select(Role).where(Role.id.in_(role_ids))))
    if len(roles) != len(set(role_ids)) or not all(usable(principal, r) for r in roles):
        raise not_found("role")
    ancestors = set(org.lineage_ids)
    strangers = [r.name for r in roles if r.org_id not in ancestors]
    if strangers:
        raise AppError(ErrorCode.ROLE_NOT_APPLICABLE, details={"roles": strangers})
    return roles


def _pairs(approval: dict[BusinessType, list[ApprovalRole]]) -> set[tuple[str, str]]:
    return {(bt.value, role.value) for bt, roles in approval.items() for role in roles}


def _ensure_grant(
    session: Session,
    principal: Principal,
    roles: list[Role],
    org_id: int,
    approval_pairs: set[tuple[str, str]],
) -> None:
    """The granting rule over everything an account is given: its roles' permissions and data
    scope, and the approval roles it newly receives."""
    permissions = {p for role in roles for p in role.permissions}
    ensure_can_grant(
        session,
        principal,
        permissions,
        scope_of_roles(session, roles, org_id),
        approval_pairs=approval_pairs,
    )


def _after_access_change(
    session: Session, user: User, *, was_admin: bool, now: datetime, actor: audit.Actor
) -> None:
    """What every change to who a user is must keep true, in its transaction: an
    administrator remains, and no step stays assigned to someone who cannot act on it."""
    ensure_an_administrator_remains(session, changed_an_administrator=was_admin)
    dispatch.release_unreachable(session, now=now, actor=actor, user_ids=[user.id])


def _refuse_own_access_change(
    user: User, roles: list[Role], org: Org, approval: dict[BusinessType, list[ApprovalRole]]
) -> None:
    """Nobody changes their own roles, approval roles or organisation: each of those could
    widen what one person may do alone (two approval levels of one application, say), and the
    four-eyes rule that another manager must do it costs little."""
    same_roles = {r.id for r in roles} == {row.role_id for row in user.role_rows}
    same_approval = _pairs(approval) == _pairs(approval_roles_of(user))
    if not (same_roles and same_approval and org.id == user.org_id):
        raise AppError(
            ErrorCode.USER_SELF_ACTION,
            "不能修改自己的角色、业务审批角色或所属机构，请由其他管理员办理",
        )


def _set_approval_roles(user: User, approval: dict[BusinessType, list[ApprovalRole]]) -> None:
    user.approval_role_rows = [
        UserApprovalRole(business_type=bt.value, approval_role=role.value)
        for bt, roles in approval.items()
        for role in roles
    ]


def _username_free(session: Session, username: str) -> None:
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AppError(ErrorCode.USER_NAME_TAKEN, details={"username": username})


@dataclass(frozen=True)
class CreatedUser:
    user: User
    initial_password: str


def create_user(
    session: Session,
    principal: Principal,
    *,
    now: datetime,
    passwords: Passwords,
    data: UserCreate,
) -> CreatedUser:
    principal.require("users:create")
    org = session.get(Org, data.org_id)
    if org is None or not principal.scope.contains(org.id):
        raise not_found("org")
    if not data.role_ids and not data.approval_roles:
        raise AppError(ErrorCode.USER_ROLES_REQUIRED)
    username = data.username.lower()
    _username_free(session, username)
    roles = _roles_for(session, principal, data.role_ids, org)
    _ensure_grant(session, principal, roles, org.id, _pairs(data.approval_roles))
    password = one_time_password()
    user = User(
        username=username,
        name=data.name,
        org_id=org.id,
        mobile=data.mobile,
        id_number=data.id_number,
        is_police=data.is_police,
        police_number=data.police_number,
        password_hash=passwords.hash(password),
        must_change_password=True,
        created_at=now,
        updated_at=now,
    )
    user.role_rows = [UserRole(role=r) for r in roles]
    _set_approval_roles(user, data.approval_roles)
    session.add(user)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.USER_CREATE,
        entity_type=AuditEntity.USER,
        entity_id=user.id,
        org_id=user.org_id,
        after=snapshot(user),
    )
    session.commit()
    return CreatedUser(user, password)


def update_user(
    session: Session, principal: Principal, user_id: int, *, now: datetime, data: UserUpdate
) -> User:
    principal.require("users:update")
    user = _visible(session, principal, user_id)
    account = account_of(session, user, now=now)
    ensure_may(principal, account, UserAction.edit)
    if data.enabled is not None and data.enabled != user.enabled:
        ensure_may(principal, account, UserAction.set_enabled)
    check_version(data.version, user.version)
    before = snapshot(user)
    was_admin = is_administrator(user)
    changes = data.model_dump(exclude_unset=True, exclude={"version", "role_ids", "approval_roles"})
    org = user.org
    if data.org_id is not None and data.org_id != user.org_id:
        org_or_none = session.get(Org, data.org_id)
        if org_or_none is None or not principal.scope.contains(org_or_none.id):
            raise not_found("org")
        org = org_or_none
    role_ids = data.role_ids if data.role_ids is not None else [r.role_id for r in user.role_rows]
    roles = _roles_for(session, principal, role_ids, org)
    approval = data.approval_roles if data.approval_roles is not None else approval_roles_of(user)
    new_pairs = _pairs(approval) - _pairs(approval_roles_of(user))
    if data.role_ids is not None or org.id != user.org_id or new_pairs:
        _ensure_grant(session, principal, roles, org.id, new_pairs)
    if user.id == principal.user_id:
        _refuse_own_access_change(user, roles, org, approval)
    if not roles and not approval:
        raise AppError(ErrorCode.USER_ROLES_REQUIRED)
    for key, value in changes.items():
        setattr(user, key, value)
    if org is not user.org:
        user.org = org
    if data.role_ids is not None:
        user.role_rows = [UserRole(role=r) for r in roles]
    if data.approval_roles is not None:
        _set_approval_roles(user, data.approval_roles)
    user.updated_at = now
    if data.enabled is False:
        revoke_user_tokens(session, user_id=user.id, now=now, reason="disabled")
    session.flush()
    old, new = audit.diff(before, snapshot(user))
    if new:
        audit.record(
            session,
            now=now,
            actor=principal.actor,
            action=AuditAction.USER_UPDATE,
            entity_type=AuditEntity.USER,
            entity_id=user.id,
            org_id=user.org_id,
            before=old,
            after=new,
        )
    _after_access_change(session, user, was_admin=was_admin, now=now, actor=principal.actor)
    session.commit()
    return user


def _managed(
    session: Session,
    principal: Principal | None,
    user_id: int,
    action: UserAction,
    *,
    now: datetime,
) -> tuple[User, audit.Actor]:
    """The account an action targets, and who acts: the admin CLI (``principal`` None) or a
    principal the granting rule lets take ``action`` on it (``grants.action_refusal``)."""
    if principal is None:
        user = session.get(User, user_id)
        if user is None:
            raise not_found("user")
        return user, audit.CLI_ACTOR
    principal.require(PERMISSION_OF[action])
    user = _visible(session, principal, user_id)
    ensure_may(principal, account_of(session, user, now=now), action)
    return user, principal.actor


def reset_password(
    session: Session,
    principal: Principal | None,
    user_id: int,
    *,
    now: datetime,
    passwords: Passwords,
) -> str:
    """A new one-time password (also unlocks). ``principal`` None is the admin CLI."""
    user, actor = _managed(session, principal, user_id, UserAction.reset_password, now=now)
    password = one_time_password()
    user.password_hash = passwords.hash(password)
    user.must_change_password = True
    user.updated_at = now
    signin_guard.clear(session, username=user.username)
    revoke_user_tokens(session, user_id=user.id, now=now, reason="password_reset")
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.USER_PASSWORD_RESET,
        entity_type=AuditEntity.USER,
        entity_id=user.id,
        org_id=user.org_id,
    )
    session.commit()
    return password


def unlock(session: Session, principal: Principal | None, user_id: int, *, now: datetime) -> User:
    user, actor = _managed(session, principal, user_id, UserAction.unlock, now=now)
    before = signin_guard.clear(session, username=user.username)
    user.updated_at = now
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.USER_UNLOCK,
        entity_type=AuditEntity.USER,
        entity_id=user.id,
        org_id=user.org_id,
        before=before,
    )
    session.commit()
    session.expire(user, ["locked_until"])  # read again from sign_in_guards when next used
    return user


def set_enabled_by_cli(session: Session, user_id: int, *, now: datetime, enabled: bool) -> User:
    user, actor = _managed(session, None, user_id, UserAction.set_enabled, now=now)
    before = {"enabled": user.enabled}
    was_admin = is_administrator(user)
    user.enabled = enabled
    user.updated_at = now
    if not enabled:
        revoke_user_tokens(session, user_id=user.id, now=now, reason="disabled")
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.USER_UPDATE,
        entity_type=AuditEntity.USER,
        entity_id=user.id,
        org_id=user.org_id,
        before=before,
        after={"enabled": enabled},
    )
    _after_access_change(session, user, was_admin=was_admin, now=now, actor=actor)
    session.commit()
    return user
