"""The organisation tree (机构管理): province → city → county/district → police station."""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from server.db.approval_models import ApprovalTask
from server.db.collation import chinese
from server.db.membership import ids_param, one_of
from server.db.models import Org, Role, RoleScopeOrg, User
from server.services import audit, search
from server.services.approvals import dispatch
from server.services.approvals.tasks import PENDING
from server.services.authz import Principal
from server.services.errors import AppError, check_version, not_found
from server.services.paging import PageRequest, fetch_rows, order_by
from shared.audit_actions import AuditAction, AuditEntity
from shared.enums import OrgType
from shared.errors import ErrorCode
from shared.regions import RegionLevel, region_table
from shared.schemas.orgs import OrgCreate, OrgPublic, OrgUpdate

_REGION_LEVEL = {
    OrgType.province_department: RegionLevel.province,
    OrgType.city_bureau: RegionLevel.prefecture,
    OrgType.county_bureau: RegionLevel.county,
    OrgType.police_station: RegionLevel.county,
}
_SORTS = {
    "name": chinese(Org.name),
    "region_code": Org.region_code,
    "id": Org.id,
    "path": Org.depth,
}


def snapshot(org: Org) -> dict[str, Any]:
    return {
        "name": org.name,
        "parent_id": org.parent_id,
        "type": org.type,
        "region_code": org.region_code,
        "phone": org.phone,
        "address": org.address,
    }


def check_placement(org_type: OrgType, region_code: str, parent: Org | None) -> None:
    """A child sits below its parent in rank, and inside the parent's region."""
    table = region_table()
    region = table.get(region_code)
    expected = _REGION_LEVEL.get(org_type)
    # A prefecture without counties (东莞, 中山, 嘉峪关, 儋州) stands in for its own county level.
    childless_prefecture = (
        region is not None
        and region.level == RegionLevel.prefecture
        and not table.children(region.code)
    )
    level_ok = (
        expected is None
        or (region is not None and region.level == expected)
        or (expected == RegionLevel.county and childless_prefecture)
    )
    if region is None or not level_ok:
        raise AppError(
            ErrorCode.ORG_REGION_INVALID, details={"region_code": region_code, "type": org_type}
        )
    if parent is None:
        return
    if not table.is_within(region_code, parent.region_code):
        raise AppError(
            ErrorCode.ORG_REGION_INVALID,
            f"所属区域{region_code}不在上级机构辖区（{parent.region_code}）内",
        )
    parent_type = OrgType(parent.type)
    if parent_type == OrgType.office:
        allowed = org_type == OrgType.office
    else:
        allowed = org_type == OrgType.office or (org_type.rank or 0) > (parent_type.rank or 0)
    if not allowed:
        raise AppError(
            ErrorCode.ORG_INVALID_PARENT,
            f"{org_type.label}不能设在{parent_type.label}之下",
        )


def _visible(session: Session, principal: Principal, org_id: int) -> Org:
    org = session.get(Org, org_id)
    if org is None or not principal.scope.contains(org.id):
        raise not_found("org")
    return org


def get_org(session: Session, principal: Principal, org_id: int) -> Org:
    return _visible(session, principal, org_id)


ORG_COLUMNS = (
    Org.id,
    Org.name,
    Org.parent_id,
    Org.type,
    Org.region_code,
    Org.phone,
    Org.address,
    Org.depth,
    Org.version,
    Org.created_at,
    Org.updated_at,
)
"""What ``to_public`` shows of an organisation's row, as plain columns (an ``Org`` has the
same attributes)."""


def list_orgs(
    session: Session,
    principal: Principal,
    *,
    parent_id: int | None = None,
    q: str | None = None,
    region_code: str | None = None,
    page: PageRequest,
) -> tuple[Sequence[Any], int]:
    """A page of the organisations in the principal's scope as plain rows of ``ORG_COLUMNS``,
    and the total."""
    stmt = select(*ORG_COLUMNS).where(principal.scope.clause(Org.id))
    if parent_id is not None:
        stmt = stmt.where(Org.parent_id == parent_id)
    if q:
        stmt = stmt.where(or_(search.contains(Org.name, q), search.contains(Org.address, q)))
    if region_code:
        prefix = region_code.rstrip("0") or region_code
        stmt = stmt.where(search.starts_with(Org.region_code, prefix))
    stmt = order_by(stmt, page, _SORTS, "path").order_by(Org.region_code, Org.id)
    return fetch_rows(session, stmt, page)


_CHILD = aliased(Org)
_PARENT_IDS = ids_param("parent_ids")


def child_counts(session: Session, principal: Principal, ids: list[int]) -> dict[int, int]:
    """Visible children per org, for the tree's expand arrows."""
    if not ids:
        return {}
    rows = session.execute(
        select(_CHILD.parent_id, func.count())
        .where(one_of(_CHILD.parent_id, _PARENT_IDS), principal.scope.clause(_CHILD.id))
        .group_by(_CHILD.parent_id),
        {"parent_ids": ids},
    )
    return {parent: count for parent, count in rows if parent is not None}


@cache
def _region_name(code: str) -> str:
    table = region_table()
    return table.full_name(code) if table.get(code) else ""


def public_fields(org: Any, principal: Principal, children: int = 0) -> dict[str, Any]:
    """What ``OrgPublic`` shows of ``org`` (an ``Org`` or a row of ``ORG_COLUMNS``) to
    ``principal``, as a dict to validate (a page's at once)."""
    return {
        "id": org.id,
        "name": org.name,
        "parent_id": org.parent_id,
        "type": org.type,
        "region_code": org.region_code,
        "region_name": _region_name(org.region_code),
        "phone": org.phone,
        "address": org.address,
        "depth": org.depth,
        "child_count": children,
        "editable": principal.can("orgs:update") and principal.scope.contains(org.id),
        "version": org.version,
        "created_at": org.created_at,
        "updated_at": org.updated_at,
    }


