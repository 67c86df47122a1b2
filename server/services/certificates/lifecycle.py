"""The lifecycle of a 保安员证: 补发, 更正换发, 吊销, 注销 and 补打.

Each is permissioned by its route, limited to the caller's data scope (a card outside it is
not found), checked against the version the clerk saw, recorded as a certificate event with
its reason, and audited — all in the caller's transaction. Only an active card can be acted on.

补发 (lost or damaged) and 更正换发 (particulars corrected) keep the certificate *number*: the
qualification is the same, and employers and the public look it up by that number (seed 003
handles both as a 换证 of the same certificate). They make the next edition, a new card with
its own status-list slot and signature; the previous card becomes ``replaced``, so its QR
reports 已作废.
"""

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from server.db.certificate_models import Certificate
from server.db.models import Org
from server.services import audit
from server.services.authz import Principal
from server.services.certificates.issue import Holder, add_event, make_card
from server.services.certificates.keys import CertificateKeys
from server.services.errors import AppError, check_version, not_found
from server.services.sync import records_out
from shared.audit_actions import AuditAction, AuditEntity
from shared.certificates import (
    CancelReason,
    CertificateEventKind,
    CertificateStatus,
    Gender,
    PrintChannel,
    ReissueReason,
)
from shared.errors import ErrorCode
from shared.masking import mask_id_number


def card_in_scope(session: Session, principal: Principal, certificate_id: int) -> Certificate:
    card = session.get(Certificate, certificate_id)
    if card is None or not principal.scope.contains(card.org_id):
        raise not_found("certificate")
    return card


def _active(
    session: Session, principal: Principal, certificate_id: int, version: int | None
) -> Certificate:
    card = card_in_scope(session, principal, certificate_id)
    check_version(version, card.version)
    if card.status != CertificateStatus.active.value:
        raise AppError(
            ErrorCode.CERTIFICATE_NOT_ACTIVE,
            f"该证书{CertificateStatus(card.status).label}，不能执行该操作",
            {"status": card.status},
        )
    return card


def _set_status(card: Certificate, status: CertificateStatus, now: datetime) -> None:
    card.status = status.value
    card.status_changed_at = now
    card.updated_at = now


def _holder(card: Certificate) -> Holder:
    return Holder(
        name=card.holder_name,
        gender=Gender(card.gender),
        birth_date=card.birth_date,
        id_number=card.id_number,
        photo_ref=card.photo_ref,
    )


def _next_edition(
    session: Session,
    keys: CertificateKeys,
    old: Certificate,
    holder: Holder,
    *,
    now: datetime,
) -> Certificate:
    org = session.get(Org, old.org_id)
    assert org is not None
    _set_status(old, CertificateStatus.replaced, now)
    session.flush()  # the old card's version is checked (and taken) before the new one exists
    return make_card(
        session,
        keys,
        now=now,
        number=old.number,
        edition=old.edition + 1,
        holder=holder,
        org=org,
        issuing_authority=old.issuing_authority,
        application_id=old.application_id,
        expires_on=old.expires_on,
        supersedes_id=old.id,
    )


def audit_card(
    session: Session,
    principal: Principal,
    card: Certificate,
    action: AuditAction,
    *,
    now: datetime,
    after: dict[str, Any],
    before: dict[str, Any] | None = None,
) -> None:
    """One audit record of a certificate action; ``before`` defaults to its number and edition
    (the printing actions add the print state they found)."""
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=action,
        entity_type=AuditEntity.CERTIFICATE,
        entity_id=card.id,
        org_id=card.org_id,
        before=before or {"number": card.number, "edition": card.edition},
        after=after,
    )


def reissue(
    session: Session,
    keys: CertificateKeys,
    principal: Principal,
    certificate_id: int,
    *,
    now: datetime,
    version: int | None,
    reason: ReissueReason,
    note: str = "",
) -> Certificate:
    """补发: a lost or damaged card is replaced by a new one with the same particulars."""
    old = _active(session, principal, certificate_id, version)
    new = _next_edition(session, keys, old, _holder(old), now=now)
    text = f"{reason.label}{('：' + note) if note else ''}"
    add_event(
        session,
        old,
        CertificateEventKind.reissue,
        now=now,
        actor=principal.actor,
        reason=text,
        reason_code=reason.value,
        new_certificate_id=new.id,
    )
    audit_card(
        session,
        principal,
        old,
        AuditAction.CERTIFICATE_REISSUE,
        now=now,
        after={"new_certificate_id": new.id, "edition": new.edition, "reason": text},
    )
    return new


