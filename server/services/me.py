"""``GET /me``: the signed-in user's own view, asked at every desk start and refresh."""

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from server.db.models import Org, User
from server.services.authz import Principal
from server.services.errors import AppError
from server.services.users import approval_roles_from, row_fields
from shared.errors import ErrorCode
from shared.schemas.users import EffectiveScope, Me, RoleRef

_ROW = (
    select(
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
    .join(Org, Org.id == User.org_id)
    .where(User.id == bindparam("user_id"))
)
"""Built once (a reused statement keeps its SQLAlchemy cache key); plain columns, no ORM
objects and no role collections."""


def me(session: Session, principal: Principal) -> Me:
    """Everything about access (roles, approval roles, permissions, scope) is in the principal,
    which is cached while the access epoch stands; the rest is the user's row and organisation,
    read in one query."""
    row = session.connection().execute(_ROW, {"user_id": principal.user_id}).one_or_none()
    if row is None:
        raise AppError(ErrorCode.AUTH_TOKEN_INVALID)
    return Me(
        **row_fields(row, org_name=row.org_name, reveal=True),
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
