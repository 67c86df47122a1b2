"""From an approved 制证审批 to the 保安员证 record (D14).

The approval engine calls ``issue_from_review`` on the final approval of a ``guard_certificate``
application, in the approval's transaction: the approval and the card commit together or not at
all. The route hands the engine a ``CertificateIssuing`` (the signing keys and the province's
number rule from the app context), so the engine needs nothing else of this package.

The holder's particulars are those of the review's form (copied from the enrolment when the
review was opened); the photo is the newest 证件照 material (JPEG or PNG), of the review itself if
one was added there, else of the enrolment. No photo: the card is issued with ``photo_ref``
NULL (the list's 是否有照片 shows it, and printing refuses it).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, Material
from server.db.certificate_models import Certificate
from server.services.audit import Actor
from server.services.certificates.issue import Holder, issue_certificate
from server.services.certificates.keys import CertificateKeys
from shared.approvals import MaterialKind
from shared.certificates import DEFAULT_NUMBER_FORMAT, PHOTO_TITLE, Gender
from shared.enums import BusinessType

PHOTO_KINDS = (MaterialKind.jpeg.value, MaterialKind.png.value)
_GENDER = {Gender.male.label: Gender.male, Gender.female.label: Gender.female}


@dataclass(frozen=True)
class CertificateIssuing:
    """What issuing a card needs from the running server: its signing keys and the province's
    numbering rule (``SGSS_CERTIFICATE_NUMBER_FORMAT``)."""

    keys: CertificateKeys
    number_format: str = DEFAULT_NUMBER_FORMAT


def is_photo() -> ColumnElement[bool]:
    """A material that is a 证件照: so titled, and a JPEG or PNG."""
    return and_(
        Material.title.startswith(PHOTO_TITLE, autoescape=True),
        Material.media_type.in_(PHOTO_KINDS),
    )


def photo_ref(session: Session, application_ids: Sequence[int]) -> str | None:
    """The SHA-256 (materials store key) of the newest photo among the first of
    ``application_ids`` that has one; None when none has."""
    for application_id in application_ids:
        found = session.scalar(
            select(Material.sha256)
            .where(Material.application_id == application_id, is_photo())
            .order_by(Material.id.desc())
            .limit(1)
        )
        if found is not None:
            return found
    return None


def enrolment_of(review: Application) -> int:
    """The enrolment a review was opened for: the column the server set (the form says the
    same, for the reader)."""
    if review.source_application_id is None:
        raise ValueError(f"application {review.id} was not opened from an enrolment")
    return review.source_application_id


def holder_of(session: Session, review: Application) -> Holder:
    form = review.form
    enrolment_id = enrolment_of(review)
    return Holder(
        name=form["holder_name"],
        gender=_GENDER[form["gender"]],
        birth_date=date.fromisoformat(form["birth_date"]),
        id_number=form["id_number"],
        photo_ref=photo_ref(session, (review.id, enrolment_id)),
    )


def issue_from_review(
    session: Session,
    review: Application,
    issuing: CertificateIssuing,
    *,
    actor: Actor,
    issuing_org_id: int,
    issuing_authority: str | None,
    now: datetime,
) -> Certificate:
    """Issue the card of an approved ``guard_certificate`` review (not committed): holder from
    the form, photo from the materials, number by ``issuing.number_format``, the bureau that
    approved as 发证机关; linked to the enrolment (one certificate per enrolment)."""
    if review.business_type != BusinessType.guard_certificate:
        raise ValueError(f"{review.business_type} issues no certificate")
    return issue_certificate(
        session,
        issuing.keys,
        now=now,
        actor=actor,
        holder=holder_of(session, review),
        issuing_org_id=issuing_org_id,
        application_id=enrolment_of(review),
        issuing_authority=issuing_authority or None,
        number_rule=issuing.number_format,
    )
