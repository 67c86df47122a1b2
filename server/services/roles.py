"""Roles (角色): a name, operation permissions and a data scope, defined at an organisation."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.db.collation import chinese
from server.db.membership import ids_param, one_of
from server.db.models import Org, Role, RolePermission, RoleScopeOrg, User, UserRole
from server.services import audit, search
from server.services.approvals import dispatch
from server.services.authz import ALL_SCOPE, Principal, Scope, scope_for
from server.services.builtin_roles import ensure_editable
from server.services.errors import AppError, check_version, not_found
from server.services.grants import ensure_can_grant
from server.services.paging import PageRequest, fetch_rows, order_by
from shared.audit_actions import AuditAction, AuditEntity
from shared.enums import DataScopeKind
from shared.errors import ErrorCode
from shared.schemas.roles import DataScope, RoleCreate, RolePublic, RoleUpdate

_SORTS = {
    "name": chinese(Role.name),
    "id": Role.id,
    "org_id": Role.org_id,
    "created_at": Role.created_at,
}


def snapshot(role: Role) -> dict[str, Any]:
    return {
        "name": role.name,
        "org_id": role.org_id,
        "description": role.description,
        "permissions": role.permissions,
        "data_scope": {"kind": role.data_scope_kind, "org_ids": role.scope_org_ids},
    }


def _grantable_scope(session: Session, principal: Principal, scope: DataScope) -> Scope | None:
    """The part of a role's scope that is fixed whoever holds it (own_* depends on the holder)."""
    if scope.kind == DataScopeKind.all:
        return ALL_SCOPE
    if scope.kind == DataScopeKind.orgs:
        existing = set(session.scalars(select(Org.id).where(Org.id.in_(scope.org_ids))))
        missing = sorted(set(scope.org_ids) - existing)
        if missing:
            raise AppError(ErrorCode.NOT_FOUND, details={"entity": "org", "ids": missing})
        return Scope(False, frozenset(scope.org_ids))
    return None


def usable(principal: Principal, role: Role | Any) -> bool:
    """Roles of the organisations above one's own are usable too (read and assign, not edit):
    a city administrator hands out the province's standard roles. ``role``: a ``Role`` or a
    row of ``ROLE_COLUMNS``."""
    return principal.scope.contains(role.org_id) or role.org_id in principal.ancestor_org_ids


def _visible(session: Session, principal: Principal, role_id: int, *, edit: bool = False) -> Role:
    role = session.get(Role, role_id)
    if role is None or not usable(principal, role):
        raise not_found("role")
    if edit and not principal.scope.contains(role.org_id):
        raise AppError(ErrorCode.PERMISSION_DENIED, "上级机构定义的角色只能使用，不能修改或删除")
    if edit:
        ensure_editable(role)
    return role


ROLE_COLUMNS = (
    Role.id,
    Role.name,
    Role.org_id,
    Org.name.label("org_name"),
    Role.description,
    Role.data_scope_kind,
    Role.builtin_key,
    Role.version,
    Role.created_at,
    Role.updated_at,
)
"""What ``public_roles`` shows of a role's own row and organisation, as plain columns (select
them with ``.join(Org, Org.id == Role.org_id)``)."""

_ROLE_IDS = ids_param("role_ids")
_USER_COUNTS = (
    select(UserRole.role_id, func.count())
    .where(one_of(UserRole.role_id, _ROLE_IDS))
    .group_by(UserRole.role_id)
)
_PERMISSIONS = (
    select(RolePermission.role_id, RolePermission.permission)
    .where(one_of(RolePermission.role_id, _ROLE_IDS))
    .order_by(RolePermission.role_id, RolePermission.permission)
)
_SCOPE_ORGS = (
    select(RoleScopeOrg.role_id, RoleScopeOrg.org_id)
    .where(one_of(RoleScopeOrg.role_id, _ROLE_IDS))
    .order_by(RoleScopeOrg.role_id, RoleScopeOrg.org_id)
)
"""Built once, the roles' ids a parameter: a reused statement keeps its SQLAlchemy cache key.
Permissions and organisations in the order ``Role.permissions`` and ``Role.scope_org_ids``
give them."""


def get_role(session: Session, principal: Principal, role_id: int) -> Any:
    """A role the principal may use, as a plain row of ``ROLE_COLUMNS``."""
    row = (
        session.connection()
        .execute(select(*ROLE_COLUMNS).join(Org, Org.id == Role.org_id).where(Role.id == role_id))
        .first()
    )
    if row is None or not usable(principal, row):
        raise not_found("role")
    return row


