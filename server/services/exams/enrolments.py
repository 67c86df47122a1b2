"""保安员资格证考试报名: every guard-exam enrolment the caller may see, with its pipeline status
(``status.status_column``), counts per status, filters, sorting and paging — all in SQL — and
the candidate picker (添加人员) of exam scheduling."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, lazyload

from server.db.approval_models import Application
from server.db.collation import chinese
from server.db.exam_models import ExamCandidate, TrainingProgress
from server.services import search
from server.services.approvals.access import sees_full_identity, visible_clause
from server.services.authz import Principal
from server.services.exams import status as pipeline
from server.services.paging import PageRequest
from shared.approvals import ApplicationStatus
from shared.china_time import day_start
from shared.enums import BusinessType
from shared.exams import EnrolmentStatus, ExamResult
from shared.masking import mask_id_number
from shared.regions import RegionLevel, level_of, region_table
from shared.schemas.exams import EnrolmentLine, PickerLine


@dataclass(frozen=True)
class EnrolmentFilter:
    status: EnrolmentStatus | None = None
    region: str | None = None
    training_unit: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None


def training_unit_column() -> ColumnElement[str | None]:
    """The training unit: the course records' when they have one, else what the form names."""
    declared = Application.form["training_unit"].as_string()
    return func.coalesce(TrainingProgress.training_unit, declared)


def training_units(session: Session, id_numbers: Sequence[str]) -> dict[str, str]:
    """The course records' training unit of each of these people that has one (the seats of
    an exam show the same unit as the list and the picker)."""
    if not id_numbers:
        return {}
    rows = session.execute(
        select(TrainingProgress.id_number, TrainingProgress.training_unit).where(
            TrainingProgress.id_number.in_(set(id_numbers))
        )
    )
    return {number: unit for number, unit in rows}


def region_clause(column: Any, region: str) -> ColumnElement[bool]:
    """``column`` lies in ``region`` (a province, prefecture or county code)."""
    level = level_of(region)
    if level == RegionLevel.province:
        return search.starts_with(column, region[:2])
    if level == RegionLevel.prefecture:
        return search.starts_with(column, region[:4])
    result: ColumnElement[bool] = column == region
    return result


