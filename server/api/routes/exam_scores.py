"""Routes: 录入成绩 — an exam's score template, the import (and its dry run and error file),
the grid, 通知成绩 and 更正成绩. Thin over ``server/services/exams/scores.py``."""

from typing import Annotated, Any

from fastapi import APIRouter, File, Response, UploadFile

from server.api.deps import ContextDep, NowDep, SessionDep, permission, read_only
from server.api.guards import upload_limit
from server.api.openapi import raises
from server.api.responses import ModelRoute
from server.api.routes.materials import content_disposition
from server.api.routes.screening import import_limits
from server.services.authz import Principal
from server.services.exams import scores
from shared.errors import ErrorCode
from shared.schemas.common import Id
from shared.schemas.exams import (
    AmendmentLine,
    ExamVersion,
    ScoreImportCounts,
    ScoreLine,
    ScoresAmend,
    ScoresEntry,
    ScoreSheetPublic,
)

router = APIRouter(tags=["exam-scores"], route_class=ModelRoute)
Importer = Annotated[Principal, permission("exam_scores:import")]
Viewer = Annotated[Principal, permission("exam_scores:view")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_ANSWER: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX: {}}}}
ScoreFile = Annotated[UploadFile, File(description="填写好的成绩导入模板（.xlsx）")]


def _xlsx(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type=XLSX,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def _read(file: UploadFile, limit: int) -> bytes:
    """The upload, at most one byte past the limit (the reader then names the limit)."""
    return file.file.read(limit + 1)


@read_only(
    router, "/exams/{exam_id}/score-template", response_class=Response, responses=XLSX_ANSWER
)
def score_template(
    exam_id: Id, principal: Importer, session: SessionDep, context: ContextDep
) -> Response:
    """下载成绩导入模板：本场考试的考生名单（准考证号、姓名、身份证号）及已录入的成绩。"""
    data, filename = scores.template(session, principal, exam_id, key=context.signer.key)
    return _xlsx(data, filename)


@read_only(router, "/exams/{exam_id}/scores", response_model=ScoreSheetPublic)
def score_sheet(
    exam_id: Id, principal: Viewer, session: SessionDep, now: NowDep
) -> ScoreSheetPublic:
    """录入成绩的表格：科目、是否已通知成绩、每位考生的成绩与结果。"""
    return scores.score_sheet(session, principal, exam_id, now=now)


@read_only(router, "/exams/{exam_id}/scores/amendments", response_model=list[AmendmentLine])
def score_amendments(exam_id: Id, principal: Viewer, session: SessionDep) -> list[AmendmentLine]:
    """更正成绩记录，新的在前。"""
    return scores.amendments(session, principal, exam_id)


@router.post(
    "/exams/{exam_id}/scores/import",
    response_model=ScoreImportCounts,
    openapi_extra={
        **upload_limit("import_max_bytes"),
        **raises(
            ErrorCode.SCORE_IMPORT_INVALID,
            ErrorCode.SCORES_LOCKED,
            ErrorCode.SCORES_EXAM_NOT_PUBLISHED,
            ErrorCode.SCORES_EXAM_NOT_STARTED,
        ),
    },
)
def import_scores(
    exam_id: Id,
    file: ScoreFile,
    principal: Importer,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    dry_run: bool = False,
) -> ScoreImportCounts:
    """导入成绩：逐行检查，任一行有误则不导入（422，details.rows 列出每处错误）；
    ``dry_run=true`` 只检查不写入。同一文件重复导入不会改变任何数据（unchanged）。"""
    limits = import_limits(context.settings)
    return scores.import_scores(
        session,
        principal,
        exam_id,
        _read(file, limits.max_bytes),
        key=context.signer.key,
        limits=limits,
        dry_run=dry_run,
        now=now,
        filename=file.filename or "",
    )


@router.post(
    "/exams/{exam_id}/scores/error-workbook",
    response_class=Response,
    responses=XLSX_ANSWER,
    openapi_extra=upload_limit("import_max_bytes"),
)
def score_error_workbook(
    exam_id: Id, file: ScoreFile, principal: Importer, session: SessionDep, context: ContextDep
) -> Response:
    """错误标注文件：上传的成绩表，出错的单元格标红并注明原因。"""
    limits = import_limits(context.settings)
    data, filename = scores.error_file(
        session,
        principal,
        exam_id,
        _read(file, limits.max_bytes),
        key=context.signer.key,
        limits=limits,
    )
    return _xlsx(data, filename)


@router.put(
    "/exams/{exam_id}/candidates/{candidate_id}/scores",
    response_model=ScoreLine,
    openapi_extra=raises(ErrorCode.SCORE_INVALID, ErrorCode.SCORES_LOCKED),
)
def set_scores(
    exam_id: Id,
    candidate_id: Id,
    body: ScoresEntry,
    principal: Annotated[Principal, permission("exam_scores:update")],
    session: SessionDep,
    now: NowDep,
) -> ScoreLine:
    """逐个录入一位考生的成绩（与导入相同的检查和提示）。"""
    return scores.set_scores(session, principal, exam_id, candidate_id, body, now=now)


@router.post(
    "/exams/{exam_id}/scores/notify",
    response_model=ScoreSheetPublic,
    openapi_extra=raises(ErrorCode.SCORES_INCOMPLETE, ErrorCode.SCORES_LOCKED),
)
def notify_scores(
    exam_id: Id,
    body: ExamVersion,
    principal: Annotated[Principal, permission("exam_scores:notify")],
    session: SessionDep,
    now: NowDep,
) -> ScoreSheetPublic:
    """通知成绩：须每位考生都已录入成绩或标记缺考；锁定成绩，向每位考生发送短信和 App 通知。"""
    scores.notify(session, principal, exam_id, version=body.version, now=now)
    return scores.score_sheet(session, principal, exam_id, now=now)


@router.post(
    "/exams/{exam_id}/scores/amend",
    response_model=ScoreLine,
    openapi_extra=raises(
        ErrorCode.SCORE_AMEND_REASON_REQUIRED,
        ErrorCode.SCORE_AMEND_NO_CHANGE,
        ErrorCode.SCORES_NOT_LOCKED,
    ),
)
def amend_scores(
    exam_id: Id,
    body: ScoresAmend,
    principal: Annotated[Principal, permission("exam_scores:amend")],
    session: SessionDep,
    now: NowDep,
) -> ScoreLine:
    """更正成绩（通知成绩之后）：须填写原因；重新评定结果并通知该考生。"""
    return scores.amend(session, principal, exam_id, body, now=now)
