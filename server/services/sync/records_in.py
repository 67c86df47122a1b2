"""The inbound record types (docs/sync.md, Record catalogue): ``HANDLERS`` by type.

Each handler reads its record's ``data`` strictly (pydantic, ``extra="forbid"`` at every
depth: an unknown, missing or mistyped field is a ``RecordRejectedError``, never a crash) and
then goes through the same service as the intranet's own API or desk, so the same rules hold
whatever the source: intake (``intake.create_application`` / ``intake.resubmit`` with
``commit=False``), the materials store and ``add_material``, the payment gate's column, and the
score import's validation, grading and writing (``scores.parse_entry`` → ``scores.persist``).
A business rule broken (``AppError``) becomes ``RecordRejectedError`` with the error's code and
Chinese message. Nothing here commits: the applier holds the savepoint and the transaction.

The portal acts as one system principal (``SYNC_PRINCIPAL``): intake permission only, the
whole province as its data scope (the portal files for any county; a region without a bureau
is refused by routing, as for the API). Its log lines and audit records name ``SYNC_ACTOR``.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.approval_models import Application
from server.db.exam_models import Exam, ExamCandidate
from server.services import audit
from server.services.approvals import intake
from server.services.approvals.tasks import pending_task, write_log
from server.services.audit import Actor
from server.services.authz import ALL_SCOPE, Principal
from server.services.errors import AppError
from server.services.exams import scheduling, scores
from server.services.materials.records import add_material
from server.services.materials.store import MaterialStore
from server.services.scoresheets import ScoreImport
from server.services.scoresheets.result import ScoreRow
from server.services.sync.incoming import Handler, Incoming, RecordRejectedError
from server.services.sync.records_out import EXTRANET
from shared.approvals import ApplicationStatus, ApprovalAction
from shared.audit_actions import AuditAction, AuditEntity
from shared.enums import BusinessType, DataScopeKind
from shared.errors import ErrorCode
from shared.schemas.applications import ApplicationCreate, ApplicationResubmit, PersonIn
from shared.schemas.common import INT32_MAX
from shared.schemas.exams import ScoresEntry
from shared.schemas.materials import TITLE_MAX
from shared.sync.bundle import STAMP_FORMAT

SYNC_ACTOR = Actor(None, "内外网数据同步（外网门户）")
MATERIAL_MAX_BYTES: int = Settings.model_fields["material_max_bytes"].default
"""The API's default per-file limit (``SGSS_MATERIAL_MAX_BYTES``); a bundle's files are
already bounded by the codec's limits."""


class _SyncPrincipal(Principal):
    """The portal as a caller of intake: its ``actor`` has no user id (no account exists)."""

    @property
    def actor(self) -> Actor:
        return SYNC_ACTOR


SYNC_PRINCIPAL = _SyncPrincipal(
    user_id=0,  # never written: every write here names SYNC_ACTOR (actor id None)
    username="sync",
    name="外网门户",
    org_id=0,
    permissions=frozenset({"applications:intake"}),
    scope=ALL_SCOPE,
    scope_kinds=frozenset({DataScopeKind.all}),
)


# --- reading ``data`` -------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


