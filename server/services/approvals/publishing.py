"""Publishing process definitions as numbered versions, and finding the published ones.

Versions of a business type count up from 1 and are never changed: an application pins the
version it began with, so publishing a new one only affects applications submitted later.
Publishing content identical to the latest version (compared by the SHA-256 of its canonical
JSON, so comments and layout of the YAML do not matter) returns that version instead of adding
one. Functions here flush; the caller commits.
"""

import hashlib
import json
import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from server.db.approval_models import WorkflowDefinition
from server.services import audit
from server.services.approvals.definition import ProcessDef
from server.services.approvals.definition_files import (
    DefinitionError,
    default_definition_paths,
    parse_definition,
)
from server.services.errors import AppError
from shared.audit_actions import AuditAction, AuditEntity
from shared.enums import BusinessType
from shared.errors import ErrorCode
from shared.schemas.workflows import WorkflowPublic, WorkflowStepPublic

_TYPE_ORDER = {str(t): n for n, t in enumerate(BusinessType)}


def canonical_json(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


LATEST = (
    select(WorkflowDefinition)
    .where(WorkflowDefinition.business_type == bindparam("business_type"))
    .order_by(WorkflowDefinition.version.desc())
    .limit(1)
)
"""The latest published version of ``business_type``: built once, every intake asks it
(``intake`` adds the region's bureaus to it)."""


def latest(session: Session, business_type: BusinessType | str) -> WorkflowDefinition | None:
    return session.scalars(LATEST, {"business_type": str(business_type)}).first()


def _in_type_order(rows: list[WorkflowDefinition]) -> list[WorkflowDefinition]:
    return sorted(rows, key=lambda r: (_TYPE_ORDER.get(r.business_type, 99), -r.version))


def list_published(
    session: Session, *, business_type: BusinessType | str | None = None
) -> list[WorkflowDefinition]:
    """Every published version, in business-type order, newest version first (with their
    content, which listings parse)."""
    stmt = select(WorkflowDefinition).options(undefer(WorkflowDefinition.content))
    if business_type is not None:
        stmt = stmt.where(WorkflowDefinition.business_type == str(business_type))
    return _in_type_order(list(session.scalars(stmt)))


def latest_all(session: Session) -> list[WorkflowDefinition]:
    """The latest version of every business type that has one, in business-type order (with
    their content, which listings parse)."""
    newest = (
        select(
            WorkflowDefinition.business_type,
            func.max(WorkflowDefinition.version).label("version"),
        )
        .group_by(WorkflowDefinition.business_type)
        .subquery()
    )
    stmt = (
        select(WorkflowDefinition)
        .join(
            newest,
            (WorkflowDefinition.business_type == newest.c.business_type)
            & (WorkflowDefinition.version == newest.c.version),
        )
        .options(undefer(WorkflowDefinition.content))
    )
    return _in_type_order(list(session.scalars(stmt)))


_PARSED: dict[tuple[str, int], ProcessDef] = {}


def process_of(row: WorkflowDefinition) -> ProcessDef:
    """The parsed definition, parsed once per process: a published version never changes, and
    its content digest names it even across databases (tests, several deployments)."""
    key = (row.sha256, row.version)
    parsed = _PARSED.get(key)
    if parsed is None:
        parsed = _PARSED[key] = ProcessDef.from_json(row.content, version=row.version)
    return parsed


def _serialise_publishers(session: Session, business_type: str) -> None:
    """On PostgreSQL, publishers of one business type take turns until commit, so the second
    reads the version the first wrote. SQLite allows one writer at a time anyway; the unique
    (business_type, version) constraint stays the last word on both."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"workflow_definitions:{business_type}".encode())
        session.execute(select(func.pg_advisory_xact_lock(key)))


def publish(
    session: Session,
    definition: ProcessDef,
    *,
    source_name: str,
    source_text: str,
    now: datetime,
    actor: audit.Actor,
) -> WorkflowDefinition:
    """The next version of ``definition``'s business type, or the latest if nothing changed."""
    business_type = str(definition.business_type)
    _serialise_publishers(session, business_type)
    content = definition.to_json()
    digest = content_digest(content)
    current = latest(session, business_type)
    if current is not None and current.sha256 == digest:
        return current
    row = WorkflowDefinition(
        business_type=business_type,
        version=1 if current is None else current.version + 1,
        name=definition.name,
        content=content,
        source_name=source_name[:200],
        sha256=digest,
        published_at=now,
        published_by=actor.name[:64],
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as err:
        raise AppError(
            ErrorCode.CONFLICT,
            "该业务类型的审批流程正由他人同时发布，请刷新后重试",
            details={"business_type": business_type, "version": row.version},
        ) from err
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.WORKFLOW_PUBLISH,
        entity_type=AuditEntity.WORKFLOW_DEFINITION,
        entity_id=row.id,
        before=None if current is None else {"version": current.version, "sha256": current.sha256},
        after={
            "business_type": business_type,
            "version": row.version,
            "name": row.name,
            "source_name": row.source_name,
            "sha256": digest,
            "source_text": source_text,
        },
    )
    return row


def publish_defaults(
    session: Session, *, now: datetime, actor: audit.Actor
) -> list[WorkflowDefinition]:
    """Publish each shipped definition whose business type has no version yet.

    Types already published are left alone: a newer shipped file never silently replaces what
    an administrator published; it is published with ``sgss-server workflow publish``.
    """
    published = []
    for path in default_definition_paths():
        text = path.read_text(encoding="utf-8")
        definition = parse_definition(text, path.name)
        if latest(session, definition.business_type) is None:
            published.append(
                publish(
                    session,
                    definition,
                    source_name=path.name,
                    source_text=text,
                    now=now,
                    actor=actor,
                )
            )
    return published


def invalid(err: DefinitionError) -> AppError:
    """The API's answer to a definition that does not validate: every problem with its line."""
    more = len(err.problems) - 1
    message = f"审批流程定义有误：{err}" + (f"（另有 {more} 处问题）" if more else "")
    return AppError(
        ErrorCode.WORKFLOW_INVALID,
        message,
        details=[{"line": p.line, "message": p.message} for p in err.problems],
    )


def to_public(row: WorkflowDefinition) -> WorkflowPublic:
    business_type = BusinessType(row.business_type)
    return WorkflowPublic(
        id=row.id,
        business_type=business_type,
        label=business_type.label,
        version=row.version,
        name=row.name,
        source_name=row.source_name,
        sha256=row.sha256,
        published_at=row.published_at,
        published_by=row.published_by,
        steps=[
            WorkflowStepPublic(
                key=step.key,
                name=step.name,
                level=step.level,
                level_label=step.level.label,
                role=step.role,
                role_label=step.role.label,
                time_limit_days=step.time_limit_days,
                gates=list(step.gates),
                gate_labels=[g.label for g in step.gates],
                final=step.final,
                next=step.next,
            )
            for step in process_of(row).steps
        ],
    )
