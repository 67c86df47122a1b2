"""The "may grant" rule, and from it whose account a manager may manage (docs/decisions.md D11).

A *right* is an operation permission, a business approval role or a data scope. An approval role
counts as the permission it exercises (``applications:approve``, ``approval_role_permissions``).

A manager **may grant** a set of rights iff he holds every permission among them (approval roles
included, as above) and his own data scope covers their data scope (is not narrower anywhere):
no one hands out more than he holds. Creating a user, giving a user roles or approval roles,
moving a user, and writing a role all pass through ``ensure_can_grant``.

A manager **may manage** an account — edit it, reset its password, enable or disable it, unlock
it — iff

1. the account's organisation is inside his data scope (otherwise the account is not found:
   404, its existence is not revealed), and
2. the account is his own, or he may grant every right the account holds (its roles'
   permissions, their data scope at the account's organisation, its approval roles).

Why 2: whoever resets a password can sign in as the account, and whoever edits it can reshape
it, so managing an account must not hand the manager more than he holds. Equal rights are
manageable (a city administrator manages another of his city). One's own account is
manageable for what does not widen or end one's access; the rest is refused with
``USER_SELF_ACTION`` (``action_refusal``, and ``users._refuse_own_access_change`` for roles,
approval roles and organisation). Disabling the last enabled administrator is refused
(``LAST_ADMINISTRATOR``, enforced again under a lock by ``builtin_roles``).

``action_refusal`` is the one answer to "may this manager do this to this account now, and if
not, why": the services raise it, the user list shows it (``allowed_actions``).
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.membership import ids_param, one_of
from server.db.models import Role, RolePermission, RoleScopeOrg, User, UserRole
from server.services.authz import NO_SCOPE, Principal, Scope, scope_for, subtrees_at
from server.services.builtin_roles import ADMIN_KEY, administers
from server.services.errors import AppError, action_state
from shared.enums import DataScopeKind
from shared.errors import ErrorCode
from shared.permissions import approval_role_permissions
from shared.schemas.common import ActionState
from shared.schemas.users import UserAction


@dataclass(frozen=True)
class Rights:
    """What a role or an account gives its holder. ``scope`` None: not fixed yet (a role's
    ``own_org``/``own_subtree`` scope, which depends on who will hold it)."""

    permissions: frozenset[str]
    scope: Scope | None


def rights(
    permissions: Iterable[str],
    scope: Scope | None,
    approval_pairs: Iterable[tuple[str, str]] = (),
) -> Rights:
    return Rights(frozenset(permissions) | approval_role_permissions(approval_pairs), scope)


def excess(manager: Principal, granted: Rights) -> dict[str, Any] | None:
    """What of ``granted`` the manager may not grant (None: he may grant all of it)."""
    extra = sorted(granted.permissions - manager.permissions)
    if extra:
        return {"permissions": extra}
    if granted.scope is not None and not manager.scope.covers(granted.scope):
        return {"scope": "exceeds"}
    return None


def ensure_can_grant(
    session: Session,
    principal: Principal,
    permissions: Iterable[str],
    scope: Scope | None,
    *,
    approval_pairs: Iterable[tuple[str, str]] = (),
) -> None:
    """Refuse (``ROLE_GRANT_EXCEEDS_OWN``) to hand out what the principal may not grant."""
    over = excess(principal, rights(permissions, scope, approval_pairs))
    if over is not None:
        raise AppError(ErrorCode.ROLE_GRANT_EXCEEDS_OWN, details=over)


@dataclass(frozen=True)
class Account:
    """What the rule weighs about one account."""

    user_id: int
    org_id: int
    rights: Rights
    enabled: bool
    locked: bool  # the sign-in lock holds now
    last_administrator: bool  # the only enabled holder of the built-in administrator role


PERMISSION_OF = {
    UserAction.edit: "users:update",
    UserAction.reset_password: "users:reset_password",
    UserAction.set_enabled: "users:update",
    UserAction.unlock: "users:unlock",
}


_NOT_ON_ONESELF = {
    UserAction.reset_password: "不能重置自己的密码，请使用【修改密码】",
    UserAction.set_enabled: "不能停用自己的账号",
}


def manage_refusal(manager: Principal, account: Account) -> AppError | None:
    """Conditions 1 and 2 of the module's rule."""
    if not manager.scope.contains(account.org_id):
        return AppError(ErrorCode.NOT_FOUND, details={"entity": "user"})
    if account.user_id == manager.user_id:
        return None
    if excess(manager, account.rights) is not None:
        return AppError(ErrorCode.USER_OUTRANKS_YOU)
    return None


