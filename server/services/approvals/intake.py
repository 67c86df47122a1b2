"""Intake (受理): an application enters the engine, or comes back for a new round.

The intranet clerk's intake endpoint and the extranet sync both come through here, so the
same checks apply whatever the source: a valid form for the business type, the people the type
requires, a county-level region inside the caller's data scope, a published process, and a
bureau for every step (routing is resolved up front so nothing stalls half-way).
"""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session, make_transient_to_detached

from server.db.approval_models import Application, ApplicationPerson, WorkflowDefinition
from server.services import audit
from server.services.approvals import numbering, publishing
from server.services.approvals.routing import bureaus, owner_org, routed
from server.services.approvals.tasks import open_step, process_of, write_log
from server.services.authz import Principal
from server.services.errors import AppError, check_version
from shared.approvals import ApplicationStatus, ApprovalAction, AuthorityLevel
from shared.audit_actions import AuditAction, AuditEntity
from shared.china_time import china_day
from shared.enums import BusinessType
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


def create_application(
    session: Session,
    principal: Principal,
    data: ApplicationCreate,
    *,
    now: datetime,
    source: str = "intranet",
) -> Application:
    principal.require("applications:intake")
    form = _check_form(data.business_type, data.form)
    _check_persons(data.business_type, data.persons)
    _check_region(data.region_code)
    found = bureaus(session, data.region_code)
    owner = owner_org(found, data.region_code)
    if not principal.scope.contains(owner):
        raise AppError(ErrorCode.PERMISSION_DENIED, details={"region_code": data.region_code})
    definition: WorkflowDefinition | None = publishing.latest(session, data.business_type)
    if definition is None:
        raise AppError(
            ErrorCode.WORKFLOW_NOT_PUBLISHED, details={"business_type": data.business_type}
        )
    _route_all(definition, data.region_code, found)
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
        "submitted_at": now,
        "round_started_at": now,
        "decided_at": None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    application = _insert(session, values, definition, data.persons)
    _start_round(session, principal, application, ApprovalAction.submit, now, routes=found)
    return application


_APPS = cast(Table, Application.__table__)
_INSERT_APPLICATION = insert(_APPS).returning(_APPS.c.id)
_INSERT_PERSONS = insert(cast(Table, ApplicationPerson.__table__))


def _insert(
    session: Session,
    values: dict[str, Any],
    definition: WorkflowDefinition,
    persons: list[PersonIn],
) -> Application:
    """Write a new application and its people by two Core statements (the people in one, as
    nothing needs their ids now), and return it as a row of the session, as if just loaded: its
    people are read when first asked for. The unit of work would cost several times that."""
    conn = session.connection()
    application_id = conn.execute(_INSERT_APPLICATION, values).scalar_one()
    conn.execute(
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
) -> Application:
    """A returned application comes back corrected: a new round from the first step of the
    version it began with; earlier rounds' persons, materials and log stay as they were."""
    principal.require("applications:intake")
    check_version(data.version, application.version)
    if application.status != ApplicationStatus.returned:
        raise AppError(ErrorCode.APPLICATION_NOT_RETURNED)
    business_type = BusinessType(application.business_type)
    form = _check_form(business_type, data.form)
    _check_persons(business_type, data.persons)
    before = snapshot(application)
    application.round += 1
    application.form = form
    application.status = ApplicationStatus.in_review
    application.round_started_at = now
    application.decided_at = None
    application.updated_at = now
    application.persons.extend(_person_rows(application, data.persons))
    session.flush()
    _start_round(session, principal, application, ApprovalAction.resubmit, now, before=before)
    return application


def _start_round(
    session: Session,
    principal: Principal,
    application: Application,
    action: ApprovalAction,
    now: datetime,
    *,
    before: dict[str, Any] | None = None,
    routes: dict[AuthorityLevel, int] | None = None,
) -> None:
    """The applicant's submission in the log, the first step opened, the audit entry, commit:
    how both a first submission and a resubmission start their round (``routes``: the
    bureaus already looked up)."""
    write_log(
        session,
        application,
        action=action,
        now=now,
        actor_id=None,
        actor_name=application.applicant_name,
        actor_role="申请人",
    )
    process = process_of(application)
    open_step(session, application, process, process.first, now, routes)
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.of_application(action),
        entity_type=AuditEntity.APPLICATION,
        entity_id=application.id,
        org_id=application.org_id,
        before=before,
        after=snapshot(application),
    )
    session.commit()
