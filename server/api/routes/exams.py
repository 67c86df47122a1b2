"""Routes: 保安员资格证考试报名 (the enrolment list with its pipeline status) and 考试安排
(exams, their candidates, the candidate picker, publication). Bulk 缴费确认 is
``POST /applications/payments``; scores and certificates have their own routers."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from server.api.deps import NowDep, SessionDep, permission, read_only
from server.api.openapi import raises
from server.api.params import Search, Sort
from server.api.responses import ModelRoute
from server.db.approval_models import Application
from server.db.exam_models import Exam, ExamCandidate
from server.services.approvals.access import sees_full_identity
from server.services.authz import Principal
from server.services.exams import certification, enrolments, rules, scheduling
from server.services.paging import PageNumber, PageRequest
from shared.errors import ErrorCode
from shared.exams import EnrolmentStatus, ExamResult, ExamStatus
from shared.masking import mask_id_number
from shared.schemas.common import Id, Page
from shared.schemas.exams import (
    CandidateLine,
    CandidatesChange,
    CertificateReviewReopen,
    CertificateReviewReopened,
    EnrolmentPage,
    ExamCancel,
    ExamCreate,
    ExamPublic,
    ExamUpdate,
    ExamVersion,
    PassRulePublic,
    PickerLine,
)

router = APIRouter(tags=["exams"], route_class=ModelRoute)
EnrolmentViewer = Annotated[Principal, permission("exam_enrolments:view")]
ExamViewer = Annotated[Principal, permission("exams:view")]
Region = Annotated[str | None, Query(pattern=r"^\d{6}$", description="行政区划代码（含下级）")]
Unit = Annotated[str | None, Query(max_length=100, description="培训单位名称包含的文字")]
PageSize = Annotated[int, Query(ge=1, le=500)]


@read_only(router, "/exam-enrolments", response_model=EnrolmentPage)
def list_enrolments(
    principal: EnrolmentViewer,
    session: SessionDep,
    now: NowDep,
    status: EnrolmentStatus | None = None,
    region: Region = None,
    training_unit: Unit = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: Search = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    sort: Sort = None,
) -> EnrolmentPage:
    """考试报名。排序：``submitted_at``、``name``、``number``、``region_code``、``status``
    （前加 - 为倒序）；``counts`` 为各流程状态人数（不受 status 筛选影响）。"""
    request = PageRequest(page, page_size, sort)
    f = enrolments.EnrolmentFilter(status, region, training_unit, date_from, date_to, q)
    items, total, counts = enrolments.list_enrolments(session, principal, f, request, now=now)
    return EnrolmentPage(
        items=items, total=total, page=page, page_size=request.limit, counts=counts
    )


@router.post(
    "/exam-enrolments/{application_id}/certificate-review",
    response_model=CertificateReviewReopened,
    openapi_extra=raises(
        ErrorCode.CERTIFICATE_REVIEW_IN_PROGRESS,
        ErrorCode.ENROLMENT_NOT_CERTIFICATE_REFUSED,
        ErrorCode.CERTIFICATE_HOLDER_ACTIVE,
    ),
)
def reopen_certificate_review(
    application_id: Id,
    body: CertificateReviewReopen,
    principal: Annotated[Principal, permission("exam_enrolments:resubmit")],
    session: SessionDep,
    now: NowDep,
) -> CertificateReviewReopened:
    """重新提交制证：流程状态为“不予制证”的报名，在原因（如照片已更换、信息已更正）消除后，
    其制证审批以新的一轮重新进入通用审批，证件信息和证件照按报名重新取得；须填写原因，记入审批进度和审计日志。
    只能从“不予制证”提交一次：重复或同时提交答 409 CERTIFICATE_REVIEW_IN_PROGRESS。"""
    return certification.reopen_review(session, principal, application_id, body.reason, now=now)


@read_only(router, "/exam-pass-rules", response_model=list[PassRulePublic])
def list_pass_rules(principal: ExamViewer, session: SessionDep) -> list[PassRulePublic]:
    """可选的成绩合格标准。"""
    out = []
    for row in rules.list_rules(session):
        rule = rules.rule_of(row)
        out.append(
            PassRulePublic(
                id=row.id, key=row.key, name=row.name, description=rule.describe(), rule=rule
            )
        )
    return out


@read_only(router, "/exams", response_model=Page[ExamPublic])
def list_exams(
    principal: ExamViewer,
    session: SessionDep,
    status: ExamStatus | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Page[ExamPublic]:
    request = PageRequest(page, page_size)
    rows, total = scheduling.list_exams(
        session, principal, status=status, offset=request.offset, limit=request.limit
    )
    return Page[ExamPublic](
        items=[_public(session, e) for e in rows], total=total, page=page, page_size=request.limit
    )


@router.post("/exams", response_model=ExamPublic, status_code=201)
def create_exam(
    body: ExamCreate,
    principal: Annotated[Principal, permission("exams:create")],
    session: SessionDep,
    now: NowDep,
) -> ExamPublic:
    return _public(session, scheduling.create_exam(session, principal, body, now=now))


@read_only(router, "/exams/{exam_id}", response_model=ExamPublic)
def get_exam(exam_id: Id, principal: ExamViewer, session: SessionDep) -> ExamPublic:
    return _public(session, scheduling.get_exam(session, principal, exam_id))


@router.patch("/exams/{exam_id}", response_model=ExamPublic)
def update_exam(
    exam_id: Id,
    body: ExamUpdate,
    principal: Annotated[Principal, permission("exams:update")],
    session: SessionDep,
    now: NowDep,
) -> ExamPublic:
    """修改或改期；已发布的考试改动时间或地点时重新通知全部考生。"""
    return _public(session, scheduling.update_exam(session, principal, exam_id, body, now=now))


@router.post("/exams/{exam_id}/cancel", response_model=ExamPublic)
def cancel_exam(
    exam_id: Id,
    body: ExamCancel,
    principal: Annotated[Principal, permission("exams:delete")],
    session: SessionDep,
    now: NowDep,
) -> ExamPublic:
    """取消考试：考生可另行安排；已发布的考试通知全部考生。"""
    exam = scheduling.cancel_exam(
        session, principal, exam_id, version=body.version, reason=body.reason, now=now
    )
    return _public(session, exam)


@router.post("/exams/{exam_id}/publish", response_model=ExamPublic)
def publish_exam(
    exam_id: Id,
    body: ExamVersion,
    principal: Annotated[Principal, permission("exams:publish")],
    session: SessionDep,
    now: NowDep,
) -> ExamPublic:
    """发布考试安排：冻结考生名单、编排准考证号、向每位考生发送短信和 App 通知。"""
    exam = scheduling.publish(session, principal, exam_id, version=body.version, now=now)
    return _public(session, exam)


@read_only(router, "/exams/{exam_id}/candidates", response_model=list[CandidateLine])
def list_candidates(exam_id: Id, principal: ExamViewer, session: SessionDep) -> list[CandidateLine]:
    exam = scheduling.get_exam(session, principal, exam_id)
    reveal = sees_full_identity(principal)
    rows = scheduling.candidates_of(session, exam)
    units = enrolments.training_units(session, [a.applicant_code for _, a in rows])
    return [_candidate(seat, application, reveal, units) for seat, application in rows]


@router.post("/exams/{exam_id}/candidates", response_model=ExamPublic)
def add_candidates(
    exam_id: Id,
    body: CandidatesChange,
    principal: Annotated[Principal, permission("exams:update")],
    session: SessionDep,
    now: NowDep,
) -> ExamPublic:
    """添加人员（全部成功或全部不添加）。"""
    exam = scheduling.add_candidates(
        session,
        principal,
        exam_id,
        version=body.version,
        application_ids=body.application_ids,
        now=now,
    )
    return _public(session, exam)


@router.post("/exams/{exam_id}/candidates/remove", response_model=ExamPublic)
def remove_candidates(
    exam_id: Id,
    body: CandidatesChange,
    principal: Annotated[Principal, permission("exams:update")],
    session: SessionDep,
    now: NowDep,
) -> ExamPublic:
    exam = scheduling.remove_candidates(
        session,
        principal,
        exam_id,
        version=body.version,
        application_ids=body.application_ids,
        now=now,
    )
    return _public(session, exam)


@read_only(router, "/exams/{exam_id}/eligible", response_model=Page[PickerLine])
def list_eligible(
    exam_id: Id,
    principal: Annotated[Principal, permission("exams:update")],
    session: SessionDep,
    region: Region = None,
    training_unit: Unit = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: Search = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    sort: Sort = None,
) -> Page[PickerLine]:
    """添加人员的候选：已完成全部审批、不在任何未结束考试中且未考试合格的报名，含课程学习进度。
    排序 ``decided_at``、``submitted_at``、``name``、``region_code``、``hours_done``。"""
    scheduling.get_exam(session, principal, exam_id)
    request = PageRequest(page, page_size, sort)
    f = enrolments.EnrolmentFilter(None, region, training_unit, date_from, date_to, q)
    items, total = enrolments.list_eligible(session, principal, f, request)
    return Page[PickerLine](items=items, total=total, page=page, page_size=request.limit)


def _candidate(
    seat: ExamCandidate, application: Application, reveal: bool, units: dict[str, str]
) -> CandidateLine:
    result = ExamResult(seat.result) if seat.result else None
    return CandidateLine(
        id=seat.id,
        application_id=application.id,
        application_number=application.number,
        name=application.applicant_name,
        id_number=application.applicant_code
        if reveal
        else mask_id_number(application.applicant_code) or "",
        region_code=application.region_code,
        training_unit=units.get(application.applicant_code)
        or (application.form or {}).get("training_unit"),
        admission_number=seat.admission_number,
        absent=seat.absent,
        scores=seat.scores,
        result=result,
        result_label=result.label if result else None,
        scores_locked=seat.scores_locked,
    )


def _public(session: Session, exam: Exam) -> ExamPublic:
    rule = scheduling.exam_rule(exam)
    status = ExamStatus(exam.status)
    return ExamPublic(
        id=exam.id,
        name=exam.name,
        address=exam.address,
        starts_at=exam.starts_at,
        ends_at=exam.ends_at,
        seats=exam.seats,
        candidates=scheduling.seats_taken(session, exam.id),
        org_id=exam.org_id,
        org_name=scheduling.org_name(session, exam),
        pass_rule_id=exam.pass_rule_id,
        pass_rule=rule,
        pass_rule_description=rule.describe(),
        status=status,
        status_label=status.label,
        published_at=exam.published_at,
        cancelled_at=exam.cancelled_at,
        cancel_reason=exam.cancel_reason,
        created_at=exam.created_at,
        updated_at=exam.updated_at,
        version=exam.version,
        scores_locked_at=exam.scores_locked_at,
    )