def user_counts(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.connection().execute(_USER_COUNTS, {"role_ids": ids}).all()
    return {role_id: count for role_id, count in rows}


def public_roles(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """``RolePublic`` of each of ``rows`` (plain rows of ``ROLE_COLUMNS``), as the dicts the
    answer is validated from: their permissions, chosen organisations and holders counted in
    one query each for the whole page, as plain rows (a role has dozens of permissions: as ORM
    objects a page of roles made hundreds). Run after the caller's changes are committed."""
    if not rows:
        return []
    connection = session.connection()
    ids = [row.id for row in rows]
    permissions: dict[int, list[str]] = {role_id: [] for role_id in ids}
    for role_id, permission in connection.execute(_PERMISSIONS, {"role_ids": ids}).all():
        permissions[role_id].append(permission)
    # only a role of chosen organisations has any (DataScope shows none for the other kinds)
    chosen = [row.id for row in rows if row.data_scope_kind == DataScopeKind.orgs]
    org_ids: dict[int, list[int]] = {role_id: [] for role_id in chosen}
    if chosen:
        for role_id, org_id in connection.execute(_SCOPE_ORGS, {"role_ids": chosen}).all():
            org_ids[role_id].append(org_id)
    holders = user_counts(session, ids)
    return [
        {
            "id": row.id,
            "name": row.name,
            "org_id": row.org_id,
            "org_name": row.org_name,
            "description": row.description,
            "permissions": permissions[row.id],
            "data_scope": {"kind": row.data_scope_kind, "org_ids": org_ids.get(row.id, [])},
            "user_count": holders.get(row.id, 0),
            "builtin": row.builtin_key is not None,
            "version": row.version,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
        for row in rows
    ]


def public_role(session: Session, principal: Principal, role_id: int) -> RolePublic:
    """One role the principal may use, as ``public_roles`` shows it."""
    return RolePublic.model_validate(
        public_roles(session, [get_role(session, principal, role_id)])[0]
    )


def list_roles(
    session: Session,
    principal: Principal,
    *,
    org_id: int | None = None,
    q: str | None = None,
    page: PageRequest,
) -> tuple[Sequence[Any], int]:
    """A page of the roles the principal may use, as plain rows of ``ROLE_COLUMNS`` (for
    ``public_roles``), and the total."""
    stmt = (
        select(*ROLE_COLUMNS)
        .join(Org, Org.id == Role.org_id)
        .where(
            or_(
                principal.scope.clause(Role.org_id),
                Role.org_id.in_(sorted(principal.ancestor_org_ids)),
            )
        )
    )
    if org_id is not None:
        stmt = stmt.where(Role.org_id == org_id)
    if q:
        stmt = stmt.where(search.contains(Role.name, q))
    # then by id: roles of one name at two organisations keep one order, page by page
    return fetch_rows(session, order_by(stmt, page, _SORTS, "id").order_by(Role.id), page)


def _ensure_unique_name(session: Session, org_id: int, name: str, own_id: int = 0) -> None:
    clash = session.scalar(
        select(Role.id).where(Role.org_id == org_id, Role.name == name, Role.id != own_id)
    )
    if clash is not None:
        raise AppError(ErrorCode.ROLE_NAME_TAKEN, details={"name": name})


def _apply(role: Role, permissions: list[str] | None, scope: DataScope | None) -> None:
    if permissions is not None:
        role.permission_rows = [RolePermission(permission=p) for p in sorted(set(permissions))]
    if scope is not None:
        role.data_scope_kind = scope.kind.value
        role.scope_org_rows = [RoleScopeOrg(org_id=o) for o in scope.org_ids]


def create_role(session: Session, principal: Principal, *, now: datetime, data: RoleCreate) -> Role:
    principal.require("roles:create")
    if not principal.scope.contains(data.org_id) or session.get(Org, data.org_id) is None:
        raise not_found("org")
    ensure_can_grant(
        session, principal, data.permissions, _grantable_scope(session, principal, data.data_scope)
    )
    _ensure_unique_name(session, data.org_id, data.name)
    role = Role(
        org_id=data.org_id,
        name=data.name,
        description=data.description,
        data_scope_kind=data.data_scope.kind.value,
        created_at=now,
        updated_at=now,
    )
    _apply(role, data.permissions, data.data_scope)
    session.add(role)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.ROLE_CREATE,
        entity_type=AuditEntity.ROLE,
        entity_id=role.id,
        org_id=role.org_id,
        after=snapshot(role),
    )
    session.commit()
    return role


def update_role(
    session: Session, principal: Principal, role_id: int, *, now: datetime, data: RoleUpdate
) -> Role:
    principal.require("roles:update")
    role = _visible(session, principal, role_id, edit=True)
    check_version(data.version, role.version)
    before = snapshot(role)
    # An editor must hold what the role will grant, including what it already grants.
    permissions = data.permissions if data.permissions is not None else role.permissions
    scope = data.data_scope or DataScope(
        kind=DataScopeKind(role.data_scope_kind), org_ids=role.scope_org_ids
    )
    ensure_can_grant(session, principal, permissions, _grantable_scope(session, principal, scope))
    if data.data_scope is not None:
        for holder in session.scalars(
            select(User).join(UserRole).where(UserRole.role_id == role.id)
        ):
            held = scope_for(session, scope.kind, scope.org_ids, holder.org_id)
            ensure_can_grant(session, principal, (), held)
    if data.name is not None:
        _ensure_unique_name(session, role.org_id, data.name, role.id)
        role.name = data.name
    if "description" in data.model_fields_set:
        role.description = data.description
    _apply(role, data.permissions, data.data_scope)
    role.updated_at = now
    old, new = audit.diff(before, snapshot(role))
    if new:
        audit.record(
            session,
            now=now,
            actor=principal.actor,
            action=AuditAction.ROLE_UPDATE,
            entity_type=AuditEntity.ROLE,
            entity_id=role.id,
            org_id=role.org_id,
            before=old,
            after=new,
        )
    if data.permissions is not None:
        holders = session.scalars(select(UserRole.user_id).where(UserRole.role_id == role.id))
        dispatch.release_unreachable(session, now=now, actor=principal.actor, user_ids=set(holders))
    session.commit()
    return role


def delete_role(
    session: Session, principal: Principal, role_id: int, *, now: datetime, version: int | None
) -> None:
    principal.require("roles:delete")
    role = _visible(session, principal, role_id, edit=True)
    check_version(version, role.version)
    ensure_can_grant(session, principal, role.permissions, None)
    in_use = user_counts(session, [role.id]).get(role.id, 0)
    if in_use:
        raise AppError(ErrorCode.ROLE_IN_USE, details={"user_count": in_use})
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.ROLE_DELETE,
        entity_type=AuditEntity.ROLE,
        entity_id=role.id,
        org_id=role.org_id,
        before=snapshot(role),
    )
    session.delete(role)
    session.commit()
