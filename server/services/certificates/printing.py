"""Printing a 保安员证: the card's face (with its photo from the materials store), its PDF, and
the record of what a print came to — 打印 (first print), 补打 (printed again, with a reason),
打印未完成 (failed or cancelled, with the reason).

Only an active card prints, and only with a photo (``CERTIFICATE_NO_PHOTO``). The first print
is recorded by one conditional UPDATE (``print_state`` not yet ``printed``): two desks (or a
double click) reporting the same first print race on the row, and exactly one of them changes
it — on PostgreSQL the second waits for the first's row lock and then finds the row printed;
SQLite serialises the writers. The loser is told 已打印 (``CERTIFICATE_ALREADY_PRINTED``). Every
outcome is a certificate event and an audit record in the caller's transaction. Printing is no
change of the card's particulars, so the card's version stays as it was.
"""

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from server.db.certificate_models import Certificate
from server.services.authz import Principal
from server.services.certificates.issue import add_event
from server.services.certificates.lifecycle import audit_card, card_in_scope, record_reprint
from server.services.documents.card_pdf import card_pdf
from server.services.errors import AppError
from server.services.materials.store import MaterialStore
from shared.audit_actions import AuditAction
from shared.card_layout import CardFace
from shared.certificates import (
    CertificateEventKind,
    CertificateStatus,
    Gender,
    PrintChannel,
    PrintState,
)
from shared.china_time import china_day
from shared.errors import ErrorCode

SHA256_PREFIX = "sha256:"


def photo_bytes(store: MaterialStore, photo_ref: str | None) -> bytes | None:
    """The photo's bytes, or None when the card has none or its file is not on this server."""
    if not photo_ref:
        return None
    try:
        path = store.path(photo_ref.removeprefix(SHA256_PREFIX))
    except ValueError:
        return None
    return path.read_bytes() if path.is_file() else None


def _no_photo(card: Certificate) -> AppError:
    if card.photo_ref is None:
        return AppError(ErrorCode.CERTIFICATE_NO_PHOTO, details={"certificate_id": card.id})
    return AppError(
        ErrorCode.CERTIFICATE_NO_PHOTO,
        "该证书的照片文件在服务器上缺失，不能打印；请联系系统管理员或更正换发补充照片",
        {"certificate_id": card.id, "photo_ref": card.photo_ref},
    )


def _active(card: Certificate) -> None:
    if card.status != CertificateStatus.active.value:
        raise AppError(
            ErrorCode.CERTIFICATE_NOT_ACTIVE,
            f"该证书{CertificateStatus(card.status).label}，不能打印",
            {"status": card.status},
        )


def face_of(card: Certificate, photo: bytes | None) -> CardFace:
    """What the card states, as the layout takes it (the full ID number: it is on the card)."""
    return CardFace(
        name=card.holder_name,
        gender=Gender(card.gender).label,
        birth_date=card.birth_date,
        id_number=card.id_number,
        certificate_number=card.number,
        issuing_authority=card.issuing_authority,
        issue_date=china_day(card.issued_at),
        photo=photo,
        qr_text=card.payload,
    )


def printable(
    session: Session, principal: Principal, store: MaterialStore, certificate_id: int
) -> tuple[Certificate, bytes]:
    """An active card in the caller's scope and its photo, or the reason it cannot print."""
    card = card_in_scope(session, principal, certificate_id)
    _active(card)
    photo = photo_bytes(store, card.photo_ref)
    if photo is None:
        raise _no_photo(card)
    return card, photo


def pdf_of(
    session: Session, principal: Principal, store: MaterialStore, certificate_id: int
) -> tuple[Certificate, bytes]:
    """The card as a two-page CR80 PDF (front, back), for 打印到PDF."""
    card, photo = printable(session, principal, store, certificate_id)
    return card, card_pdf(face_of(card, photo))


def _before(card: Certificate, was: str) -> dict[str, object]:
    return {"number": card.number, "edition": card.edition, "print_state": was}


def record_printed(
    session: Session,
    principal: Principal,
    store: MaterialStore,
    certificate_id: int,
    *,
    now: datetime,
    channel: PrintChannel,
) -> Certificate:
    """The card's first print went through ``channel``: 已打印, once (see the module note)."""
    card, _photo = printable(session, principal, store, certificate_id)
    was = card.print_state
    changed = session.execute(
        update(Certificate)
        .where(Certificate.id == card.id, Certificate.print_state != PrintState.printed.value)
        .values(print_state=PrintState.printed.value, printed_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise AppError(
            ErrorCode.CERTIFICATE_ALREADY_PRINTED,
            details={"certificate_id": card.id, "number": card.number},
        )
    session.expire(card, ["print_state", "printed_at"])
    add_event(
        session,
        card,
        CertificateEventKind.printed,
        now=now,
        actor=principal.actor,
        reason=channel.label,
        reason_code=channel.value,
    )
    audit_card(
        session,
        principal,
        card,
        AuditAction.CERTIFICATE_PRINT,
        now=now,
        before=_before(card, was),
        after={"print_state": PrintState.printed.value, "channel": channel.value},
    )
    session.flush()
    return card


def record_reprinted(
    session: Session,
    principal: Principal,
    store: MaterialStore,
    certificate_id: int,
    *,
    now: datetime,
    channel: PrintChannel,
    reason: str,
) -> Certificate:
    """补打: a printed card printed again (spoiled, lost before it was handed over), with the
    reason. A card never printed is printed, not reprinted (``CERTIFICATE_NOT_PRINTED``)."""
    card, _photo = printable(session, principal, store, certificate_id)
    if card.print_state != PrintState.printed.value:
        raise AppError(ErrorCode.CERTIFICATE_NOT_PRINTED, details={"certificate_id": card.id})
    record_reprint(session, principal, card.id, now=now, reason=reason, channel=channel)
    session.flush()
    return card


def record_print_failed(
    session: Session,
    principal: Principal,
    certificate_id: int,
    *,
    now: datetime,
    channel: PrintChannel,
    reason: str,
) -> Certificate:
    """A print that did not complete (printer fault, cancelled): the reason goes into the
    history; a card not yet printed becomes 打印未完成, a printed one stays 已打印 (it is
    already in the holder's hands or on the desk: only the 补打 failed)."""
    card = card_in_scope(session, principal, certificate_id)
    was = card.print_state
    session.execute(
        update(Certificate)
        .where(Certificate.id == card.id, Certificate.print_state != PrintState.printed.value)
        .values(print_state=PrintState.print_failed.value)
        .execution_options(synchronize_session=False)
    )
    session.expire(card, ["print_state"])
    add_event(
        session,
        card,
        CertificateEventKind.print_failed,
        now=now,
        actor=principal.actor,
        reason=reason,
        reason_code=channel.value,
    )
    audit_card(
        session,
        principal,
        card,
        AuditAction.CERTIFICATE_PRINT_FAILED,
        now=now,
        before=_before(card, was),
        after={"channel": channel.value, "reason": reason},
    )
    session.flush()
    return card