def action_refusal(manager: Principal, account: Account, action: UserAction) -> AppError | None:
    """Why ``manager`` may not take ``action`` on ``account`` now (None: he may)."""
    return _refusal(manager, account, action, manage_refusal(manager, account))


def _refusal(
    manager: Principal, account: Account, action: UserAction, managed: AppError | None
) -> AppError | None:
    """``action_refusal``, given ``manage_refusal``'s answer."""
    permission = PERMISSION_OF[action]
    if not manager.can(permission):
        return AppError(ErrorCode.PERMISSION_DENIED, details={"permission": permission})
    if managed is not None:
        return managed
    own = account.user_id == manager.user_id
    if own and action in _NOT_ON_ONESELF:
        return AppError(ErrorCode.USER_SELF_ACTION, _NOT_ON_ONESELF[action])
    if action == UserAction.set_enabled and account.enabled and account.last_administrator:
        return AppError(ErrorCode.LAST_ADMINISTRATOR)
    if action == UserAction.unlock and not account.locked:
        return AppError(ErrorCode.USER_NOT_LOCKED)
    return None


def ensure_may(manager: Principal, account: Account, action: UserAction) -> None:
    refusal = action_refusal(manager, account, action)
    if refusal is not None:
        raise refusal


def action_states(manager: Principal, account: Account) -> dict[UserAction, ActionState]:
    return page_action_states(manager, {account.user_id: account})[account.user_id]


def page_action_states(
    manager: Principal, found: Mapping[int, Account]
) -> dict[int, dict[UserAction, ActionState]]:
    """``action_states`` of each account of a page, by user id: what the manager may do to it
    now, and why not. The rule is weighed once per account (``manage_refusal``); what follows
    from it depends on a handful of facts, so accounts alike in them share one answer, worked
    out once (a page of fifty accounts has a few kinds, not fifty)."""
    known: dict[tuple[Any, ...], dict[UserAction, ActionState]] = {}
    states = {}
    for user_id, account in found.items():
        managed = manage_refusal(manager, account)
        key = (
            None if managed is None else managed.code,
            user_id == manager.user_id,
            account.enabled,
            account.locked,
            account.last_administrator,
        )
        if key not in known:
            known[key] = {
                action: action_state(_refusal(manager, account, action, managed))
                for action in UserAction
            }
        states[user_id] = known[key]
    return states


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    """A lock whose time has run out is no lock (sign-in clears it at the next attempt)."""
    return locked_until is not None and locked_until > now


@dataclass(frozen=True)
class HeldRole:
    """What the rule reads of a role an account holds (the rest comes by its id)."""

    id: int
    data_scope_kind: str
    builtin_key: str | None


@dataclass(frozen=True)
class Holding:
    """What the rule reads of an account, as plain values: from a page of rows
    (``user_views``) or from a loaded ``User`` (``holding_of``)."""

    user_id: int
    org_id: int
    org_path: str  # the organisation's path, for the subtree of an own_subtree role
    enabled: bool
    locked_until: datetime | None
    roles: tuple[HeldRole, ...]
    approval_pairs: tuple[tuple[str, str], ...]

    @property
    def administrator(self) -> bool:
        return administers(self.enabled, (role.builtin_key for role in self.roles))


def holding_of(user: User) -> Holding:
    """A loaded user's ``Holding`` (its role rows with their roles, and approval roles)."""
    return Holding(
        user_id=user.id,
        org_id=user.org_id,
        org_path=user.org.path,
        enabled=user.enabled,
        locked_until=user.locked_until,
        roles=tuple(
            HeldRole(row.role.id, row.role.data_scope_kind, row.role.builtin_key)
            for row in user.role_rows
        ),
        approval_pairs=tuple((r.business_type, r.approval_role) for r in user.approval_role_rows),
    )