def to_public(org: Org, principal: Principal, children: int = 0) -> OrgPublic:
    return OrgPublic.model_validate(public_fields(org, principal, children))


def _ensure_unique_name(
    session: Session, parent_id: int | None, name: str, own_id: int = 0
) -> None:
    clash = session.scalar(
        select(Org.id).where(Org.parent_id == parent_id, Org.name == name, Org.id != own_id)
    )
    if clash is not None:
        raise AppError(ErrorCode.ORG_NAME_TAKEN, details={"name": name})


def create_org(session: Session, principal: Principal, *, now: datetime, data: OrgCreate) -> Org:
    principal.require("orgs:create")
    parent = _visible(session, principal, data.parent_id)
    check_placement(data.type, data.region_code, parent)
    _ensure_unique_name(session, parent.id, data.name)
    org = add_org(session, now=now, parent=parent, **data.model_dump(exclude={"parent_id"}))
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.ORG_CREATE,
        entity_type=AuditEntity.ORG,
        entity_id=org.id,
        org_id=org.id,
        after=snapshot(org),
    )
    session.commit()
    return org


def add_org(
    session: Session,
    *,
    now: datetime,
    parent: Org | None,
    name: str,
    type: OrgType,
    region_code: str,
    phone: str | None = None,
    address: str | None = None,
) -> Org:
    """Insert a node and fill its materialised path; no checks, no audit, no commit."""
    org = Org(
        parent_id=parent.id if parent else None,
        name=name,
        type=type.value,
        region_code=region_code,
        phone=phone,
        address=address,
        created_at=now,
        updated_at=now,
        depth=parent.depth + 1 if parent else 0,
    )
    session.add(org)
    session.flush()
    # The path needs the new id; writing it outside the unit of work keeps version at 1.
    path = f"{parent.path if parent else '/'}{org.id}/"
    session.execute(update(Org).where(Org.id == org.id).values(path=path))
    set_committed_value(org, "path", path)
    return org


def update_org(
    session: Session, principal: Principal, org_id: int, *, now: datetime, data: OrgUpdate
) -> Org:
    principal.require("orgs:update")
    org = _visible(session, principal, org_id)
    check_version(data.version, org.version)
    before = snapshot(org)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    new_type = OrgType(changes.get("type") or org.type)
    new_region = changes.get("region_code") or org.region_code
    if new_type != org.type or new_region != org.region_code:
        _ensure_no_pending_steps(session, org)
    if "type" in changes or "region_code" in changes:
        parent = session.get(Org, org.parent_id) if org.parent_id else None
        check_placement(new_type, new_region, parent)
        for child in session.scalars(select(Org).where(Org.parent_id == org.id)):
            check_placement(
                OrgType(child.type), child.region_code, _as_parent(new_type, new_region)
            )
    if "name" in changes:
        _ensure_unique_name(session, org.parent_id, changes["name"], org.id)
    for key, value in changes.items():
        setattr(org, key, value.value if isinstance(value, OrgType) else value)
    org.updated_at = now
    old, new = audit.diff(before, snapshot(org))
    if new:
        audit.record(
            session,
            now=now,
            actor=principal.actor,
            action=AuditAction.ORG_UPDATE,
            entity_type=AuditEntity.ORG,
            entity_id=org.id,
            org_id=org.id,
            before=old,
            after=new,
        )
    if "type" in new:
        # an office acts for the bureau above it, a bureau for itself: who works which steps moved
        dispatch.release_unreachable(session, now=now, actor=principal.actor)
    session.commit()
    return org


def _ensure_no_pending_steps(session: Session, org: Org) -> None:
    """Steps are routed to a bureau by its type and region; changing either under pending steps
    would leave them with a bureau that no longer works them, and nobody could act."""
    pending = session.scalar(
        select(func.count())
        .select_from(ApprovalTask)
        .where(ApprovalTask.acting_org_id == org.id, ApprovalTask.status == PENDING)
    )
    if pending:
        raise AppError(ErrorCode.ORG_HAS_PENDING_STEPS, details={"count": pending})


def _as_parent(org_type: OrgType, region_code: str) -> Org:
    return Org(type=org_type.value, region_code=region_code)


def delete_org(
    session: Session, principal: Principal, org_id: int, *, now: datetime, version: int | None
) -> None:
    principal.require("orgs:delete")
    org = _visible(session, principal, org_id)
    check_version(version, org.version)
    if org.parent_id is None or org.id == principal.org_id:
        raise AppError(ErrorCode.ORG_ROOT_PROTECTED)
    checks = (
        (Org, Org.parent_id, ErrorCode.ORG_HAS_CHILDREN),
        (User, User.org_id, ErrorCode.ORG_HAS_USERS),
        (Role, Role.org_id, ErrorCode.ORG_HAS_ROLES),
    )
    for model, column, code in checks:
        count = session.scalar(select(func.count()).select_from(model).where(column == org.id))
        if count:
            raise AppError(code, details={"count": count})
    session.execute(delete(RoleScopeOrg).where(RoleScopeOrg.org_id == org.id))
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.ORG_DELETE,
        entity_type=AuditEntity.ORG,
        entity_id=org.id,
        org_id=org.parent_id,
        before=snapshot(org),
    )
    session.delete(org)
    session.commit()
