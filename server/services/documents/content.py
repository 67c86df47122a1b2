"""What goes on paper, from the database: the certificate's particulars and the application sheet.

Visibility is decided here, once: ID numbers are masked unless the caller holds
``users:view_sensitive`` (paper leaves the screen, so printing is stricter than the detail view),
and the approval log comes from ``progress.progress``, which already drops internal opinions for
a caller without ``applications:view_internal``.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, IssuedDocument
from server.services.approvals.progress import progress
from server.services.authz import Principal
from server.services.documents.pdfbase import chinese_date, local_minute
from server.services.documents.sheets import (
    ApplicationSheet,
    Certificate,
    SheetLogRow,
    SheetMaterial,
    SheetPerson,
)
from server.services.materials.records import list_materials
from shared.approvals import ApplicantKind, ApplicationStatus, PersonRole
from shared.china_time import china_day
from shared.documents import DocumentKind, qr_payload, verification_code
from shared.enums import BusinessType
from shared.masking import mask_id_number, mask_mobile
from shared.regions import region_table
from shared.schemas.applications import LogEntryPublic
from shared.schemas.forms import FORMS

# contact details and narratives belong on the application, not on the certificate
_NOT_ON_CERTIFICATE = frozenset({"unit_name", "phone", "deeds", "reason"})
_CERTIFICATE_PERSON_LABELS = {
    PersonRole.legal_rep: "法定代表人",
    PersonRole.principal: "主要负责人",
    PersonRole.proposed_legal_rep: "变更后法定代表人",
}
# a change of legal representative names the outgoing one twice (the form's 原法定代表人 and the
# person listed as 法定代表人): the certificate prints him once, beside his successor
_CHANGE_OF_LEGAL_REP = {PersonRole.legal_rep: "原法定代表人"}


def _text(value: Any, annotation: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if annotation is date and isinstance(value, str):
        return chinese_date(date.fromisoformat(value))
    return str(value)


def form_rows(
    business_type: BusinessType, form: dict[str, Any], *, skip: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """The form's filled fields in the model's order, titled as on the paper form."""
    rows = []
    for name, info in FORMS[business_type].model_fields.items():
        value = form.get(name)
        if name in skip or value is None or value == "":
            continue
        text = _text(value, info.annotation)
        if name == "target_province" and (region := region_table().get(str(value))):
            text = f"{region.name}（{value}）"
        rows.append((info.title or name, text))
    return rows


def certificate(document: IssuedDocument, application: Application) -> Certificate:
    business_type = BusinessType(application.business_type)
    labels, skip = _CERTIFICATE_PERSON_LABELS, _NOT_ON_CERTIFICATE
    if business_type == BusinessType.legal_rep_change:
        labels, skip = labels | _CHANGE_OF_LEGAL_REP, skip | {"current_legal_rep"}
    people = [
        (labels[PersonRole(p.role)], p.name)
        for p in application.current_persons()
        if PersonRole(p.role) in labels
    ]
    return Certificate(
        title=DocumentKind(document.kind).label,
        number=document.number,
        holder_name=document.holder_name,
        matter=business_type.label,
        particulars=form_rows(business_type, application.form, skip=skip) + people,
        authority=document.issued_by,
        issued_on=china_day(document.issued_at),
        qr_payload=qr_payload(document.number, document.digest),
        verification_code=verification_code(document.digest),
    )


def _log_row(entry: LogEntryPublic, rounds: int) -> SheetLogRow:
    opinion = "（内部意见，不予显示）" if entry.opinion_hidden else entry.opinion or ""
    if entry.assignee_name:
        opinion = f"指派给 {entry.assignee_name}" + (f"：{opinion}" if opinion else "")
    if entry.corrections:
        items = "\n".join(f"{n}. {c}" for n, c in enumerate(entry.corrections, 1))
        opinion = f"{opinion}\n需补正：\n{items}".strip()
    step = entry.step_name or "—"
    return SheetLogRow(
        at=entry.at,
        actor=f"{entry.actor_name}［{entry.actor_role}］" if entry.actor_role else entry.actor_name,
        step_name=f"{step}（第{entry.round}轮）" if rounds > 1 else step,
        action=entry.action_label,
        opinion=opinion,
    )


def application_sheet(
    session: Session, principal: Principal, application: Application, *, now: datetime
) -> ApplicationSheet:
    business_type = BusinessType(application.business_type)
    full = principal.can("users:view_sensitive")
    person_applicant = application.applicant_kind == ApplicantKind.person
    code = application.applicant_code
    if person_applicant and not full:
        code = mask_id_number(code) or ""
    document = session.scalar(
        select(IssuedDocument.number).where(IssuedDocument.application_id == application.id)
    )
    header = [
        ("申请人", application.applicant_name),
        ("申请人类型", ApplicantKind(application.applicant_kind).label),
        ("身份证号" if person_applicant else "统一社会信用代码", code),
        ("所在地区", region_table().full_name(application.region_code)),
        ("首次提交", local_minute(application.submitted_at)),
        ("本轮提交", f"{local_minute(application.round_started_at)}（第{application.round}轮）"),
        ("办结时间", local_minute(application.decided_at) or "—"),
        ("证照编号", document or "—"),
    ]
    if application.fingerprint_card_no:
        header.append(("指纹卡号", application.fingerprint_card_no))
    persons = [
        SheetPerson(
            role=PersonRole(p.role).label,
            name=p.name,
            id_number=(p.id_number if full else mask_id_number(p.id_number)) or "",
            mobile=(p.mobile if full else mask_mobile(p.mobile)) or "",
        )
        for p in application.current_persons()
    ]
    materials = [
        SheetMaterial(m.round, m.title, m.filename, m.uploaded_at)
        for m in list_materials(session, application)
    ]
    state = progress(session, principal, application)
    notes = []
    if any(e.opinion_hidden for e in state.entries):
        notes.append("注：仅对内可见的审批意见未打印（打印人无“查看内部意见”权限）。")
    if not full:
        notes.append("注：身份证号、手机号已按规定部分隐藏。")
    return ApplicationSheet(
        number=application.number,
        business_type=business_type.label,
        status=ApplicationStatus(application.status).label,
        header=header,
        persons=persons,
        form=form_rows(business_type, application.form),
        materials=materials,
        log=[_log_row(e, application.round) for e in state.entries],
        pending=[f"{p.name}［{p.role_label}］（{p.org_name}）" for p in state.pending],
        printed_by=principal.name,
        printed_at=now,
        notes=notes,
    )
