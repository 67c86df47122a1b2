"""Issuing a 保安员证: its number, a random status-list slot, and the signed QR payload.

``issue_certificate`` is called by whatever approves a certificate (the 制证审批 step); it
takes the holder's particulars as the approved enrolment states them. ``make_card`` is the one
place a card is made, so a 补发 or 更正换发 edition is signed exactly like a first card.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db.certificate_models import Certificate, CertificateEvent
from server.db.models import Org
from server.services import audit
from server.services.approvals.numbering import next_value
from server.services.audit import Actor
from server.services.certificates.keys import CertificateKeys, signing_key
from server.services.errors import AppError, not_found
from server.services.sync import records_out
from shared.audit_actions import AuditAction, AuditEntity
from shared.certificate_payload import Claims, encode
from shared.certificate_status_list import MIN_SIZE
from shared.certificates import (
    DEFAULT_NUMBER_FORMAT,
    CertificateEventKind,
    CertificateStatus,
    Gender,
    counter_name,
    format_number,
)
from shared.china_time import china_day
from shared.errors import ErrorCode
from shared.masking import mask_id_number

DRAWS = 32  # a slot is free with probability ≥ 1/2, so 32 misses in a row never happen


@dataclass(frozen=True)
class Holder:
    """The particulars a card states about its holder."""

    name: str
    gender: Gender
    birth_date: date
    id_number: str
    photo_ref: str | None = None


def next_number(session: Session, *, rule: str, region_code: str, now: datetime) -> str:
    """The next number by this province's rule, from the gap-free counter of
    ``approvals.numbering`` (row-locked until commit: a rollback gives the number back)."""
    year = china_day(now).year
    serial = next_value(session, counter_name(rule, region_code=region_code, year=year))
    return format_number(rule, region_code=region_code, year=year, serial=serial)


def list_size(session: Session) -> int:
    """The status list's size: at least ``MIN_SIZE``, doubled while it would be more than half
    full after one more card (so a random draw finds a free slot at least half the time), and
    always past the highest slot in use. It only ever grows."""
    count, highest = session.execute(select(func.count(), func.max(Certificate.status_index))).one()
    size = MIN_SIZE
    while size < 2 * (count + 1) or size <= (highest or 0):
        size *= 2
    return size


def make_card(
    session: Session,
    keys: CertificateKeys,
    *,
    now: datetime,
    number: str,
    edition: int,
    holder: Holder,
    org: Org,
    issuing_authority: str,
    application_id: int | None,
    expires_on: date | None,
    supersedes_id: int | None,
) -> Certificate:
    """A signed card at a random free slot of the status list. Two cards drawing the same slot
    at once: the unique index refuses the second, which draws again inside a savepoint."""
    key, private = signing_key(session, keys)
    size = list_size(session)
    for _ in range(DRAWS):
        index = secrets.randbelow(size)
        claims = Claims(
            number=number,
            name=holder.name,
            id_masked=mask_id_number(holder.id_number) or "",
            issued_on=china_day(now),
            expires_on=expires_on,
            status_index=index,
            key_id=key.key_id,
            algorithm=key.algorithm,
        )
        try:
            payload = encode(claims, private)
        except ValueError as err:
            raise AppError(
                ErrorCode.CERTIFICATE_PARTICULARS_INVALID, details={"reason": str(err)}
            ) from err
        card = Certificate(
            number=number,
            edition=edition,
            holder_name=holder.name,
            gender=holder.gender.value,
            birth_date=holder.birth_date,
            id_number=holder.id_number,
            photo_ref=holder.photo_ref,
            issuing_authority=issuing_authority,
            org_id=org.id,
            region_code=org.region_code,
            application_id=application_id,
            issued_at=now,
            expires_on=expires_on,
            status=CertificateStatus.active.value,
            status_index=index,
            key_id=key.key_id,
            payload=payload,
            supersedes_id=supersedes_id,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(card)
                session.flush()
        except IntegrityError:
            if session.scalar(select(Certificate.id).where(Certificate.status_index == index)):
                continue  # the slot was taken meanwhile: draw again
            raise
        records_out.emit_certificate_issued(session, card, now=now)  # 内外网同步
        return card
    raise RuntimeError("no free status-list slot found")  # pragma: no cover


def issue_certificate(
    session: Session,
    keys: CertificateKeys,
    *,
    now: datetime,
    actor: Actor,
    holder: Holder,
    issuing_org_id: int,
    application_id: int | None,
    issuing_authority: str | None = None,
    expires_on: date | None = None,
    number_rule: str = DEFAULT_NUMBER_FORMAT,
) -> Certificate:
    """Issue the first card of a new certificate number, in the caller's transaction.

    ``issuing_org_id``: the bureau that issues it (its name is the 发证机关 unless
    ``issuing_authority`` says otherwise; its region sets the province of the number and the
    data scope). ``application_id``: the enrolment it was approved on; one certificate per
    enrolment. ``expires_on`` None: 长期有效. Audited; the history starts with an ``issue``
    event."""
    if application_id is not None:
        taken = select(Certificate.id).where(Certificate.application_id == application_id)
        if session.scalar(taken.limit(1)) is not None:
            raise AppError(
                ErrorCode.CERTIFICATE_ALREADY_ISSUED, details={"application_id": application_id}
            )
    org = session.get(Org, issuing_org_id)
    if org is None:
        raise not_found("org")
    number = next_number(session, rule=number_rule, region_code=org.region_code, now=now)
    card = make_card(
        session,
        keys,
        now=now,
        number=number,
        edition=1,
        holder=holder,
        org=org,
        issuing_authority=issuing_authority or org.name,
        application_id=application_id,
        expires_on=expires_on,
        supersedes_id=None,
    )
    add_event(session, card, CertificateEventKind.issue, now=now, actor=actor, reason="发证")
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.CERTIFICATE_ISSUE,
        entity_type=AuditEntity.CERTIFICATE,
        entity_id=card.id,
        org_id=card.org_id,
        after={
            "number": card.number,
            "holder_name": card.holder_name,
            "id_number_masked": mask_id_number(card.id_number),
            "application_id": application_id,
            "key_id": card.key_id,
        },
    )
    return card


def add_event(
    session: Session,
    card: Certificate,
    kind: CertificateEventKind,
    *,
    now: datetime,
    actor: Actor,
    reason: str,
    reason_code: str | None = None,
    basis: str | None = None,
    details: dict[str, object] | None = None,
    new_certificate_id: int | None = None,
) -> CertificateEvent:
    event = CertificateEvent(
        certificate_id=card.id,
        number=card.number,
        kind=kind.value,
        reason_code=reason_code,
        reason=reason,
        basis=basis,
        details=details,
        new_certificate_id=new_certificate_id,
        occurred_at=now,
        actor_id=actor.id,
        actor_name=actor.name[:100],
    )
    session.add(event)
    return event
