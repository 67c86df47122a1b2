"""Fingerprints enrolled on a station's module (the level-two gate of the guard-exam enrolment).

Templates are proprietary: only the module compares them, so the client runs the module's library
search and the server answers *whose* finger a hit is, through the (device, slot) the template was
stored in. A hit under another identity is refused and flagged on the application (an internal log
line and an audit record); a hit under the same ID number is the same person enrolling again (a
new exam) and may reuse the slot. Enrolment issues the fingerprint card number (指纹卡号).

``device_id`` names one module's library, so it must be unique and stable; the desk sends the
UUID kept in the module's notepad, or for a clone without a notepad a ``port-`` identity derived
from the workstation and port (the driver's ``identity`` module states the trade-off). The server
treats both alike: an opaque key, never parsed.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, ApplicationPerson, FingerprintEnrolment
from server.db.models import Org
from server.services.approvals.enrolment import (
    attach_card,
    open_for_fingerprint,
    record_desk_action,
)
from server.services.approvals.numbering import next_value
from server.services.authz import Principal
from server.services.errors import AppError
from shared.approvals import ApprovalAction, FingerprintMatchVerdict, PersonRole
from shared.china_time import china_day
from shared.errors import ErrorCode
from shared.masking import mask_id_number
from shared.schemas.applications import FingerprintMatch


def _applicant(application: Application) -> ApplicationPerson:
    for person in application.current_persons():
        if person.role == PersonRole.applicant:
            return person
    raise AppError(ErrorCode.VALIDATION_ERROR, message="该报名没有申请人信息，无法录入指纹")


def _holder(session: Session, device_id: str, slot: int) -> FingerprintEnrolment | None:
    return session.scalar(
        select(FingerprintEnrolment)
        .where(
            FingerprintEnrolment.device_id == device_id,
            FingerprintEnrolment.slot == slot,
            FingerprintEnrolment.released_at.is_(None),
        )
        .order_by(FingerprintEnrolment.id.desc())
        .limit(1)
    )


def card_number(session: Session, region_code: str) -> str:
    """``ZW`` + the enrolling station's region + a serial per region. A number already typed in
    from another system is skipped, so an issued number never collides with one."""
    while True:
        number = f"ZW{region_code}{next_value(session, f'fingerprint_card:{region_code}'):010d}"
        taken = select(Application.id).where(Application.fingerprint_card_no == number)
        if session.scalar(taken) is None:
            return number


def check_match(
    session: Session,
    principal: Principal,
    application_id: int,
    *,
    device_id: str,
    slot: int,
    score: int,
    now: datetime,
) -> FingerprintMatch:
    """Say whose finger the module found; flag the application when it is someone else's."""
    application = open_for_fingerprint(session, principal, application_id, version=None)
    applicant = _applicant(application)
    holder = _holder(session, device_id, slot)
    if holder is None:
        return FingerprintMatch(
            verdict=FingerprintMatchVerdict.unknown,
            message=f"指纹库第 {slot} 号的指纹未在系统登记（可能是中断的录入留下的），可清除后继续",
        )
    other = session.scalar(
        select(Application.number).where(Application.id == holder.application_id)
    )
    found = FingerprintMatch(
        verdict=FingerprintMatchVerdict.same_person,
        message=f"该指纹已于 {china_day(holder.enrolled_at):%Y-%m-%d} 登记在本人名下"
        f"（报名 {other}），可直接使用",
        application_number=other,
        person_name=holder.person_name,
        id_number=mask_id_number(holder.id_number),
        card_number=holder.card_number,
    )
    if holder.id_number == applicant.id_number:
        return found
    opinion = (
        f"指纹与报名 {other}（{holder.person_name}）已录入的指纹相同"
        f"（采集器 {device_id} 第 {slot} 号，比对得分 {score}），已拒绝录入"
    )
    record_desk_action(
        session,
        principal,
        application,
        ApprovalAction.fingerprint_duplicate,
        now=now,
        opinion=opinion,
        after={"other_application": other, "device_id": device_id, "slot": slot, "score": score},
    )
    session.commit()
    return found.model_copy(
        update={
            "verdict": FingerprintMatchVerdict.duplicate,
            "message": f"该指纹已登记在 {holder.person_name} 名下（报名 {other}），不能为本人录入；"
            "已在本报名上记录此情况",
        }
    )


def enrol(
    session: Session,
    principal: Principal,
    application_id: int,
    *,
    version: int,
    device_id: str,
    slot: int,
    now: datetime,
) -> Application:
    """Record the template the module stored in ``slot`` and issue the card number.

    A slot still held here by someone else is one the module reported free (emptied or replaced),
    so that record is released. The same person's earlier slot may be reused as it is."""
    application = open_for_fingerprint(session, principal, application_id, version=version)
    if application.fingerprint_card_no:
        raise AppError(
            ErrorCode.CONFLICT,
            message=f"该报名已有指纹卡号 {application.fingerprint_card_no}，无需重复录入",
        )
    applicant = _applicant(application)
    holder = _holder(session, device_id, slot)
    if holder is not None and holder.id_number != applicant.id_number:
        holder.released_at = now
    region = session.scalar(select(Org.region_code).where(Org.id == principal.org_id)) or ""
    number = card_number(session, region)
    session.add(
        FingerprintEnrolment(
            application_id=application.id,
            id_number=applicant.id_number,
            person_name=applicant.name,
            device_id=device_id,
            slot=slot,
            card_number=number,
            org_id=principal.org_id,
            enrolled_at=now,
            enrolled_by_id=principal.user_id,
        )
    )
    attach_card(
        session,
        principal,
        application,
        number,
        now=now,
        opinion=f"采集器 {device_id} 第 {slot} 号录入指纹，指纹卡号 {number}",
    )
    session.commit()
    return application