CORRECTABLE = ("holder_name", "gender", "birth_date", "id_number", "photo_ref")


def correct(
    session: Session,
    keys: CertificateKeys,
    principal: Principal,
    certificate_id: int,
    *,
    now: datetime,
    version: int | None,
    reason: str,
    changes: dict[str, Any],
) -> Certificate:
    """更正换发: a new card with corrected particulars (``CORRECTABLE`` fields)."""
    old = _active(session, principal, certificate_id, version)
    holder = _holder(old)
    fields = {
        "holder_name": "name",
        "gender": "gender",
        "birth_date": "birth_date",
        "id_number": "id_number",
        "photo_ref": "photo_ref",
    }
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for column, value in changes.items():
        if column not in CORRECTABLE or value is None:
            continue
        current = getattr(holder, fields[column])
        if value != current:
            before[column], after[column] = current, value
            holder = replace(holder, **{fields[column]: value})
    if not after:
        raise AppError(ErrorCode.CERTIFICATE_NO_CHANGE)
    new = _next_edition(session, keys, old, holder, now=now)
    shown = {k: _shown(k, v) for k, v in after.items()}
    was = {k: _shown(k, v) for k, v in before.items()}
    add_event(
        session,
        old,
        CertificateEventKind.correct,
        now=now,
        actor=principal.actor,
        reason=reason,
        details={"before": was, "after": shown},
        new_certificate_id=new.id,
    )
    audit_card(
        session,
        principal,
        old,
        AuditAction.CERTIFICATE_CORRECT,
        now=now,
        before={"number": old.number, "edition": old.edition, **was},
        after={"new_certificate_id": new.id, "reason": reason, **shown},
    )
    return new


def _shown(field: str, value: Any) -> Any:
    """A corrected value as history and the audit log keep it: ID numbers masked, dates as
    text, genders as their value."""
    if field == "id_number":
        return mask_id_number(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Gender):
        return value.value
    return value


def revoke(
    session: Session,
    principal: Principal,
    certificate_id: int,
    *,
    now: datetime,
    version: int | None,
    reason: str,
    basis: str,
) -> Certificate:
    """吊销 by the police, with the reason and its legal basis."""
    card = _active(session, principal, certificate_id, version)
    _set_status(card, CertificateStatus.revoked, now)
    add_event(
        session,
        card,
        CertificateEventKind.revoke,
        now=now,
        actor=principal.actor,
        reason=reason,
        basis=basis,
    )
    audit_card(
        session,
        principal,
        card,
        AuditAction.CERTIFICATE_REVOKE,
        now=now,
        after={"status": card.status, "reason": reason, "basis": basis},
    )
    records_out.emit_certificate_revoked(session, card, reason=reason, basis=basis, now=now)
    session.flush()
    return card


def cancel(
    session: Session,
    principal: Principal,
    certificate_id: int,
    *,
    now: datetime,
    version: int | None,
    reason: CancelReason,
    note: str = "",
) -> Certificate:
    """注销: the holder died, asked for it, or another reason given in ``note``."""
    card = _active(session, principal, certificate_id, version)
    _set_status(card, CertificateStatus.cancelled, now)
    text = f"{reason.label}{('：' + note) if note else ''}"
    add_event(
        session,
        card,
        CertificateEventKind.cancel,
        now=now,
        actor=principal.actor,
        reason=text,
        reason_code=reason.value,
    )
    audit_card(
        session,
        principal,
        card,
        AuditAction.CERTIFICATE_CANCEL,
        now=now,
        after={"status": card.status, "reason": text},
    )
    records_out.emit_certificate_cancelled(session, card, reason_label=reason.label, now=now)
    session.flush()
    return card


def record_reprint(
    session: Session,
    principal: Principal,
    certificate_id: int,
    *,
    now: datetime,
    reason: str,
    channel: PrintChannel | None = None,
) -> Certificate:
    """补打: the same card printed again (a spoiled print); no new card, no new number. Called
    by ``printing.record_reprinted`` once a reprint has gone to the printer."""
    card = _active(session, principal, certificate_id, None)
    code = channel.value if channel is not None else None
    add_event(
        session,
        card,
        CertificateEventKind.reprint,
        now=now,
        actor=principal.actor,
        reason=reason,
        reason_code=code,
    )
    audit_card(
        session,
        principal,
        card,
        AuditAction.CERTIFICATE_REPRINT,
        now=now,
        after={"reason": reason, "channel": code},
    )
    return card
