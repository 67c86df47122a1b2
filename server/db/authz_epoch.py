"""The access epoch: one counter row bumped in the same transaction as any change to who may do
what — roles and their permissions or scope, a user's roles, approval roles, organisation, name
or enabled flag, the organisation tree. A ``before_flush`` hook on every Session does it, so no
service, CLI command or import can forget. Cached principals are tagged with the epoch they were
built under and never used once it has moved (``services/authz_cache``).
"""

from typing import Any

from sqlalchemy import event, inspect, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.db.models import (
    AuthzEpoch,
    Org,
    Role,
    RolePermission,
    RoleScopeOrg,
    User,
    UserApprovalRole,
    UserRole,
)

ACCESS_TABLES = (Org, Role, RolePermission, RoleScopeOrg, UserRole, UserApprovalRole)
USER_FIELDS = ("username", "name", "org_id", "enabled", "role_rows", "approval_role_rows")


def _touches_access(obj: Any, new_or_deleted: bool) -> bool:
    if isinstance(obj, ACCESS_TABLES):
        return True
    if isinstance(obj, User):
        if new_or_deleted:
            return True
        state = inspect(obj)
        return any(state.attrs[name].history.has_changes() for name in USER_FIELDS)
    return False


def bump(session: Session) -> None:
    """Move the epoch on, inside the caller's transaction (creating the row if missing)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(AuthzEpoch).values(id=1, value=0).on_conflict_do_nothing())
    session.execute(update(AuthzEpoch).where(AuthzEpoch.id == 1).values(value=AuthzEpoch.value + 1))


@event.listens_for(Session, "before_flush")
def _bump_on_access_change(session: Session, _context: Any, _instances: Any) -> None:
    changed = any(_touches_access(o, True) for o in (*session.new, *session.deleted)) or any(
        _touches_access(o, False) for o in session.dirty if session.is_modified(o)
    )
    if changed:
        bump(session)