_ROLE_IDS = ids_param("role_ids")
_PERMISSIONS = select(RolePermission.role_id, RolePermission.permission).where(
    one_of(RolePermission.role_id, _ROLE_IDS)
)
_CHOSEN = select(RoleScopeOrg.role_id, RoleScopeOrg.org_id).where(
    one_of(RoleScopeOrg.role_id, _ROLE_IDS)
)


def accounts(session: Session, holdings: Sequence[Holding], *, now: datetime) -> dict[int, Account]:
    """The ``Account`` of each holding, in a few queries for a whole page: the roles'
    permissions and chosen organisations at once, each organisation's subtree once. Accounts
    holding the same roles (and approval roles) share their permissions, and the same roles at
    the same organisation their scope, each worked out once: the cost grows with the page's
    distinct roles and organisations, not with its users."""
    role_ids = sorted({role.id for holding in holdings for role in holding.roles})
    permissions: dict[int, set[str]] = {}
    chosen: dict[int, set[int]] = {}
    connection = session.connection()
    if role_ids:
        for role_id, permission in connection.execute(_PERMISSIONS, {"role_ids": role_ids}).all():
            permissions.setdefault(role_id, set()).add(permission)
    # only roles of a chosen set of organisations have rows in role_scope_orgs
    chosen_ids = sorted(
        {
            role.id
            for holding in holdings
            for role in holding.roles
            if role.data_scope_kind == DataScopeKind.orgs
        }
    )
    if chosen_ids:
        for role_id, org_id in connection.execute(_CHOSEN, {"role_ids": chosen_ids}).all():
            chosen.setdefault(role_id, set()).add(org_id)
    known: dict[int, frozenset[int]] = {}

    def subtree(org_id: int) -> frozenset[int]:
        if not known:  # the accounts' organisations' subtrees at once, when first needed
            known.update(subtrees_at(session, {h.org_id: h.org_path for h in holdings}))
        return known.get(org_id, frozenset())

    admins = _enabled_administrators(session) if any(h.administrator for h in holdings) else 0
    granted: dict[tuple[Any, ...], frozenset[str]] = {}
    scopes: dict[tuple[Any, ...], Scope] = {}
    held: dict[tuple[Any, ...], Rights] = {}
    found = {}
    for holding in holdings:
        key = (holding.roles, holding.org_id, holding.approval_pairs)
        if key not in held:
            given = (holding.roles, holding.approval_pairs)
            if given not in granted:
                granted[given] = rights(
                    (p for role in holding.roles for p in permissions.get(role.id, ())),
                    None,
                    holding.approval_pairs,
                ).permissions
            placed = (holding.roles, holding.org_id)
            if placed not in scopes:
                scope = NO_SCOPE
                for role in holding.roles:
                    scope = scope | _role_scope(session, role, chosen, holding.org_id, subtree)
                scopes[placed] = scope
            held[key] = Rights(granted[given], scopes[placed])
        found[holding.user_id] = Account(
            user_id=holding.user_id,
            org_id=holding.org_id,
            rights=held[key],
            enabled=holding.enabled,
            locked=is_locked(holding.locked_until, now),
            last_administrator=holding.administrator and admins <= 1,
        )
    return found


def account_of(session: Session, user: User, *, now: datetime) -> Account:
    return accounts(session, [holding_of(user)], now=now)[user.id]


def _role_scope(
    session: Session,
    role: HeldRole,
    chosen: Mapping[int, set[int]],
    org_id: int,
    subtree: Callable[[int], frozenset[int]],
) -> Scope:
    kind = DataScopeKind(role.data_scope_kind)
    if kind == DataScopeKind.own_subtree:
        return Scope.subtree(org_id, subtree(org_id))
    return scope_for(session, kind, chosen.get(role.id, ()), org_id)


def _enabled_administrators(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(UserRole)
            .join(Role, Role.id == UserRole.role_id)
            .join(User, User.id == UserRole.user_id)
            .where(Role.builtin_key == ADMIN_KEY, User.enabled.is_(True))
        )
        or 0
    )
