"""Authorization in one place: who may do what (permissions) and see where (data scope).

A Principal is built once per request from the user's roles. Services call ``require`` for the
operation and put ``scope.clause(column)`` into their queries, so a record outside the scope
is simply not found (404) rather than forbidden: its existence is not revealed.
"""

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from server.db.membership import one_of
from server.db.models import Org, Role, User
from server.services.audit import Actor
from server.services.errors import AppError
from shared.enums import DataScopeKind, OrgType
from shared.errors import ErrorCode


@dataclass(frozen=True)
class Scope:
    all: bool
    org_ids: frozenset[int]
    subtree_tops: frozenset[int] = frozenset()
    """Organisations held together with everything under them, now and later (the user's
    organisation of an own_subtree scope)."""
    in_subtrees: frozenset[int] = frozenset()
    """The part of ``org_ids`` that lies under ``subtree_tops``, as read when the scope was."""

    @classmethod
    def subtree(cls, top: int, org_ids: frozenset[int]) -> "Scope":
        """``top`` and ``org_ids``, everything under it as read now."""
        return cls(False, org_ids, frozenset({top}), org_ids)

    def contains(self, org_id: int | None) -> bool:
        return self.all or (org_id is not None and org_id in self.org_ids)

    def covers(self, other: "Scope") -> bool:
        """Whether ``other`` is nowhere wider. A subtree ``other`` holds whole is covered when
        its top lies in one this scope holds whole, whatever was added under it in between:
        organisations never move, and a principal is reused across requests
        (``authz_cache``) while the account it is compared with is read fresh, so an office
        added under a city meanwhile is in the clerk's scope and not yet in the
        administrator's."""
        if self.all:
            return True
        if other.all:
            return False
        rest = other.org_ids
        if other.subtree_tops and other.subtree_tops <= self.in_subtrees:
            rest = rest - other.in_subtrees
        return rest <= self.org_ids

    def clause(self, column: Any) -> ColumnElement[bool]:
        if self.all:
            return true()
        if not self.org_ids:
            return false()
        return _within(self.org_ids, column)

    def __or__(self, other: "Scope") -> "Scope":
        if not (other.all or other.org_ids):
            return self
        if not (self.all or self.org_ids):
            return other
        return Scope(
            self.all or other.all,
            self.org_ids | other.org_ids,
            self.subtree_tops | other.subtree_tops,
            self.in_subtrees | other.in_subtrees,
        )


@lru_cache(maxsize=1024)
def _within(org_ids: frozenset[int], column: Any) -> ColumnElement[bool]:
    """``column`` is one of ``org_ids`` (``db.membership.one_of``: the whole scope one
    parameter), built once per scope and column: a principal, and so its scope, is reused from
    request to request (``authz_cache``). SQL elements are immutable: one clause serves every
    statement it is put in."""
    return one_of(column, org_ids)


NO_SCOPE = Scope(False, frozenset())
ALL_SCOPE = Scope(True, frozenset())


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    name: str
    org_id: int
    permissions: frozenset[str]
    scope: Scope
    scope_kinds: frozenset[DataScopeKind]
    ancestor_org_ids: frozenset[int] = frozenset()  # above the user's own organisation
    ip: str | None = None
    # (business type, approval role) pairs: which steps the user may act on
    approval_pairs: frozenset[tuple[str, str]] = frozenset()
    # the bureau whose steps the user works: their own organisation, or the one above an office
    authority_org_id: int | None = None
    authority_org_name: str | None = None
    # (id, name) of the user's roles, as shown to the user (``GET /me``)
    roles: tuple[tuple[int, str], ...] = ()

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, f"{self.name}({self.username})", self.ip)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise AppError(ErrorCode.PERMISSION_DENIED, details={"permission": permission})


def subtree_ids(session: Session, org_id: int) -> frozenset[int]:
    """``org_id`` and every organisation under it (nothing for an unknown id)."""
    return subtrees(session, [org_id]).get(org_id, frozenset())


def subtrees(session: Session, org_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """``subtree_ids`` of each of ``org_ids`` in two queries, however many there are (a page
    of accounts spread over a city's bureaus): the tops' paths, then ``subtrees_at``."""
    tops = dict(session.execute(select(Org.id, Org.path).where(one_of(Org.id, set(org_ids)))).all())
    return subtrees_at(session, tops)


def subtrees_at(session: Session, tops: Mapping[int, str]) -> dict[int, frozenset[int]]:
    """``subtree_ids`` of each organisation of ``tops`` (id → path, when already read) in
    one query: every organisation under the shallowest of them, sorted by path, where each
    subtree is one contiguous run."""
    if not tops:
        return {}
    roots: list[str] = []
    for path in sorted(set(tops.values())):  # a path sorts right after the paths above it
        if not roots or not path.startswith(roots[-1]):
            roots.append(path)
    under = sorted(
        session.execute(
            select(Org.path, Org.id).where(or_(*(Org.path.startswith(p) for p in roots)))
        ).all()
    )
    ordered = [path for path, _ in under]
    found = {}
    for org_id, path in tops.items():
        start = bisect_left(ordered, path)
        end = start
        while end < len(ordered) and ordered[end].startswith(path):
            end += 1
        found[org_id] = frozenset(org for _, org in under[start:end])
    return found


def scope_for(
    session: Session, kind: DataScopeKind, scope_org_ids: Iterable[int], user_org_id: int
) -> Scope:
    """What a data scope lets a user at ``user_org_id`` see."""
    if kind == DataScopeKind.all:
        return ALL_SCOPE
    if kind == DataScopeKind.own_org:
        return Scope(False, frozenset({user_org_id}))
    if kind == DataScopeKind.own_subtree:
        return Scope.subtree(user_org_id, subtree_ids(session, user_org_id))
    return Scope(False, frozenset(scope_org_ids))


def role_scope_for(session: Session, role: Role, user_org_id: int) -> Scope:
    return scope_for(session, DataScopeKind(role.data_scope_kind), role.scope_org_ids, user_org_id)


def scope_of_roles(session: Session, roles: Iterable[Role], user_org_id: int) -> Scope:
    scope = NO_SCOPE
    for role in roles:
        scope = scope | role_scope_for(session, role, user_org_id)
    return scope


def principal_for(session: Session, user: User, *, ip: str | None = None) -> Principal:
    roles = [row.role for row in user.role_rows]
    authority = authority_of(session, user.org)
    return Principal(
        user_id=user.id,
        username=user.username,
        name=user.name,
        org_id=user.org_id,
        permissions=frozenset(p for role in roles for p in role.permissions),
        scope=scope_of_roles(session, roles, user.org_id),
        scope_kinds=frozenset(DataScopeKind(role.data_scope_kind) for role in roles),
        ancestor_org_ids=frozenset(user.org.lineage_ids[:-1]),
        ip=ip,
        approval_pairs=frozenset(
            (row.business_type, row.approval_role) for row in user.approval_role_rows
        ),
        authority_org_id=authority.id,
        authority_org_name=authority.name,
        roles=tuple((role.id, role.name) for role in roles),
    )


def authority_of(session: Session, org: Org) -> Org:
    """Offices (内设部门) act for the bureau above them; everyone else for their own org."""
    while org.type == OrgType.office and org.parent_id is not None:
        parent = session.get(Org, org.parent_id)
        if parent is None:
            break
        org = parent
    return org


def refreshed(session: Session, principal: Principal) -> Principal:
    """The principal again, after a change (a new organisation) that may widen its scope."""
    user = session.get(User, principal.user_id)
    assert user is not None
    return principal_for(session, user, ip=principal.ip)
