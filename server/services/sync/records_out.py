"""The outbound record types (docs/sync.md, Record catalogue): one builder per type, each
checked against ``OUTBOUND_FIELDS`` before ``outbox.emit`` queues it.

What may cross (SYNC.md) is decided here and nowhere else: a builder copies named facts into
``data``, and ``emit_checked`` refuses (``OutboundFieldError``) any key, at any depth, that
its type's allowlist does not name, so a record carrying something unlisted cannot be written.
Internal opinions, approver identities, screening results, audit data, users and roles have no
field in any allowlist. ID numbers never cross either: the portal knows each person by the
``external_ref`` of the application it filed (the portal holds the full application), so every
record names people by that reference.

Only what concerns the portal is sent: an application filed there (``source == "extranet"``
with an ``external_ref``), and the exam seats and certificates of such enrolments. An
intranet-filed application has no one on the portal to tell.

Every hook calls a ``emit_…`` function here in the transaction of the business change; the
caller commits. Times are the wire format (``stamp``), money is whole fen.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, IssuedDocument
from server.db.certificate_models import Certificate
from server.db.exam_models import Exam, ExamCandidate
from server.db.sync_models import SyncOutboxRecord
from server.services.materials.store import MaterialStore
from server.services.sync import outbox
from shared.exams import PassRule
from shared.sync.bundle import stamp

if TYPE_CHECKING:
    from server.services.certificates.keys import CertificateKeys

EXTRANET = "extranet"
"""``applications.source`` of an application filed on the portal (and received by sync)."""

APPLICATION_ACCEPTED = "application.accepted"
APPLICATION_PROGRESS = "application.progress"
APPLICATION_DECIDED = "application.decided"
RECORD_REJECTED = "record.rejected"
EXAM_ARRANGED = "exam.arranged"
EXAM_CANCELLED = "exam.cancelled"
EXAM_SCORES_NOTIFIED = "exam.scores_notified"
CERTIFICATE_ISSUED = "certificate.issued"
CERTIFICATE_REVOKED = "certificate.revoked"
CERTIFICATE_CANCELLED = "certificate.cancelled"
CERTIFICATE_STATUS_LIST = "certificate.status_list"

OUTBOUND_FIELDS: dict[str, frozenset[str]] = {
    APPLICATION_ACCEPTED: frozenset({"external_ref", "number"}),
    APPLICATION_PROGRESS: frozenset({"external_ref", "status", "step_label"}),
    APPLICATION_DECIDED: frozenset(
        {"external_ref", "outcome", "opinion", "corrections", "document_number", "document_sha256"}
    ),
    RECORD_REJECTED: frozenset({"seq", "id", "code", "message"}),
    EXAM_ARRANGED: frozenset(
        {"exam_id", "name", "address", "starts_at", "ends_at", "changed", "candidates"}
    ),
    f"{EXAM_ARRANGED}/candidates[]": frozenset({"external_ref", "admission_number"}),
    EXAM_CANCELLED: frozenset({"exam_id", "name", "reason", "candidates"}),
    f"{EXAM_CANCELLED}/candidates[]": frozenset({"external_ref"}),
    EXAM_SCORES_NOTIFIED: frozenset({"exam_id", "name", "amended", "subjects", "candidates"}),
    f"{EXAM_SCORES_NOTIFIED}/subjects[]": frozenset({"key", "name", "full_mark"}),
    f"{EXAM_SCORES_NOTIFIED}/candidates[]": frozenset(
        {"external_ref", "admission_number", "absent", "scores", "result"}
    ),
    f"{EXAM_SCORES_NOTIFIED}/candidates[]/scores": frozenset(),  # subject key → mark, see below
    CERTIFICATE_ISSUED: frozenset(
        {
            "external_ref",
            "number",
            "edition",
            "holder_name",
            "issuing_authority",
            "issued_at",
            "expires_on",
            "qr_payload",
        }
    ),
    CERTIFICATE_REVOKED: frozenset({"external_ref", "number", "edition", "reason", "basis"}),
    CERTIFICATE_CANCELLED: frozenset({"external_ref", "number", "edition", "reason"}),
    CERTIFICATE_STATUS_LIST: frozenset({"issued_at", "status_list"}),
}
"""Every outbound type and the keys its ``data`` may hold. ``"<type>/<field>[]"``: the keys of
each object in the list ``field``; ``"<type>/<path>"``: the keys of the object at ``path``.
A path allowlisted as ``frozenset()`` whose keys are data (subject keys of the exam's rule)
is listed in ``FREE_KEYED``: its values must then be plain numbers."""

FREE_KEYED = frozenset({f"{EXAM_SCORES_NOTIFIED}/candidates[]/scores"})

OUTBOUND_TYPES = frozenset(k for k in OUTBOUND_FIELDS if "/" not in k)


class OutboundFieldError(AssertionError):
    """A builder produced a key outside its type's allowlist: a bug, never sent."""


def check_allowed(type_: str, data: Mapping[str, Any]) -> None:
    """Raise ``OutboundFieldError`` unless every key of ``data``, at every depth, is in the
    allowlist of ``type_`` (an unknown type has none)."""
    if type_ not in OUTBOUND_TYPES:
        raise OutboundFieldError(f"{type_!r} is not an outbound record type")
    _check(type_, data)


def _check(path: str, value: Mapping[str, Any]) -> None:
    allowed = OUTBOUND_FIELDS.get(path)
    if allowed is None:
        raise OutboundFieldError(f"{path}: an object where none is allowlisted")
    if path in FREE_KEYED:
        for key, item in value.items():
            if (
                not isinstance(key, str)
                or isinstance(item, bool)
                or not isinstance(item, int | float)
            ):
                raise OutboundFieldError(f"{path}: {key!r} must map to a number")
        return
    extra = set(value) - allowed
    if extra:
        raise OutboundFieldError(f"{path}: not allowlisted: {sorted(extra)}")
    for key, item in value.items():
        if isinstance(item, Mapping):
            _check(f"{path}/{key}", item)
        elif isinstance(item, list | tuple):
            for element in item:
                if isinstance(element, Mapping):
                    _check(f"{path}/{key}[]", element)
                elif isinstance(element, list | tuple):
                    raise OutboundFieldError(f"{path}/{key}: nested lists are not allowlisted")


def emit_checked(
    session: Session,
    type_: str,
    data: Mapping[str, Any],
    *,
    at: datetime,
    files: Sequence[str] = (),
) -> SyncOutboxRecord:
    """``outbox.emit`` after the allowlist check: the only way this module queues a record."""
    check_allowed(type_, data)
    return outbox.emit(session, type_, data, at=at, files=files)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- applications -------------------------------------------------------------------------


def portal_known(application: Application) -> bool:
    """Filed on the portal: the portal has someone to tell about it."""
    return application.source == EXTRANET and application.external_ref is not None


def accepted(application: Application) -> dict[str, Any]:
    return {"external_ref": application.external_ref, "number": application.number}


def progress(application: Application, step_label: str | None) -> dict[str, Any]:
    """The application's status and the label of the step it waits at (None: at none)."""
    return {
        "external_ref": application.external_ref,
        "status": str(application.status),
        "step_label": step_label,
    }


def emit_accepted(session: Session, application: Application, *, now: datetime) -> None:
    if portal_known(application):
        emit_checked(session, APPLICATION_ACCEPTED, accepted(application), at=now)


def emit_progress(
    session: Session, application: Application, step_label: str | None, *, now: datetime
) -> None:
    if portal_known(application):
        emit_checked(session, APPLICATION_PROGRESS, progress(application, step_label), at=now)


def decided(
    application: Application,
    *,
    outcome: str,
    opinion: str | None,
    corrections: Sequence[str] | None,
    document: IssuedDocument | None = None,
    document_sha256: str | None = None,
) -> dict[str, Any]:
    """``outcome`` ``approved`` or ``rejected``; ``opinion`` the externally visible one only
    (the rejection reason, or the final approval's opinion)."""
    return {
        "external_ref": application.external_ref,
        "outcome": outcome,
        "opinion": opinion,
        "corrections": list(corrections or []),
        "document_number": document.number if document is not None else None,
        "document_sha256": document_sha256,
    }


def emit_decided(
    session: Session,
    application: Application,
    *,
    now: datetime,
    store: MaterialStore | None,
) -> None:
    """The decision of the round just ended, as the applicant's own view states it
    (``progress.external_view``, which never carries an internal opinion), with the issued
    document's PDF put in ``store`` and sent as the record's file."""
    if not portal_known(application):
        return
    from server.services.approvals.progress import external_view

    view = external_view(session, application)
    last = view.rounds[-1]
    if last.outcome == "rejected":
        data = decided(
            application, outcome="rejected", opinion=last.reason, corrections=last.corrections
        )
        emit_checked(session, APPLICATION_DECIDED, data, at=now)
        return
    document = session.scalar(
        select(IssuedDocument).where(IssuedDocument.application_id == application.id)
    )
    files: list[str] = []
    sha256 = None
    if document is not None:
        if store is None:
            raise RuntimeError("application.decided with a document needs the materials store")
        sha256 = store_document_pdf(store, document, application)
        files.append(sha256)
    data = decided(
        application,
        outcome="approved",
        opinion=last.opinion,
        corrections=None,
        document=document,
        document_sha256=sha256,
    )
    emit_checked(session, APPLICATION_DECIDED, data, at=now, files=files)


def store_document_pdf(
    store: MaterialStore, document: IssuedDocument, application: Application
) -> str:
    """The issued document's PDF, as printing makes it, put in the materials store; its hash."""
    from server.services.documents import content, render

    pdf = render.certificate_pdf(content.certificate(document, application))
    return store.put([pdf], max_bytes=len(pdf) + 1).sha256


def record_rejected(seq: int, record_id: str, code: str, message: str) -> dict[str, Any]:
    return {"seq": seq, "id": record_id, "code": code, "message": message}


def emit_record_rejected(
    session: Session, *, seq: int, record_id: str, code: str, message: str, now: datetime
) -> SyncOutboxRecord:
    """For the applier: the answer to an inbound record that broke a business rule."""
    return emit_checked(
        session, RECORD_REJECTED, record_rejected(seq, record_id, code, message), at=now
    )


# --- exams ------------------------------------------------------------------------------


def portal_refs(session: Session, application_ids: Iterable[int]) -> dict[int, str]:
    """``external_ref`` of each of ``application_ids`` filed on the portal (the others: absent)."""
    ids = sorted(set(application_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Application.id, Application.external_ref).where(
            Application.id.in_(ids),
            Application.source == EXTRANET,
            Application.external_ref.is_not(None),
        )
    )
    return {app_id: ref for app_id, ref in rows if ref is not None}


def exam_arranged(
    exam: Exam, seats: Sequence[ExamCandidate], refs: Mapping[int, str], *, changed: bool
) -> dict[str, Any]:
    return {
        "exam_id": exam.id,
        "name": exam.name,
        "address": exam.address,
        "starts_at": stamp(exam.starts_at),
        "ends_at": stamp(exam.ends_at),
        "changed": changed,
        "candidates": [
            {"external_ref": refs[s.application_id], "admission_number": s.admission_number}
            for s in sorted(seats, key=lambda s: s.admission_number or "")
            if s.application_id in refs
        ],
    }


def exam_cancelled(
    exam: Exam, seats: Sequence[ExamCandidate], refs: Mapping[int, str], reason: str | None
) -> dict[str, Any]:
    return {
        "exam_id": exam.id,
        "name": exam.name,
        "reason": reason,
        "candidates": [
            {"external_ref": refs[s.application_id]}
            for s in sorted(seats, key=lambda s: s.application_id)
            if s.application_id in refs
        ],
    }


def emit_exam_notice(
    session: Session,
    exam: Exam,
    seats: Sequence[ExamCandidate],
    *,
    kind: str,
    reason: str | None,
    now: datetime,
) -> None:
    """考试通知 of ``kind`` 安排, 变更 or 取消 to the candidates filed on the portal (none: no
    record)."""
    refs = portal_refs(session, (s.application_id for s in seats))
    if not refs:
        return
    if kind == "取消":
        emit_checked(session, EXAM_CANCELLED, exam_cancelled(exam, seats, refs, reason), at=now)
    else:
        data = exam_arranged(exam, seats, refs, changed=kind == "变更")
        emit_checked(session, EXAM_ARRANGED, data, at=now)


def scores_notified(
    exam: Exam,
    rule: PassRule,
    seats: Sequence[ExamCandidate],
    refs: Mapping[int, str],
    *,
    amended: bool,
) -> dict[str, Any]:
    return {
        "exam_id": exam.id,
        "name": exam.name,
        "amended": amended,
        "subjects": [
            {"key": s.key, "name": s.name, "full_mark": s.full_mark} for s in rule.subjects
        ],
        "candidates": [
            {
                "external_ref": refs[s.application_id],
                "admission_number": s.admission_number,
                "absent": s.absent,
                "scores": {
                    str(k): v
                    for k, v in (s.scores or {}).items()
                    if isinstance(v, int | float) and not isinstance(v, bool)
                },
                "result": s.result,
            }
            for s in sorted(seats, key=lambda s: s.admission_number or "")
            if s.application_id in refs
        ],
    }


def emit_scores_notified(
    session: Session,
    exam: Exam,
    rule: PassRule,
    seats: Sequence[ExamCandidate],
    *,
    amended: bool,
    now: datetime,
) -> None:
    """成绩通知 (or its correction) to the candidates filed on the portal."""
    refs = portal_refs(session, (s.application_id for s in seats))
    if refs:
        data = scores_notified(exam, rule, seats, refs, amended=amended)
        emit_checked(session, EXAM_SCORES_NOTIFIED, data, at=now)


# --- certificates ---------------------------------------------------------------------------


def _card_ref(session: Session, card: Certificate) -> str | None:
    if card.application_id is None:
        return None
    return portal_refs(session, [card.application_id]).get(card.application_id)


def certificate_issued(card: Certificate, external_ref: str) -> dict[str, Any]:
    """A card made (first issue, 补发 or 更正换发: a later ``edition`` replaces the earlier).
    ``qr_payload`` is the signed QR text (it holds the masked ID number only)."""
    return {
        "external_ref": external_ref,
        "number": card.number,
        "edition": card.edition,
        "holder_name": card.holder_name,
        "issuing_authority": card.issuing_authority,
        "issued_at": stamp(card.issued_at),
        "expires_on": _day(card.expires_on),
        "qr_payload": card.payload,
    }


def emit_certificate_issued(session: Session, card: Certificate, *, now: datetime) -> None:
    ref = _card_ref(session, card)
    if ref is not None:
        emit_checked(session, CERTIFICATE_ISSUED, certificate_issued(card, ref), at=now)


def emit_certificate_revoked(
    session: Session, card: Certificate, *, reason: str, basis: str, now: datetime
) -> None:
    """吊销: the reason and legal basis are the decision served on the holder."""
    ref = _card_ref(session, card)
    if ref is not None:
        data = {
            "external_ref": ref,
            "number": card.number,
            "edition": card.edition,
            "reason": reason,
            "basis": basis,
        }
        emit_checked(session, CERTIFICATE_REVOKED, data, at=now)


def emit_certificate_cancelled(
    session: Session, card: Certificate, *, reason_label: str, now: datetime
) -> None:
    """注销: only the reason's label (a clerk's free note stays inside)."""
    ref = _card_ref(session, card)
    if ref is not None:
        data = {
            "external_ref": ref,
            "number": card.number,
            "edition": card.edition,
            "reason": reason_label,
        }
        emit_checked(session, CERTIFICATE_CANCELLED, data, at=now)


def status_list(text: str, now: datetime) -> dict[str, Any]:
    """The signed status list file (``verification.status_list``), verbatim."""
    return {"issued_at": stamp(now), "status_list": text}


def status_list_due(session: Session, *, now: datetime, refresh_seconds: int) -> bool:
    """A new status list is due when none was sent, a card was made or changed status since
    the last one, or the last is ``refresh_seconds`` old (a list goes stale after its TTL, so
    the portal must get a fresh one well before)."""
    last = session.scalar(
        select(SyncOutboxRecord.at)
        .where(SyncOutboxRecord.type == CERTIFICATE_STATUS_LIST)
        .order_by(SyncOutboxRecord.id.desc())
        .limit(1)
    )
    if last is None:
        return True
    if (now - last).total_seconds() >= refresh_seconds:
        return True
    changed = session.scalar(
        select(Certificate.id)
        .where((Certificate.issued_at > last) | (Certificate.status_changed_at > last))
        .limit(1)
    )
    return changed is not None


def emit_status_list_if_due(
    session: Session,
    keys: "CertificateKeys",
    *,
    now: datetime,
    ttl_seconds: int,
    refresh_seconds: int | None = None,
) -> bool:
    """For the sync cycle (not tied to one business change: the list is a snapshot that
    expires): queue ``certificate.status_list`` when ``status_list_due``; True if queued.
    ``refresh_seconds`` defaults to half the TTL. The caller commits."""
    from server.services.certificates.verification import (
        status_list as build_status_list,
    )

    refresh = refresh_seconds if refresh_seconds is not None else ttl_seconds // 2
    if not status_list_due(session, now=now, refresh_seconds=refresh):
        return False
    text = build_status_list(session, keys, now=now, ttl_seconds=ttl_seconds)
    emit_checked(session, CERTIFICATE_STATUS_LIST, status_list(text, now), at=now)
    return True