def _filters(f: EnrolmentFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.region:
        clauses.append(region_clause(Application.region_code, f.region))
    if f.training_unit:
        clauses.append(search.contains(training_unit_column(), f.training_unit.strip()))
    if f.date_from is not None:
        clauses.append(Application.submitted_at >= day_start(f.date_from))
    if f.date_to is not None:
        clauses.append(Application.submitted_at < day_start(f.date_to + timedelta(days=1)))
    if f.q and f.q.strip():
        needle = f.q.strip()
        clauses.append(
            or_(
                search.contains(Application.applicant_name, needle),
                search.contains(Application.applicant_code, needle.upper()),
                search.contains(Application.number, needle.upper()),
            )
        )
    return clauses


def _base(session: Session, principal: Principal, f: EnrolmentFilter) -> Select[Any]:
    stmt = (
        select(Application)
        .options(lazyload(Application.definition))
        .where(
            Application.business_type == BusinessType.guard_exam_enrolment.value,
            visible_clause(session, principal),
            *_filters(f),
        )
    )
    stmt = pipeline.with_status_joins(stmt.select_from(Application))
    return stmt.outerjoin(
        TrainingProgress, TrainingProgress.id_number == Application.applicant_code
    )


def list_enrolments(
    session: Session,
    principal: Principal,
    f: EnrolmentFilter,
    page: PageRequest,
    *,
    now: datetime,
) -> tuple[list[EnrolmentLine], int, dict[str, int]]:
    """One page of lines, the total under the filter, and the count of every status under the
    other filters (what the status tabs show)."""
    status = pipeline.status_column(pipeline.stage_steps(session), now).label("enrolment_status")
    base = _base(session, principal, f)
    counts = {
        str(s): int(n)
        for s, n in session.execute(
            base.with_only_columns(status, func.count()).group_by(status).order_by(None)
        )
    }
    listed = base.add_columns(
        status,
        pipeline.Seat_.exam_id,
        pipeline.SeatExam.name.label("exam_name"),
        pipeline.Seat_.admission_number,
        pipeline.Seat_.result,
        pipeline.Seat_.scores_locked,
        training_unit_column().label("training_unit"),
        TrainingProgress.hours_done,
        TrainingProgress.hours_required,
    )
    if f.status is not None:
        listed = listed.where(status == f.status.value)
        total = counts.get(f.status.value, 0)
    else:
        total = sum(counts.values())
    sorts: dict[str, Any] = {
        "submitted_at": Application.submitted_at,
        "name": chinese(Application.applicant_name),
        "number": Application.number,
        "region_code": Application.region_code,
        "status": status,
    }
    key = page.sort or "-submitted_at"
    column = sorts.get(key.lstrip("-"))
    if column is None:
        key, column = "-submitted_at", sorts["submitted_at"]
    order = column.desc() if key.startswith("-") else column.asc()
    rows = session.execute(
        listed.order_by(order, Application.id.desc()).offset(page.offset).limit(page.limit)
    ).all()
    reveal = sees_full_identity(principal)
    return [_line(row, reveal) for row in rows], total, counts


def _line(row: Any, reveal: bool) -> EnrolmentLine:
    application: Application = row[0]
    status = EnrolmentStatus(row.enrolment_status)
    # a result shows once notified: before that the scores may still change
    result = ExamResult(row.result) if row.result and row.scores_locked else None
    return EnrolmentLine(
        application_id=application.id,
        number=application.number,
        name=application.applicant_name,
        id_number=_id(application.applicant_code, reveal),
        region_code=application.region_code,
        region_name=region_table().full_name(application.region_code),
        training_unit=row.training_unit,
        submitted_at=application.submitted_at,
        paid=application.paid_at is not None,
        fingerprint_card_no=application.fingerprint_card_no,
        status=status,
        status_label=status.label,
        exam_id=row.exam_id,
        exam_name=row.exam_name,
        admission_number=row.admission_number,
        result=result,
        hours_done=row.hours_done,
        hours_required=row.hours_required,
        version=application.version,
    )


def _id(value: str, reveal: bool) -> str:
    return value if reveal else mask_id_number(value) or ""


# --- the candidate picker -------------------------------------------------------------------


def eligible_clause() -> ColumnElement[bool]:
    """An enrolment that may take a seat: approved, in no open seat, never passed."""
    busy = exists(
        select(ExamCandidate.id).where(
            ExamCandidate.application_id == Application.id,
            or_(
                ExamCandidate.is_open,
                and_(
                    ExamCandidate.scores_locked,
                    ExamCandidate.result == ExamResult.passed.value,
                ),
            ),
        )
    )
    return and_(
        Application.business_type == BusinessType.guard_exam_enrolment.value,
        Application.status == ApplicationStatus.approved.value,
        ~busy,
    )


def list_eligible(
    session: Session, principal: Principal, f: EnrolmentFilter, page: PageRequest
) -> tuple[list[PickerLine], int]:
    """添加人员: enrolments the caller may see that may be placed in an exam now."""
    training_unit = training_unit_column().label("training_unit")
    stmt = (
        select(
            Application,
            training_unit,
            TrainingProgress.hours_done,
            TrainingProgress.hours_required,
        )
        .outerjoin(TrainingProgress, TrainingProgress.id_number == Application.applicant_code)
        .where(eligible_clause(), visible_clause(session, principal), *_filters(f))
    )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    sorts: dict[str, Any] = {
        "decided_at": Application.decided_at,
        "submitted_at": Application.submitted_at,
        "name": chinese(Application.applicant_name),
        "region_code": Application.region_code,
        "hours_done": TrainingProgress.hours_done,
    }
    key = page.sort or "decided_at"
    column = sorts.get(key.lstrip("-"))
    if column is None:
        key, column = "decided_at", sorts["decided_at"]
    order = column.desc() if key.startswith("-") else column.asc()
    rows: Sequence[Any] = session.execute(
        stmt.order_by(order, Application.id).offset(page.offset).limit(page.limit)
    ).all()
    reveal = sees_full_identity(principal)
    return [
        PickerLine(
            application_id=a.id,
            number=a.number,
            name=a.applicant_name,
            id_number=_id(a.applicant_code, reveal),
            region_code=a.region_code,
            region_name=region_table().full_name(a.region_code),
            training_unit=unit,
            hours_done=done,
            hours_required=required,
            decided_at=a.decided_at,
            submitted_at=a.submitted_at,
        )
        for a, unit, done, required in rows
    ], total