ExternalRef = Annotated[str, Field(min_length=1, max_length=64)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class MaterialIn(_Strict):
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    filename: str = Field(min_length=1, max_length=200)
    sha256: Sha256


class SyncPerson(PersonIn):
    model_config = ConfigDict(extra="forbid")


class Submitted(ApplicationCreate):
    """``POST /api/v1/applications``'s body with ``external_ref`` required, plus materials."""

    model_config = ConfigDict(extra="forbid")

    persons: list[SyncPerson] = Field(min_length=1, max_length=20)  # type: ignore[assignment]
    external_ref: ExternalRef
    materials: list[MaterialIn] = Field(max_length=100)


class Resubmitted(_Strict):
    external_ref: ExternalRef
    form: dict[Annotated[str, Field(max_length=64)], Any] = Field(max_length=50)
    persons: list[SyncPerson] = Field(min_length=1, max_length=20)
    materials: list[MaterialIn] = Field(max_length=100)


class PaymentConfirmed(_Strict):
    external_ref: ExternalRef
    paid_at: str
    amount_fen: StrictInt = Field(gt=0, le=10**12)
    receipt_no: str = Field(min_length=1, max_length=64)

    @field_validator("paid_at")
    @classmethod
    def _stamp(cls, value: str) -> str:
        try:
            datetime.strptime(value, STAMP_FORMAT)
        except ValueError:
            raise ValueError("须为 YYYY-MM-DDTHH:MM:SSZ 格式的 UTC 时间") from None
        if len(value) != 20:
            raise ValueError("须为 YYYY-MM-DDTHH:MM:SSZ 格式的 UTC 时间")
        return value

    @property
    def paid(self) -> datetime:
        return datetime.strptime(self.paid_at, STAMP_FORMAT).replace(tzinfo=UTC)


class ScoreIn(ScoresEntry):
    model_config = ConfigDict(extra="forbid")

    admission_number: str = Field(min_length=1, max_length=32)
    absent: StrictBool  # required on the wire


class ScoresEntered(_Strict):
    exam_id: StrictInt = Field(ge=1, le=INT32_MAX)
    scores: list[ScoreIn] = Field(min_length=1, max_length=20_000)


M = TypeVar("M", bound=BaseModel)


def _read(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(dict(data))
    except ValidationError as err:
        problems = "；".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(记录)'}：{_problem(e)}"
            for e in err.errors()[:5]
        )
        more = f"等 {err.error_count()} 处" if err.error_count() > 5 else ""
        raise RecordRejectedError(
            ErrorCode.SYNC_RECORD_INVALID.value,
            f"{ErrorCode.SYNC_RECORD_INVALID.message}：{problems}{more}",
        ) from None


def _problem(error: Any) -> str:
    kind = error.get("type")
    if kind == "missing":
        return "缺少该字段"
    if kind == "extra_forbidden":
        return "不允许的字段"
    return str(error.get("msg", "格式不正确"))


def rejected(err: AppError) -> RecordRejectedError:
    """A business rule's refusal as the answer to the record: the code, and the message with
    the first problems the details name (form fields, score rows)."""
    message = err.message
    detail = _detail_text(err.details)
    if detail:
        message = f"{message}（{detail}）"
    return RecordRejectedError(err.code.value, message[:1000])


def _detail_text(details: Any) -> str:
    if isinstance(details, dict):
        rows = details.get("rows") or details.get("form")
        if isinstance(rows, list):
            return "；".join(_detail_text(r) for r in rows[:5])
        if isinstance(rows, dict):
            return "；".join(f"{k}：{v}" for k, v in list(rows.items())[:5])
        if "message" in details:
            column = details.get("column") or details.get("field")
            return f"{column}：{details['message']}" if column else str(details["message"])
    if isinstance(details, list):
        return "；".join(_detail_text(d) for d in details[:5])
    return ""


def _reject(code: ErrorCode, message: str | None = None) -> RecordRejectedError:
    return RecordRejectedError(code.value, message or code.message)


# --- applications -------------------------------------------------------------------------


def _find(session: Session, external_ref: str) -> Application:
    """The portal's application by its reference, its row locked until the transaction ends
    (PostgreSQL; SQLite has the database's write lock once anything is written)."""
    application = session.scalar(
        select(Application)
        .where(Application.external_ref == external_ref, Application.source == EXTRANET)
        .order_by(Application.id)
        .limit(1)
        .with_for_update(of=Application)
        .execution_options(populate_existing=True)  # as it is now, not as the session saw it
    )
    if application is None:
        raise _reject(ErrorCode.SYNC_APPLICATION_UNKNOWN, f"外网申请 {external_ref} 在内网不存在")
    return application


def _files_for(incoming: Incoming, materials: list[MaterialIn]) -> list[bytes]:
    """Each material's bytes, from the bundle files the record names."""
    named = set(incoming.record.files)
    found = []
    for material in materials:
        content = incoming.files.get(material.sha256)
        if material.sha256 not in named or content is None:
            raise _reject(
                ErrorCode.SYNC_FILE_MISSING,
                f"材料“{material.title}”的文件 {material.sha256[:12]}… 不在本记录的附件中",
            )
        found.append(content)
    return found


def _attach(incoming: Incoming, application: Application, materials: list[MaterialIn]) -> None:
    """The materials, through the store and ``add_material`` as the API's upload does (type
    sniffed, name and title checked, audited), on the application's current round."""
    contents = _files_for(incoming, materials)
    store = MaterialStore(incoming.data_dir / "materials")
    for material, content in zip(materials, contents, strict=True):
        add_material(
            incoming.session,
            SYNC_PRINCIPAL,
            application,
            title=material.title,
            filename=material.filename,
            chunks=[content],
            store=store,
            max_bytes=MATERIAL_MAX_BYTES,
            now=incoming.now,
        )


def application_submitted(incoming: Incoming) -> None:
    data = _read(Submitted, incoming.record.data)
    session = incoming.session
    taken = session.scalar(
        select(Application.id).where(Application.external_ref == data.external_ref).limit(1)
    )
    if taken is not None:
        raise _reject(
            ErrorCode.SYNC_EXTERNAL_REF_TAKEN, f"外网申请 {data.external_ref} 已受理，不能重复提交"
        )
    _files_for(incoming, data.materials)  # all present before anything is written
    try:
        application = intake.create_application(
            session, SYNC_PRINCIPAL, data, now=incoming.now, source=EXTRANET, commit=False
        )
        _attach(incoming, application, data.materials)
    except AppError as err:
        raise rejected(err) from None


def application_resubmitted(incoming: Incoming) -> None:
    """The next round of a returned application. The portal cannot know the intranet's
    version number: the row is read here, locked, and its version is the one resubmitted, so
    the optimistic check holds against any change committed before this transaction; a clerk's
    change racing it waits for the lock (PostgreSQL) or the write lock (SQLite)."""
    data = _read(Resubmitted, incoming.record.data)
    session = incoming.session
    application = _find(session, data.external_ref)
    _files_for(incoming, data.materials)
    body = ApplicationResubmit(
        version=application.version,
        form=data.form,
        persons=[PersonIn.model_validate(p.model_dump()) for p in data.persons],
    )
    try:
        intake.resubmit(session, SYNC_PRINCIPAL, application, body, now=incoming.now, commit=False)
        _attach(incoming, application, data.materials)
    except AppError as err:
        raise rejected(err) from None


def payment_confirmed(incoming: Incoming) -> None:
    """缴费确认 from the portal: the payment gate of an open enrolment (``paid_at``), with an
    internal log line and an audit record. An enrolment already paid stays as it is (the
    record is applied, nothing changes): a payment confirmed on the desk first is no error."""
    data = _read(PaymentConfirmed, incoming.record.data)
    session = incoming.session
    application = _find(session, data.external_ref)
    if application.business_type != BusinessType.guard_exam_enrolment:
        raise _reject(ErrorCode.SYNC_PAYMENT_REFUSED, "该申请不是保安员考试报名，无需缴费")
    if application.status != ApplicationStatus.in_review:
        raise _reject(ErrorCode.SYNC_PAYMENT_REFUSED, "该报名当前不在审批中，不能确认缴费")
    if application.paid_at is not None:
        return
    now = incoming.now
    before = intake.snapshot(application)
    application.paid_at = data.paid
    application.updated_at = now
    session.flush()
    yuan = f"{data.amount_fen // 100}.{data.amount_fen % 100:02d}"
    write_log(
        session,
        application,
        action=ApprovalAction.payment,
        now=now,
        actor_id=None,
        actor_name=SYNC_ACTOR.name[:64],
        task=pending_task(session, application.id),
        opinion=f"外网缴费确认：收据号 {data.receipt_no}，金额 {yuan} 元",
    )
    audit.record(
        session,
        now=now,
        actor=SYNC_ACTOR,
        action=AuditAction.of_application(ApprovalAction.payment),
        entity_type=AuditEntity.APPLICATION,
        entity_id=application.id,
        org_id=application.org_id,
        before=before,
        after={
            **intake.snapshot(application),
            "paid_at": data.paid_at,
            "amount_fen": data.amount_fen,
            "receipt_no": data.receipt_no,
        },
    )


# --- exams ----------------------------------------------------------------------------------


def exam_scores_entered(incoming: Incoming) -> None:
    """成绩 entered on the extranet (seeds 000 §2.5, 001 §6.2.5) for candidates the portal was
    told of (``exam.arranged``): read by the desk's rules (``scores.parse_entry``), all rows or
    none, graded by the exam's rule and written by the import's ``persist`` under the exam's
    lock; an unchanged candidate is not written again."""
    data = _read(ScoresEntered, incoming.record.data)
    session = incoming.session
    exam = session.get(Exam, data.exam_id)
    if exam is None:
        raise _reject(ErrorCode.SYNC_EXAM_UNKNOWN)
    try:
        _enter_scores(incoming, exam, data)
    except AppError as err:
        raise rejected(err) from None


def _enter_scores(incoming: Incoming, exam: Exam, data: ScoresEntered) -> None:
    session, now = incoming.session, incoming.now
    refusal = scores.entry_refusal(exam, now)
    if refusal is not None:
        raise refusal
    rule = scheduling.exam_rule(exam)
    portal_seats = dict(
        session.execute(
            select(ExamCandidate.admission_number, ExamCandidate.id)
            .join(Application, Application.id == ExamCandidate.application_id)
            .where(
                ExamCandidate.exam_id == exam.id,
                ExamCandidate.admission_number.is_not(None),
                Application.source == EXTRANET,
                Application.external_ref.is_not(None),
            )
        ).all()
    )
    problems: list[dict[str, Any]] = []
    rows: list[ScoreRow] = []
    seen: set[str] = set()
    for number, item in enumerate(data.scores, start=1):
        where = f"第{number}条（准考证号 {item.admission_number}）"
        if item.admission_number not in portal_seats:
            problems.append({"column": where, "message": "不是该考试中外网报名的考生"})
            continue
        if item.admission_number in seen:
            problems.append({"column": where, "message": "准考证号重复"})
            continue
        seen.add(item.admission_number)
        entry = ScoresEntry(absent=item.absent, scores=item.scores)
        marks, found = scores.parse_entry(rule, entry)
        problems += [{**p, "column": f"{where}{p['column']}"} for p in found]
        rows.append(ScoreRow(number, item.admission_number, marks))
    if problems:
        raise AppError(ErrorCode.SCORE_INVALID, details={"rows": problems, "total": len(problems)})
    scores.lock(session, exam)
    refusal = scores.entry_refusal(exam, now)
    if refusal is not None:
        raise refusal
    seats = session.scalar(
        select(func.count(ExamCandidate.id)).where(
            ExamCandidate.exam_id == exam.id, ExamCandidate.admission_number.is_not(None)
        )
    )
    result = ScoreImport(exam.id, tuple(rows), (), not_in_file=(seats or 0) - len(rows))
    planned = scores.persist(session, exam, result, scores.Grader(rule), now=now, user_id=None)
    if planned.changes:
        audit.record(
            session,
            now=now,
            actor=SYNC_ACTOR,
            action=AuditAction.EXAM_SCORES_IMPORT,
            entity_type=AuditEntity.EXAM,
            entity_id=exam.id,
            org_id=exam.org_id,
            after={**planned.counts, "source": EXTRANET, "record": str(incoming.record.id)},
        )


HANDLERS: dict[str, Handler] = {
    "application.submitted": application_submitted,
    "application.resubmitted": application_resubmitted,
    "payment.confirmed": payment_confirmed,
    "exam.scores_entered": exam_scores_entered,
}
"""Every inbound type this server applies; any other type is the applier's to answer with
``record.rejected`` (``SYNC_RECORD_TYPE_UNKNOWN``)."""
