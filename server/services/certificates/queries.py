"""Reading certificates: the list (filters, paging, sorting), one card, a number's history,
and the public lookup — each answer shaped for who asks."""

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.db.certificate_models import Certificate, CertificateEvent
from server.db.collation import chinese
from server.db.exam_models import ExamCandidate
from server.services.authz import Principal
from server.services.certificates.lifecycle import card_in_scope
from server.services.paging import PageRequest, fetch_page, order_by
from server.services.search import contains, starts_with
from shared.certificates import CertificateEventKind, CertificateStatus, Gender, PrintState
from shared.china_time import china_day, day_start
from shared.masking import mask_id_number
from shared.schemas.certificates import (
    CertificateEventPublic,
    CertificateHistory,
    CertificatePublic,
    LookupItem,
)

SENSITIVE = "certificates:view_sensitive"
_SORTS = {
    "issued_at": Certificate.issued_at,
    "number": Certificate.number,
    "holder_name": chinese(Certificate.holder_name),
    "status": Certificate.status,
    "print_state": Certificate.print_state,
    "printed_at": Certificate.printed_at,
    "id": Certificate.id,
}


def region_prefix(code: str) -> str:
    """``330000`` → ``33``, ``330100`` → ``3301``: the codes within a region share it."""
    prefix = code
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def list_certificates(
    session: Session,
    principal: Principal,
    *,
    status: CertificateStatus | None = None,
    region_code: str | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    has_photo: bool | None = None,
    print_state: PrintState | None = None,
    exam_id: int | None = None,
    q: str | None = None,
    page: PageRequest,
) -> tuple[Sequence[Certificate], int]:
    stmt = select(Certificate).where(principal.scope.clause(Certificate.org_id))
    if status is not None:
        stmt = stmt.where(Certificate.status == status.value)
    if print_state is not None:
        stmt = stmt.where(Certificate.print_state == print_state.value)
    if exam_id is not None:  # the cards of the enrolments that sat this exam
        sat = select(ExamCandidate.application_id).where(ExamCandidate.exam_id == exam_id)
        stmt = stmt.where(Certificate.application_id.in_(sat))
    if region_code:
        stmt = stmt.where(starts_with(Certificate.region_code, region_prefix(region_code)))
    if issued_from is not None:
        stmt = stmt.where(Certificate.issued_at >= day_start(issued_from))
    if issued_to is not None:
        stmt = stmt.where(Certificate.issued_at < day_start(issued_to + timedelta(days=1)))
    if has_photo is not None:
        photo = Certificate.photo_ref
        stmt = stmt.where(photo.is_not(None) if has_photo else photo.is_(None))
    if q:
        text = q.strip()
        stmt = stmt.where(
            or_(
                contains(Certificate.holder_name, text),
                Certificate.number == text,
                Certificate.id_number == text.upper(),
            )
        )
    stmt = order_by(stmt, page, _SORTS, "-issued_at")
    return fetch_page(session, stmt.order_by(Certificate.id.desc()), page)


def to_public(card: Certificate, principal: Principal) -> CertificatePublic:
    full = principal.can(SENSITIVE)
    return CertificatePublic(
        id=card.id,
        number=card.number,
        edition=card.edition,
        holder_name=card.holder_name,
        gender=card.gender,
        gender_label=Gender(card.gender).label,
        birth_date=card.birth_date,
        id_number=card.id_number if full else mask_id_number(card.id_number) or "",
        photo_ref=card.photo_ref,
        has_photo=card.photo_ref is not None,
        issuing_authority=card.issuing_authority,
        org_id=card.org_id,
        region_code=card.region_code,
        application_id=card.application_id,
        issued_at=card.issued_at,
        expires_on=card.expires_on,
        status=card.status,
        status_label=CertificateStatus(card.status).label,
        status_changed_at=card.status_changed_at,
        key_id=card.key_id,
        payload=card.payload,
        supersedes_id=card.supersedes_id,
        version=card.version,
        print_state=card.print_state,
        print_state_label=PrintState(card.print_state).label,
        printed=card.print_state == PrintState.printed.value,
        printed_at=card.printed_at,
    )


def history(session: Session, principal: Principal, certificate_id: int) -> CertificateHistory:
    """Every edition of the card's number and every event on them, oldest first."""
    card = card_in_scope(session, principal, certificate_id)
    editions = session.scalars(
        select(Certificate).where(Certificate.number == card.number).order_by(Certificate.edition)
    ).all()
    edition_of = {c.id: c.edition for c in editions}
    events = session.scalars(
        select(CertificateEvent)
        .where(CertificateEvent.number == card.number)
        .order_by(CertificateEvent.occurred_at, CertificateEvent.id)
    ).all()
    return CertificateHistory(
        number=card.number,
        editions=[to_public(c, principal) for c in editions],
        events=[
            CertificateEventPublic(
                id=e.id,
                certificate_id=e.certificate_id,
                edition=edition_of.get(e.certificate_id, 0),
                kind=e.kind,
                kind_label=CertificateEventKind(e.kind).label,
                reason_code=e.reason_code,
                reason=e.reason,
                basis=e.basis,
                details=e.details,
                new_certificate_id=e.new_certificate_id,
                occurred_at=e.occurred_at,
                actor_name=e.actor_name,
            )
            for e in events
        ],
    )


LOOKUP_LIMIT = 10


def lookup(
    session: Session, *, name: str, id_number: str | None, number: str | None
) -> list[LookupItem]:
    """The public lookup (seed 003 电子证照查询): name and ID number, or name and certificate
    number, must both match. Answers the latest edition of each matching number only, with the
    ID number masked, so nothing past what the card face shows is revealed."""
    stmt = select(Certificate).where(Certificate.holder_name == name.strip())
    if id_number is not None:
        stmt = stmt.where(Certificate.id_number == id_number)
    if number is not None:
        stmt = stmt.where(Certificate.number == number.strip())
    cards = session.scalars(stmt.order_by(Certificate.number, Certificate.edition.desc())).all()
    latest: dict[str, Certificate] = {}
    for card in cards:
        latest.setdefault(card.number, card)
    return [
        LookupItem(
            number=card.number,
            holder_name=card.holder_name,
            id_number_masked=mask_id_number(card.id_number) or "",
            gender_label=Gender(card.gender).label,
            issued_on=china_day(card.issued_at),
            expires_on=card.expires_on,
            issuing_authority=card.issuing_authority,
            status=card.status,
            status_label=CertificateStatus(card.status).label,
        )
        for card in list(latest.values())[:LOOKUP_LIMIT]
    ]
