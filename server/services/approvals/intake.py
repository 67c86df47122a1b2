"""Intake (受理): an application enters the engine, or comes back for a new round.

The intranet clerk's intake endpoint and the extranet sync both come through here, so the
same checks apply whatever the source: a valid form for the business type, the people the type
requires, a county-level region inside the caller's data scope, a published process, and a
bureau for every step (routing is resolved up front so nothing stalls half-way).

A type the system opens itself (``shared.enums.SYSTEM_OPENED``, D14) is refused here and opened
by ``open_by_system`` instead; both write through ``_open``.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, insert
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError

from server.db import write_behind
from server.db.approval_models import Application, ApplicationPerson, WorkflowDefinition
from server.services import audit
from server.services.approvals import numbering, publishing
from server.services.approvals.routing import (
    bureau_columns,
    bureaus,
    bureaus_of_row,
    owner_org,
    routed,
)
from server.services.approvals.tasks import open_step, process_of, write_log
from server.services.authz import Principal
from server.services.errors import AppError, check_version
from server.services.sync import records_out
from shared.approvals import ApplicationStatus, ApprovalAction, AuthorityLevel
from shared.audit_actions import AuditAction, AuditEntity
from shared.china_time import china_day
from shared.enums import SYSTEM_OPENED, BusinessType
from shared.errors import ErrorCode
from shared.regions import RegionLevel, region_table
from shared.schemas.applications import ApplicationCreate, ApplicationResubmit, PersonIn
from shared.schemas.forms import REQUIRED_PERSONS, form_problems, normalised_form


def _check_form(business_type: BusinessType, form: dict[str, Any]) -> dict[str, Any]:
    problems = form_problems(business_type, form)
    if problems:
        raise AppError(ErrorCode.VALIDATION_ERROR, details={"form": problems})
    return normalised_form(business_type, form)


def _check_persons(business_type: BusinessType, persons: list[PersonIn]) -> None:
    missing = REQUIRED_PERSONS[business_type] - {p.role for p in persons}
    if missing:
        labels = "、".join(sorted(role.label for role in missing))
        raise AppError(
            ErrorCode.VALIDATION_ERROR,
            message=f"申请须填写以下人员：{labels}",
            details={"persons": sorted(str(role) for role in missing)},
        )


def _check_region(code: str) -> None:
    region = region_table().get(code)
    if region is None or region.level != RegionLevel.county:
        raise AppError(
            ErrorCode.VALIDATION_ERROR, message="申请人所在区域须为有效的县（区）级行政区划代码"
        )


def _person_rows(application: Application, persons: list[PersonIn]) -> list[ApplicationPerson]:
    return [
        ApplicationPerson(
            round=application.round,
            role=str(p.role),
            name=p.name,
            id_number=p.id_number,
            mobile=p.mobile,
        )
        for p in persons
    ]


def _route_all(
    definition: WorkflowDefinition, region_code: str, found: dict[AuthorityLevel, int]
) -> None:
    """Every step has a bureau (ROUTING_NO_ORG otherwise), so nothing stalls half-way."""
    for step in publishing.process_of(definition).steps:
        routed(found, region_code, step.level)


def snapshot(application: Application) -> dict[str, Any]:
    return {
        "number": application.number,
        "business_type": application.business_type,
        "applicant_name": application.applicant_name,
        "status": application.status,
        "round": application.round,
    }


def _refuse_system_opened(business_type: BusinessType) -> None:
    if business_type in SYSTEM_OPENED:
        raise AppError(
            ErrorCode.BUSINESS_TYPE_NOT_FILEABLE, details={"business_type": str(business_type)}
        )


def create_application(
    session: Session,
    principal: Principal,
    data: ApplicationCreate,
    *,
    now: datetime,
    source: str = "intranet",
    commit: bool = True,
) -> Application:
    """An applicant's application (through the intake clerk or the extranet), committed. A
    type the system opens itself (``SYSTEM_OPENED``) is refused: BUSINESS_TYPE_NOT_FILEABLE.

    ``commit=False``: the caller's transaction holds it (the sync applier, which applies a
    record inside a savepoint together with its cursor)."""
    principal.require("applications:intake")
    _refuse_system_opened(data.business_type)
    form = _check_form(data.business_type, data.form)
    _check_persons(data.business_type, data.persons)
    _check_region(data.region_code)
    found, definition = _routes_and_definition(session, data)
    owner = owner_org(found, data.region_code)
    if not principal.scope.contains(owner):
        raise AppError(ErrorCode.PERMISSION_DENIED, details={"region_code": data.region_code})
    application = _open(
        session,
        principal.actor,
        data,
        form,
        definition,
        now=now,
        source=source,
        routes=found,
        owner=owner,
        submitter=Submitter(None, data.applicant_name, "申请人"),
    )
    if commit:
        session.commit()
    return application


SYSTEM_ROLE = "系统发起"
"""The role the log names for the submission of a system-opened application."""


def open_by_system(
    session: Session,
    actor: audit.Actor,
    data: ApplicationCreate,
    *,
    now: datetime,
    source_application_id: int,
) -> Application:
    """Open an application of a ``SYSTEM_OPENED`` type on the server's own initiative (D14),
    from the application ``source_application_id`` it follows on. The same checks and row
    writes as an applicant's, without the intake permission or the caller's data scope (the
    caller decided it, e.g. 通知成绩); the log names ``actor`` as 系统发起. Does not commit: the
    caller's transaction opens all of them or none."""
    if data.business_type not in SYSTEM_OPENED:
        raise ValueError(f"{data.business_type} is filed by applicants")
    form = _check_form(data.business_type, data.form)
    _check_persons(data.business_type, data.persons)
    _check_region(data.region_code)
    found, definition = _routes_and_definition(session, data)
    return _open(
        session,
        actor,
        data,
        form,
        definition,
        now=now,
        source="system",
        routes=found,
        owner=owner_org(found, data.region_code),
        submitter=Submitter(actor.id, actor.name[:100], SYSTEM_ROLE),
        source_application_id=source_application_id,
    )


