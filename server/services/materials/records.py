"""Material rows: adding one to an application's current round, listing, finding one.

``add_material`` flushes and leaves the commit to the caller, so an intake that receives the
form and its scans together can keep them in one transaction. The bytes are stored before the
row is written; a refusal (type, size, name, title) happens before anything reaches the disk.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, Material
from server.services import audit
from server.services.approvals.access import visible_clause
from server.services.authz import Principal
from server.services.errors import AppError, not_found
from server.services.materials.kinds import classify, clean_filename, expected_kind
from server.services.materials.store import MaterialStore
from shared.approvals import MaterialKind
from shared.audit_actions import AuditAction, AuditEntity
from shared.errors import ErrorCode
from shared.schemas.materials import TITLE_MAX, MaterialPublic


def _clean_title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > TITLE_MAX:
        raise AppError(ErrorCode.VALIDATION_ERROR, message=f"材料名称须为 1 至 {TITLE_MAX} 个字符")
    return title


def snapshot(material: Material) -> dict[str, Any]:
    return {
        "application_id": material.application_id,
        "round": material.round,
        "title": material.title,
        "filename": material.filename,
        "media_type": material.media_type,
        "size": material.size,
        "sha256": material.sha256,
    }


def add_material(
    session: Session,
    principal: Principal,
    application: Application,
    *,
    title: str,
    filename: str | None,
    chunks: Iterable[bytes],
    store: MaterialStore,
    max_bytes: int,
    now: datetime,
) -> Material:
    """Attach a file to the application's current round. ``application`` must already have
    been found through ``get_application`` for this principal."""
    principal.require("applications:intake")
    title = _clean_title(title)
    name = clean_filename(filename)
    expected_kind(name)
    blob = store.put(chunks, max_bytes=max_bytes, classify=lambda head: classify(head, name))
    material = Material(
        application_id=application.id,
        round=application.round,
        title=title,
        filename=name,
        media_type=blob.kind.value,
        size=blob.size,
        sha256=blob.sha256,
        uploaded_at=now,
        uploaded_by=principal.name,
    )
    session.add(material)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.MATERIAL_UPLOAD,
        entity_type=AuditEntity.MATERIAL,
        entity_id=material.id,
        org_id=application.org_id,
        after=snapshot(material),
    )
    return material


def list_materials(
    session: Session, application: Application, *, round: int | None = None
) -> list[Material]:
    """Oldest first; every round unless ``round`` is given."""
    stmt = select(Material).where(Material.application_id == application.id)
    if round is not None:
        stmt = stmt.where(Material.round == round)
    return list(session.scalars(stmt.order_by(Material.id)))


def get_material(session: Session, principal: Principal, material_id: int) -> Material:
    """A material the caller may see through its application; anything else is 404."""
    material = session.scalar(
        select(Material)
        .join(Application, Application.id == Material.application_id)
        .where(Material.id == material_id, visible_clause(session, principal))
    )
    if material is None:
        raise not_found("material")
    return material


def to_public(material: Material) -> MaterialPublic:
    return MaterialPublic(
        id=material.id,
        application_id=material.application_id,
        round=material.round,
        title=material.title,
        filename=material.filename,
        media_type=MaterialKind(material.media_type),
        size=material.size,
        sha256=material.sha256,
        uploaded_at=material.uploaded_at,
        uploaded_by=material.uploaded_by,
    )
