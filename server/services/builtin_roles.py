"""The built-in administrator role (系统管理员), and the rule that an administrator remains.

The role is found by its fixed key, never by its name, so no rename can hide it from
``init-db``, which keeps it whole (every permission of the catalogue, all data). The API can
neither edit nor delete it (``ensure_editable``). Whatever can take the status from a user —
their roles, their enabled flag, through the API or the CLI — notes ``is_administrator`` before
the change and calls ``ensure_an_administrator_remains`` after it, in the same transaction.
"""

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Role, User, UserRole
from server.services.errors import AppError
from shared.errors import ErrorCode

ADMIN_KEY = "admin"
ADMIN_ROLE_NAME = "系统管理员"


def admin_role(session: Session) -> Role | None:
    return session.scalar(select(Role).where(Role.builtin_key == ADMIN_KEY))


def ensure_editable(role: Role) -> None:
    if role.builtin_key is not None:
        raise AppError(ErrorCode.ROLE_BUILTIN, details={"role_id": role.id})


def is_administrator(user: User) -> bool:
    """A full administrator: an enabled holder of the built-in role."""
    return administers(user.enabled, (row.role.builtin_key for row in user.role_rows))


def administers(enabled: bool, builtin_keys: Iterable[str | None]) -> bool:
    """``is_administrator`` of an account read as plain values: its enabled flag and the
    built-in keys of the roles it holds."""
    return enabled and ADMIN_KEY in builtin_keys


def ensure_an_administrator_remains(session: Session, *, changed_an_administrator: bool) -> None:
    """At least one enabled user holds the built-in role once the pending changes are flushed,
    if the change touched one who did (``is_administrator`` before it): a change to anyone
    else takes nothing away, even from a database that has lost its last one some other way.

    The role's row is locked first (PostgreSQL), so two administrators demoting each other at
    the same moment are serialised: the second one counts after the first one's commit.
    """
    if not changed_an_administrator:
        return
    role_id = session.scalar(select(Role.id).where(Role.builtin_key == ADMIN_KEY).with_for_update())
    if role_id is None:
        return
    holders = session.scalar(
        select(func.count())
        .select_from(UserRole)
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.role_id == role_id, User.enabled.is_(True))
    )
    if not holders:
        raise AppError(ErrorCode.LAST_ADMINISTRATOR)