@dataclass(frozen=True)
class Submitter:
    """Who the log says submitted the round: the applicant, or the user whose action made the
    system open it."""

    user_id: int | None
    name: str
    role: str


_ROUTES_AND_LATEST = publishing.LATEST.add_columns(
    *bureau_columns(bindparam("region_code", type_=String()))
)
"""``publishing.latest`` with ``routing.bureaus`` beside it: what every intake reads first,
in one statement (built once)."""


def _routes_and_definition(
    session: Session, data: ApplicationCreate
) -> tuple[dict[AuthorityLevel, int], WorkflowDefinition | None]:
    """The bureaus of the applicant's region (``routing.bureaus``) and the latest published
    version of the business type (``publishing.latest``; None: none is), read together. Only
    when no version is published are the bureaus read on their own (the statement has no row
    then), so the checks that follow answer as they would have."""
    row = session.execute(
        _ROUTES_AND_LATEST,
        {"region_code": data.region_code, "business_type": str(data.business_type)},
    ).first()
    if row is None:
        return bureaus(session, data.region_code), None
    definition, *levels = row
    return bureaus_of_row(levels), definition


def _open(
    session: Session,
    actor: audit.Actor,
    data: ApplicationCreate,
    form: dict[str, Any],
    definition: WorkflowDefinition | None,
    *,
    now: datetime,
    source: str,
    routes: dict[AuthorityLevel, int],
    owner: int,
    submitter: Submitter,
    source_application_id: int | None = None,
) -> Application:
    """The one code path that writes a new application: its ``definition`` (the latest
    version, read by the caller), its number, the row and its people, the first step and the
    audit record (not committed)."""
    if definition is None:
        raise AppError(
            ErrorCode.WORKFLOW_NOT_PUBLISHED, details={"business_type": data.business_type}
        )
    _route_all(definition, data.region_code, routes)
    values: dict[str, Any] = {
        "number": numbering.application_number(session, china_day(now).year),
        "business_type": str(data.business_type),
        "applicant_kind": str(data.applicant_kind),
        "applicant_name": data.applicant_name,
        "applicant_code": data.applicant_code.upper(),
        "region_code": data.region_code,
        "org_id": owner,
        "definition_id": definition.id,
        "round": 1,
        "status": str(ApplicationStatus.in_review),
        "form": form,
        "fingerprint_card_no": None,
        "paid_at": None,
        "source": source,
        "external_ref": data.external_ref,
        "source_application_id": source_application_id,
        "submitted_at": now,
        "round_started_at": now,
        "decided_at": None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    application = _insert(session, values, definition, data.persons)
    records_out.emit_accepted(session, application, now=now)  # 内外网同步: filed on the portal
    _start_round(session, actor, application, ApprovalAction.submit, now, submitter, routes=routes)
    return application


_APPS = cast(Table, Application.__table__)
_INSERT_APPLICATION = insert(_APPS).returning(_APPS.c.id)
_INSERT_PERSONS = write_behind.inserting(cast(Table, ApplicationPerson.__table__))


def _insert(
    session: Session,
    values: dict[str, Any],
    definition: WorkflowDefinition,
    persons: list[PersonIn],
) -> Application:
    """Write a new application and its people by Core statements (the people by
    ``write_behind``, as nothing needs their ids now), and return it as a row of the session,
    as if just loaded: its people are read when first asked for. The unit of work would cost
    several times that."""
    conn = session.connection()
    application_id = conn.execute(_INSERT_APPLICATION, values).scalar_one()
    write_behind.write(
        conn,
        _INSERT_PERSONS,
        [
            {
                "application_id": application_id,
                "round": values["round"],
                "role": str(p.role),
                "name": p.name,
                "id_number": p.id_number,
                "mobile": p.mobile,
            }
            for p in persons
        ],
    )
    application = Application(id=application_id, **values)
    application.definition = definition
    make_transient_to_detached(application)
    session.add(application)
    return application


def resubmit(
    session: Session,
    principal: Principal,
    application: Application,
    data: ApplicationResubmit,
    *,
    now: datetime,
    commit: bool = True,
) -> Application:
    """A returned application comes back corrected: a new round from the first step of the
    version it began with; earlier rounds' persons, materials and log stay as they were.
    ``commit=False``: the caller's transaction holds it (the sync applier)."""
    principal.require("applications:intake")
    check_version(data.version, application.version)
    if application.status != ApplicationStatus.returned:
        raise AppError(ErrorCode.APPLICATION_NOT_RETURNED)
    business_type = BusinessType(application.business_type)
    _refuse_system_opened(business_type)  # its form is the server's; 不同意 is final (D14)
    form = _check_form(business_type, data.form)
    _check_persons(business_type, data.persons)
    before = snapshot(application)
    _next_round(application, form, now)
    application.persons.extend(_person_rows(application, data.persons))
    session.flush()
    submitter = Submitter(None, application.applicant_name, "申请人")
    _start_round(
        session, principal.actor, application, ApprovalAction.resubmit, now, submitter,
        before=before,
    )  # fmt: skip
    if commit:
        session.commit()
    return application


def reopen_by_system(
    session: Session,
    actor: audit.Actor,
    application: Application,
    data: ApplicationCreate,
    *,
    now: datetime,
    submitter: Submitter,
    opinion: str,
    taken: ErrorCode,
) -> Application:
    """A returned application of a ``SYSTEM_OPENED`` type comes back for a new round on the
    server's initiative (D14, 重新提交制证): the form and people the server derives again in
    ``data``, the first step of the version it began with, ``opinion`` (why) in the log.
    Nobody edits the form, so 不同意 stays final for an applicant's correction.

    The row is claimed at the version read, before anything else is written: of two calls at
    once one opens the round and the other gets ``taken`` with nothing written (on PostgreSQL
    the second waits on the row lock, then finds the version moved; SQLite serialises the
    writes). Does not commit."""
    business_type = BusinessType(application.business_type)
    if business_type not in SYSTEM_OPENED:
        raise ValueError(f"{business_type} is resubmitted by its applicant")
    if application.status != ApplicationStatus.returned:
        raise AppError(taken)
    form = _check_form(business_type, data.form)
    _check_persons(business_type, data.persons)
    before = snapshot(application)
    _next_round(application, form, now)
    application.applicant_name = data.applicant_name
    application.applicant_code = data.applicant_code.upper()
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise AppError(taken) from None
    application.persons.extend(_person_rows(application, data.persons))
    session.flush()
    _start_round(
        session, actor, application, ApprovalAction.resubmit, now, submitter,
        before=before, opinion=opinion,
    )  # fmt: skip
    return application


def _next_round(application: Application, form: dict[str, Any], now: datetime) -> None:
    """A returned application back in review for its next round with ``form``: what a
    resubmission and a system reopening both change on the row."""
    application.round += 1
    application.form = form
    application.status = ApplicationStatus.in_review
    application.round_started_at = now
    application.decided_at = None
    application.updated_at = now


def _start_round(
    session: Session,
    actor: audit.Actor,
    application: Application,
    action: ApprovalAction,
    now: datetime,
    submitter: Submitter,
    *,
    before: dict[str, Any] | None = None,
    routes: dict[AuthorityLevel, int] | None = None,
    opinion: str | None = None,
) -> None:
    """The submission in the log, the first step opened, the audit entry: how a first
    submission, a resubmission and a system-opened application start their round (``routes``:
    the bureaus already looked up; ``opinion``: why it comes back, if said). The caller
    commits."""
    write_log(
        session,
        application,
        action=action,
        now=now,
        actor_id=submitter.user_id,
        actor_name=submitter.name,
        actor_role=submitter.role,
        opinion=opinion,
    )
    process = process_of(application)
    open_step(session, application, process, process.first, now, routes)
    records_out.emit_progress(session, application, process.first.name, now=now)
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.of_application(action),
        entity_type=AuditEntity.APPLICATION,
        entity_id=application.id,
        org_id=application.org_id,
        before=before,
        after=snapshot(application),
    )
