"""录入成绩: an exam's scores — the template, the import, the grid, 通知成绩 and 更正成绩
(docs/exams-scores.md).

The score sheet codec (``server/services/scoresheets``) reads and validates a file without a
database; this module gives it the exam (``sheet_spec``), grades by the exam's own rule
(``shared.exams.grade``, the one place that decides) and persists.

Writing scores follows one order everywhere: check what can be checked without a lock (the
exam's state, the file: reading and validating is the slow part), then take the exam's row
(``lock``: a write on PostgreSQL and SQLite alike, so two imports, an import and 通知成绩, or
two clerks in the grid are serialised), look again at the exam as it now is, compare with the
stored scores and write only what differs, in one transaction. So an import is all or nothing,
importing the same file again writes nothing (every row ``unchanged``), and of two identical
imports at the same moment the second finds the first's scores.

A candidate's scores are NULL until entered (``result`` NULL), ``{}`` when absent; marks are
JSON numbers (85, 85.5). 通知成绩 locks the exam (``exams.scores_locked_at``) and every seat
(``scores_locked``; ``is_open`` false, so a failed candidate may sit another exam); after it a
change is an amendment with its reason (``exam_score_amendments``), audited and notified.
"""

import hashlib
import hmac
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from server.db.approval_models import Application
from server.db.base import UTCDateTime
from server.db.exam_models import Exam, ExamCandidate, ExamScoreAmendment
from server.db.models import User
from server.services import audit, notifications
from server.services.approvals.access import sees_full_identity
from server.services.authz import Principal
from server.services.errors import AppError, check_version, not_found
from server.services.exams import certification, scheduling
from server.services.scoresheets import (
    Candidate,
    Marks,
    ScoreImport,
    SheetSpec,
    Subject,
    error_workbook,
    normalise,
    read_scores,
    write_template,
)
from server.services.scoresheets.spec import ABSENT_COLUMN
from server.services.spreadsheets import ImportLimits, collector_paused
from server.services.sync import records_out
from shared.audit_actions import AuditAction, AuditEntity
from shared.errors import ErrorCode
from shared.exams import ExamResult, ExamStatus, Grade, PassRule, ScoreError, grade
from shared.masking import mask_id_number
from shared.schemas.exams import (
    AmendmentLine,
    ScoreImportCounts,
    ScoreLine,
    ScoresAmend,
    ScoresEntry,
    ScoreSheetPublic,
)

_TEMPLATE_KEY_LABEL = b"sgss-score-template-key-v1"
_SHOWN_MISSING = 20


def template_key(master: bytes) -> bytes:
    """The key that signs score templates, derived from the server's document key (one secret
    to keep, a key of its own per purpose)."""
    return hmac.new(master, _TEMPLATE_KEY_LABEL, hashlib.sha256).digest()


# --- the exam's state ---------------------------------------------------------------------


def entry_refusal(exam: Exam, now: datetime) -> AppError | None:
    """Why scores cannot be entered or imported now, or None: the exam must be published (a
    draft has no admission numbers, a cancelled one no candidates), have begun, and its scores
    not be locked by 通知成绩."""
    if exam.status != ExamStatus.published:
        return AppError(ErrorCode.SCORES_EXAM_NOT_PUBLISHED)
    if exam.scores_locked_at is not None:
        return AppError(ErrorCode.SCORES_LOCKED)
    if now < exam.starts_at:
        return AppError(ErrorCode.SCORES_EXAM_NOT_STARTED)
    return None


def _may_enter(exam: Exam, now: datetime) -> None:
    refusal = entry_refusal(exam, now)
    if refusal is not None:
        raise refusal


def lock(session: Session, exam: Exam) -> None:
    """Take the exam's row until commit and read it again as it now is. The statement writes
    (a value onto itself): on PostgreSQL it waits for another holder of the row, on SQLite it
    begins the write transaction (the driver begins one only before a write), waiting for
    another writer; a SELECT … FOR UPDATE would lock nothing on SQLite."""
    table = cast(Table, Exam.__table__)
    session.execute(
        update(table).where(table.c.id == exam.id).values(scores_locked_at=table.c.scores_locked_at)
    )
    session.refresh(exam)


# --- the roster -------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """A candidate of the exam as stored: who, and the scores entered so far."""

    id: int
    application_id: int
    admission_number: str
    name: str
    id_number: str
    absent: bool
    scores: dict[str, Any] | None
    result: str | None

    @property
    def stored(self) -> tuple[bool, dict[str, Any] | None, str | None]:
        return self.absent, self.scores, self.result


_ROSTER = (
    select(
        ExamCandidate.id,
        ExamCandidate.application_id,
        ExamCandidate.admission_number,
        Application.applicant_name,
        Application.applicant_code,
        ExamCandidate.absent,
        ExamCandidate.scores,
        ExamCandidate.result,
    )
    .join(Application, Application.id == ExamCandidate.application_id)
    .where(
        ExamCandidate.exam_id == bindparam("exam_id"),
        ExamCandidate.admission_number.is_not(None),
    )
    .order_by(ExamCandidate.admission_number)
)


def roster(session: Session, exam: Exam) -> list[Seat]:
    """The published list (seats with an admission number), in admission-number order; one
    query of the columns needed, no ORM objects (20,000 candidates are read per import)."""
    return [Seat(*row) for row in session.execute(_ROSTER, {"exam_id": exam.id})]


def subjects_of(rule: PassRule) -> tuple[Subject, ...]:
    return tuple(Subject(s.key, s.name, Decimal(str(s.full_mark))) for s in rule.subjects)


_LISTED = (
    select(ExamCandidate.admission_number, Application.applicant_name, Application.applicant_code)
    .join(Application, Application.id == ExamCandidate.application_id)
    .where(
        ExamCandidate.exam_id == bindparam("exam_id"),
        ExamCandidate.admission_number.is_not(None),
    )
    .order_by(ExamCandidate.admission_number)
)


def listed(session: Session, exam: Exam) -> tuple[Candidate, ...]:
    """The published list as the score sheet names it, for the import: three text columns in
    one query (``roster`` also reads and parses every candidate's scores, which the import
    reads again under the lock)."""
    return tuple(map(Candidate._make, session.execute(_LISTED, {"exam_id": exam.id})))


def sheet_spec(exam: Exam, candidates: Iterable[Candidate]) -> SheetSpec:
    rule = scheduling.exam_rule(exam)
    return SheetSpec(exam.id, exam.name, subjects_of(rule), tuple(candidates))


def _foreign(session: Session, principal: Principal, exam: Exam) -> Callable[..., Any]:
    """Which admission numbers belong to another exam in the caller's scope (one query)."""

    def lookup(numbers: Collection[str]) -> Mapping[str, str]:
        wanted = list(numbers)[:1000]
        rows = session.execute(
            select(ExamCandidate.admission_number, Exam.name)
            .join(Exam, Exam.id == ExamCandidate.exam_id)
            .where(
                ExamCandidate.admission_number.in_(wanted),
                ExamCandidate.exam_id != exam.id,
                principal.scope.clause(Exam.org_id),
            )
        )
        return {number: name for number, name in rows if number}

    return lookup


# --- grading --------------------------------------------------------------------------------


def _json_mark(value: Decimal) -> int | float:
    """A mark as stored in JSON: 85, not 85.0; 85.5 as a float (two decimals at most)."""
    return int(value) if value == value.to_integral_value() else float(value)


class Grader:
    """``shared.exams.grade`` under one rule, remembered per distinct set of marks: a sheet of
    20,000 rows holds a few thousand distinct ones. Each is also written as the JSON text that
    is stored (``json.dumps``, as SQLAlchemy's JSON type writes it), once."""

    def __init__(self, rule: PassRule) -> None:
        self.rule = rule
        self._memo: dict[tuple[bool, tuple[tuple[str, Decimal], ...]], _Graded] = {}

    def __call__(self, marks: Marks) -> tuple[dict[str, int | float], Grade]:
        stored, graded, _ = self.graded(marks)
        return stored, graded

    def graded(self, marks: Marks) -> "_Graded":
        """(the marks as stored, their grade, the stored JSON text)."""
        key = (marks.absent, tuple(sorted(marks.scores.items())))
        known = self._memo.get(key)
        if known is None:
            stored = {k: _json_mark(v) for k, v in key[1]}
            graded = grade(self.rule, stored, absent=key[0])  # ints grade as their floats
            known = self._memo[key] = (stored, graded, json.dumps(stored))
        return known


_Graded = tuple[dict[str, int | float], Grade, str]


# --- the template and the import ----------------------------------------------------------


def _filename(exam: Exam, what: str) -> str:
    safe = "".join("_" if ch in '\\/:*?"<>|' or ch < " " else ch for ch in exam.name)
    return f"{safe}-{what}.xlsx"


def _filled(seats: list[Seat]) -> dict[str, Marks]:
    filled = {}
    for seat in seats:
        if seat.result is None:
            continue
        scores = {k: Decimal(str(v)) for k, v in (seat.scores or {}).items()}
        filled[seat.admission_number] = Marks(seat.absent, scores)
    return filled


def template(
    session: Session, principal: Principal, exam_id: int, *, key: bytes
) -> tuple[bytes, str]:
    """The score template of a published exam (with the marks already entered), and its name."""
    principal.require("exam_scores:import")
    exam = scheduling.get_exam(session, principal, exam_id)
    if exam.status != ExamStatus.published:
        raise AppError(ErrorCode.SCORES_EXAM_NOT_PUBLISHED)
    seats = roster(session, exam)
    candidates = (Candidate(s.admission_number, s.name, s.id_number) for s in seats)
    data = write_template(sheet_spec(exam, candidates), template_key(key), filled=_filled(seats))
    return data, _filename(exam, "成绩导入模板")


def read_upload(
    session: Session,
    principal: Principal,
    exam: Exam,
    data: bytes,
    *,
    key: bytes,
    limits: ImportLimits,
) -> tuple[SheetSpec, ScoreImport]:
    spec = sheet_spec(exam, listed(session, exam))
    result = read_scores(
        data, spec, template_key(key), limits=limits, foreign=_foreign(session, principal, exam)
    )
    return spec, result


def error_file(
    session: Session,
    principal: Principal,
    exam_id: int,
    data: bytes,
    *,
    key: bytes,
    limits: ImportLimits,
) -> tuple[bytes, str]:
    """The uploaded file with every bad cell marked (错误标注文件), and its name."""
    principal.require("exam_scores:import")
    exam = scheduling.get_exam(session, principal, exam_id)
    spec, result = read_upload(session, principal, exam, data, key=key, limits=limits)
    return error_workbook(result, spec, template_key(key)), _filename(exam, "成绩错误标注")


@dataclass
class Plan:
    """What an import would write: the changed candidates as (seat id, absent, scores as JSON
    text, result), and the counts of the answer."""

    changes: list[tuple[int, bool, str, str]]
    counts: dict[str, int]


_STORED = text(
    "SELECT admission_number, id, absent, CAST(scores AS TEXT), result FROM exam_candidates "
    "WHERE exam_id = :exam_id AND admission_number IS NOT NULL"
)
# admission number → (seat id, absent, scores as JSON text or None, result) as stored
Stored = dict[str, tuple[int, bool, str | None, str | None]]


def stored_scores(session: Session, exam: Exam) -> Stored:
    """The exam's seats as stored, in one query of plain values (20,000 rows per import): the
    JSON stays text, compared as text and parsed only when the text differs (``plan``)."""
    rows = session.execute(_STORED, {"exam_id": exam.id}).all()
    return {
        number: (seat, bool(absent), text_, value) for number, seat, absent, text_, value in rows
    }


def plan(result: ScoreImport, stored: Stored, grader: Grader) -> Plan:
    """Grade every row and compare it with what is stored: a row equal to it is unchanged.

    One pass over the rows. The reader gives the rows that typed the same marks one shared
    ``Marks``, so each distinct set is graded (``shared.exams.grade`` through ``grader``) and
    written as JSON once, then looked up by identity (the rows keep those objects alive for the
    whole pass). A stored row is equal when its absent flag and result are, and its JSON is the
    same text or, written some other way, the same value."""
    wanted: dict[int, tuple[bool, str, str, dict[str, int | float]]] = {}
    known_text: dict[str, Any] = {}
    tally = {"passed": 0, "failed": 0, "absent": 0}
    changes: list[tuple[int, bool, str, str]] = []
    change = changes.append
    unchanged = 0
    for _, admission, marks in result.rows:
        mine = wanted.get(id(marks))
        if mine is None:
            scores, graded, marks_text = grader.graded(marks)
            mine = wanted[id(marks)] = (marks.absent, marks_text, graded.result.value, scores)
        absent, marks_text, value, scores = mine
        tally[value] += 1
        seat_id, was_absent, was_text, was_value = stored[admission]
        if was_absent == absent and was_value == value:
            if was_text == marks_text:
                unchanged += 1
                continue
            if was_text is not None:
                if was_text not in known_text:
                    known_text[was_text] = json.loads(was_text)
                if known_text[was_text] == scores:
                    unchanged += 1
                    continue
        change((seat_id, absent, marks_text, value))
    rows = len(result.rows)
    counts = {
        "rows": rows,
        "scored": rows - tally["absent"],
        **tally,
        "unchanged": unchanged,
        "written": len(changes),
        "not_in_file": result.not_in_file,
    }
    return Plan(changes, counts)


_WRITE_PG = text(
    "UPDATE exam_candidates AS c SET absent = v.a, scores = v.s, result = v.r, "
    "scored_at = :at, scored_by_id = :by "
    "FROM json_to_recordset(CAST(:rows AS json)) AS v(i integer, a boolean, s json, r text) "
    "WHERE c.id = v.i"
).bindparams(bindparam("at", type_=UTCDateTime()))
_WRITE_SQLITE = (
    "UPDATE exam_candidates SET absent = ?, scores = ?, result = ?, scored_at = ?, "
    "scored_by_id = ? WHERE id = ?"
)


def write_scores(
    session: Session,
    changes: list[tuple[int, bool, str, str]],
    *,
    now: datetime,
    user_id: int | None,
) -> None:
    """The changed candidates in one round trip, no ORM object and no per-row processing by
    SQLAlchemy. PostgreSQL: one UPDATE … FROM json_to_recordset of one JSON document (an
    array parameter of 20,000 texts costs more to send than the update itself). SQLite: one
    executemany straight on the driver (in-process, so a statement per row costs no trip)."""
    if not changes:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        # every part is JSON already: an id, a boolean, json.dumps' text, a result value
        rows = ",".join(
            [
                f'{{"i":{seat},"a":{"true" if absent else "false"},"s":{marks},"r":"{value}"}}'
                for seat, absent, marks, value in changes
            ]
        )
        connection.execute(_WRITE_PG, {"rows": f"[{rows}]", "at": now, "by": user_id})
        return
    at = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    stamp = at(now) if at else now  # the text SQLAlchemy stores, made once, not per row
    connection.exec_driver_sql(
        _WRITE_SQLITE,
        [(absent, marks, value, stamp, user_id, seat) for seat, absent, marks, value in changes],
    )


@collector_paused()
def persist(
    session: Session,
    exam: Exam,
    result: ScoreImport,
    grader: Grader,
    *,
    now: datetime,
    user_id: int | None,
) -> Plan:
    """Grade, compare and write a clean import, the exam's row already taken (``lock``);
    the caller commits. The benchmark times this with the reading (bench/scores.py)."""
    planned = plan(result, stored_scores(session, exam), grader)
    write_scores(session, planned.changes, now=now, user_id=user_id)
    return planned


@collector_paused()
def import_scores(
    session: Session,
    principal: Principal,
    exam_id: int,
    data: bytes,
    *,
    key: bytes,
    limits: ImportLimits,
    dry_run: bool,
    now: datetime,
    filename: str = "",
) -> ScoreImportCounts:
    """导入成绩: all rows or none; SCORE_IMPORT_INVALID (422, ``details.rows``) names every
    problem. A dry run validates, grades and compares, and writes nothing."""
    principal.require("exam_scores:import")
    exam = scheduling.get_exam(session, principal, exam_id)
    _may_enter(exam, now)
    _, result = read_upload(session, principal, exam, data, key=key, limits=limits)
    if not result.ok:
        raise result.refusal()
    grader = Grader(scheduling.exam_rule(exam))
    if dry_run:
        return ScoreImportCounts(
            dry_run=True, **plan(result, stored_scores(session, exam), grader).counts
        )
    lock(session, exam)
    _may_enter(exam, now)
    planned = persist(session, exam, result, grader, now=now, user_id=principal.user_id)
    if planned.changes:
        audit.record(
            session,
            now=now,
            actor=principal.actor,
            action=AuditAction.EXAM_SCORES_IMPORT,
            entity_type=AuditEntity.EXAM,
            entity_id=exam.id,
            org_id=exam.org_id,
            after={**planned.counts, "filename": filename[:200], "digest": result.digest},
        )
    session.commit()
    return ScoreImportCounts(dry_run=False, **planned.counts)


# --- the grid, one candidate at a time ---------------------------------------------------


def parse_entry(rule: PassRule, entry: ScoresEntry) -> tuple[Marks, list[dict[str, Any]]]:
    """The grid's values read by the import's rules, with the import's messages; problems in
    the shape of ``details.rows`` (no sheet or row: the column is the subject's name)."""
    subjects = subjects_of(rule)
    problems: list[dict[str, Any]] = []

    def problem(column: str, message: str) -> None:
        problems.append({"sheet": None, "row": None, "column": column, "message": message})

    known = {s.key for s in subjects}
    for key in sorted(set(entry.scores) - known):
        problem(key, f"成绩合格标准中没有科目：{key}")
    scores: dict[str, Decimal] = {}
    missing: list[str] = []
    for subject in subjects:
        value = normalise.score(entry.scores.get(subject.key), subject.full_mark)
        if value is None:
            missing.append(subject.name)
        elif isinstance(value, str):
            problem(subject.name, value)
        elif entry.absent:
            problem(subject.name, "已标记缺考，不应填写成绩")
        else:
            scores[subject.key] = value
    if missing and not entry.absent:
        if len(missing) == len(subjects):
            problem(missing[0], f"未填写成绩；缺考请在“{ABSENT_COLUMN}”列填“是”")
        else:
            for name in missing:
                problem(name, "缺少该科目成绩")
    return Marks(entry.absent, scores), problems


def _graded(rule: PassRule, entry: ScoresEntry) -> tuple[dict[str, int | float], Grade, bool]:
    marks, problems = parse_entry(rule, entry)
    if problems:
        raise AppError(ErrorCode.SCORE_INVALID, details={"rows": problems, "total": len(problems)})
    try:
        scores, graded = Grader(rule)(marks)
    except ScoreError as err:  # the parse above leaves nothing grade refuses; kept as a guard
        raise AppError(ErrorCode.SCORE_INVALID, str(err)) from None
    return scores, graded, marks.absent


def _seat(session: Session, exam: Exam, candidate_id: int) -> ExamCandidate:
    seat = session.scalar(
        select(ExamCandidate).where(
            ExamCandidate.id == candidate_id,
            ExamCandidate.exam_id == exam.id,
            ExamCandidate.admission_number.is_not(None),
        )
    )
    if seat is None:
        raise not_found("exam_candidate")
    return seat


def _state(seat: ExamCandidate) -> dict[str, Any]:
    return {"absent": seat.absent, "scores": seat.scores, "result": seat.result}


def set_scores(
    session: Session,
    principal: Principal,
    exam_id: int,
    candidate_id: int,
    entry: ScoresEntry,
    *,
    now: datetime,
) -> ScoreLine:
    """One candidate's scores from the grid (录入成绩), by the import's rules."""
    principal.require("exam_scores:update")
    exam = scheduling.get_exam(session, principal, exam_id)
    _may_enter(exam, now)
    scores, graded, absent = _graded(scheduling.exam_rule(exam), entry)
    lock(session, exam)
    _may_enter(exam, now)
    seat = _seat(session, exam, candidate_id)
    before = _state(seat)
    after = {"absent": absent, "scores": scores, "result": graded.result.value}
    if before != after:
        seat.absent, seat.scores, seat.result = absent, scores, graded.result.value
        seat.scored_at, seat.scored_by_id = now, principal.user_id
        audit.record(
            session,
            now=now,
            actor=principal.actor,
            action=AuditAction.EXAM_SCORES_UPDATE,
            entity_type=AuditEntity.EXAM,
            entity_id=exam.id,
            org_id=exam.org_id,
            before={"admission_number": seat.admission_number, **before},
            after={"admission_number": seat.admission_number, **after},
        )
    session.commit()
    return line_of(session, principal, exam, seat.id)


# --- 通知成绩 and 更正成绩 -------------------------------------------------------------------


def _marks_text(rule: PassRule, scores: Mapping[str, Any] | None) -> str:
    given = scores or {}
    return "、".join(f"{s.name} {given.get(s.key, 0):g} 分" for s in rule.subjects)


def _result_text(rule: PassRule, absent: bool, scores: Mapping[str, Any] | None) -> str:
    graded = grade(rule, {k: float(v) for k, v in (scores or {}).items()}, absent=absent)
    if graded.result is ExamResult.absent:
        return "您未参加考试（缺考），结果：缺考"
    text_ = f"成绩：{_marks_text(rule, scores)}，结果：{graded.result.label}"
    if graded.reasons:
        text_ += f"（{'；'.join(graded.reasons)}）"
    return text_


def _tell(
    session: Session,
    exam: Exam,
    seats: list[ExamCandidate],
    *,
    now: datetime,
    subject: str,
    lead: str = "",
    amended: bool = False,
) -> int:
    """One SMS (when a mobile is known) and one app notice per candidate, through the outbox;
    the same notice to the portal for those who enrolled there (``amended``: 更正成绩)."""
    rule = scheduling.exam_rule(exam)
    records_out.emit_scores_notified(session, exam, rule, seats, amended=amended, now=now)
    people = scheduling.applicants(session, [s.application_id for s in seats])
    told = 0
    for seat in seats:
        person = people.get(seat.application_id)
        if person is None:
            continue
        body = (
            f"{person.name}：{lead}您参加的“{exam.name}”（准考证号 {seat.admission_number}）"
            f"{_result_text(rule, seat.absent, seat.scores)}。"
        )
        if person.mobile:
            notifications.enqueue_sms(
                session, now=now, mobile=person.mobile, subject=subject, body=body, user_id=None
            )
        notifications.enqueue_app(
            session, now=now, recipient=person.id_number, subject=subject, body=body
        )
        told += 1
    return told


def notify(
    session: Session, principal: Principal, exam_id: int, *, version: int, now: datetime
) -> Exam:
    """【通知成绩】: every candidate scored or absent; lock the scores, close the seats, queue one
    SMS and one app notice per candidate, and open 制证审批 for those who passed."""
    principal.require("exam_scores:notify")
    exam = scheduling.get_exam(session, principal, exam_id)
    _may_enter(exam, now)
    check_version(version, exam.version)
    lock(session, exam)
    _may_enter(exam, now)
    check_version(version, exam.version)
    missing = [s.admission_number for s in roster(session, exam) if s.result is None]
    if missing:
        session.rollback()
        raise AppError(
            ErrorCode.SCORES_INCOMPLETE,
            f"还有{len(missing)}名考生未录入成绩，也未标记缺考，不能通知成绩",
            {"missing": len(missing), "admission_numbers": missing[:_SHOWN_MISSING]},
        )
    seats = list(
        session.scalars(
            select(ExamCandidate)
            .where(ExamCandidate.exam_id == exam.id, ExamCandidate.admission_number.is_not(None))
            .order_by(ExamCandidate.admission_number)
        )
    )
    for seat in seats:
        seat.scores_locked = True
        seat.is_open = False
        seat.scores_notified_at = now
    exam.scores_locked_at = now
    exam.scores_locked_by_id = principal.user_id
    exam.updated_at = now
    session.flush()
    notified = _tell(session, exam, seats, now=now, subject="保安员资格考试成绩通知")
    reviews = certification.open_reviews(session, principal, exam, now)  # passed → 制证审批
    counts = _counts_of(seats)
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.EXAM_SCORES_NOTIFY,
        entity_type=AuditEntity.EXAM,
        entity_id=exam.id,
        org_id=exam.org_id,
        after={**counts, "candidates": len(seats), "notified": notified, "reviews": reviews},
    )
    session.commit()
    return exam


def _counts_of(seats: Iterable[ExamCandidate]) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "absent": 0}
    for seat in seats:
        if seat.result in counts:
            counts[seat.result] += 1
    return counts


def amend(
    session: Session, principal: Principal, exam_id: int, body: ScoresAmend, *, now: datetime
) -> ScoreLine:
    """【更正成绩】 after 通知成绩: one candidate, a reason, regraded, audited, told again."""
    principal.require("exam_scores:amend")
    exam = scheduling.get_exam(session, principal, exam_id)
    if exam.scores_locked_at is None:
        raise AppError(ErrorCode.SCORES_NOT_LOCKED)
    reason = body.reason.strip()
    if len(reason) < 2:
        raise AppError(ErrorCode.SCORE_AMEND_REASON_REQUIRED)
    scores, graded, absent = _graded(scheduling.exam_rule(exam), body)
    lock(session, exam)
    seat = _seat(session, exam, body.candidate_id)
    before = _state(seat)
    after = {"absent": absent, "scores": scores, "result": graded.result.value}
    if before == after:
        session.rollback()
        raise AppError(ErrorCode.SCORE_AMEND_NO_CHANGE)
    takes_pass = before["result"] == ExamResult.passed.value != after["result"]
    if takes_pass and certification.live_review(session, seat.application_id) is not None:
        session.rollback()
        raise AppError(ErrorCode.SCORE_AMEND_UNDER_REVIEW)
    seat.absent, seat.scores, seat.result = absent, scores, graded.result.value
    seat.scored_at, seat.scored_by_id = now, principal.user_id
    session.add(
        ExamScoreAmendment(
            exam_id=exam.id,
            candidate_id=seat.id,
            amended_at=now,
            amended_by_id=principal.user_id,
            reason=reason,
            before=before,
            after=after,
        )
    )
    session.flush()
    _tell(
        session,
        exam,
        [seat],
        now=now,
        subject="保安员资格考试成绩更正通知",
        lead="成绩已更正，",
        amended=True,
    )
    # a new pass enters 制证审批 like those of 通知成绩; a pass taken away had no standing review
    reopened = certification.open_reviews(session, principal, exam, now)
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.EXAM_SCORES_AMEND,
        entity_type=AuditEntity.EXAM,
        entity_id=exam.id,
        org_id=exam.org_id,
        before={"admission_number": seat.admission_number, **before},
        after={
            "admission_number": seat.admission_number,
            **after,
            "reason": reason,
            "reviews": reopened,
        },
    )
    session.commit()
    return line_of(session, principal, exam, seat.id)


# --- reading the grid ---------------------------------------------------------------------


def _line(
    rule: PassRule, seat: Seat, *, reveal: bool, amendments: int, grader: Grader
) -> ScoreLine:
    result = ExamResult(seat.result) if seat.result else None
    total = None
    reasons: list[str] = []
    if result is not None:
        marks = Marks(seat.absent, {k: Decimal(str(v)) for k, v in (seat.scores or {}).items()})
        try:
            graded = grader(marks)[1]
            total, reasons = graded.total, list(graded.reasons)
        except ScoreError as err:  # a rule changed under stored scores: say so, never crash
            reasons = [str(err)]
    return ScoreLine(
        id=seat.id,
        application_id=seat.application_id,
        admission_number=seat.admission_number,
        name=seat.name,
        id_number=seat.id_number if reveal else mask_id_number(seat.id_number) or "",
        absent=seat.absent,
        scores=seat.scores,
        total=total,
        result=result,
        result_label=result.label if result else None,
        reasons=reasons,
        entered=result is not None,
        amendments=amendments,
    )


def _amendment_counts(session: Session, exam: Exam) -> dict[int, int]:
    rows = session.execute(
        select(ExamScoreAmendment.candidate_id, func.count())
        .where(ExamScoreAmendment.exam_id == exam.id)
        .group_by(ExamScoreAmendment.candidate_id)
    )
    return {candidate: count for candidate, count in rows}


def line_of(session: Session, principal: Principal, exam: Exam, candidate_id: int) -> ScoreLine:
    """One candidate's line of the grid (after the grid or an amendment saved it)."""
    row = session.execute(
        _ROSTER.where(ExamCandidate.id == candidate_id), {"exam_id": exam.id}
    ).one()
    amendments = (
        session.scalar(
            select(func.count())
            .select_from(ExamScoreAmendment)
            .where(ExamScoreAmendment.candidate_id == candidate_id)
        )
        or 0
    )
    rule = scheduling.exam_rule(exam)
    return _line(
        rule,
        Seat(*row),
        reveal=sees_full_identity(principal),
        amendments=amendments,
        grader=Grader(rule),
    )


def score_sheet(
    session: Session, principal: Principal, exam_id: int, *, now: datetime
) -> ScoreSheetPublic:
    """The grid: the exam's subjects and lock, and every candidate with the scores entered."""
    principal.require("exam_scores:view")
    exam = scheduling.get_exam(session, principal, exam_id)
    rule = scheduling.exam_rule(exam)
    grader = Grader(rule)
    reveal = sees_full_identity(principal)
    amended = _amendment_counts(session, exam)
    lines = [
        _line(rule, s, reveal=reveal, amendments=amended.get(s.id, 0), grader=grader)
        for s in roster(session, exam)
    ]
    counts = {"candidates": len(lines), "entered": 0, "passed": 0, "failed": 0, "absent": 0}
    for line in lines:
        if line.result is not None:
            counts["entered"] += 1
            counts[line.result.value] += 1
    counts["missing"] = counts["candidates"] - counts["entered"]
    refusal = entry_refusal(exam, now)
    return ScoreSheetPublic(
        exam_id=exam.id,
        exam_name=exam.name,
        exam_version=exam.version,
        pass_rule=rule,
        pass_rule_description=rule.describe(),
        locked=exam.scores_locked_at is not None,
        scores_locked_at=exam.scores_locked_at,
        may_enter=refusal is None,
        refusal=refusal.message if refusal else None,
        counts=counts,
        lines=lines,
    )


def amendments(session: Session, principal: Principal, exam_id: int) -> list[AmendmentLine]:
    """The amendments of an exam's scores, newest first."""
    principal.require("exam_scores:view")
    exam = scheduling.get_exam(session, principal, exam_id)
    rows = session.execute(
        select(
            ExamScoreAmendment,
            ExamCandidate.admission_number,
            Application.applicant_name,
            User.name,
        )
        .join(ExamCandidate, ExamCandidate.id == ExamScoreAmendment.candidate_id)
        .join(Application, Application.id == ExamCandidate.application_id)
        .outerjoin(User, User.id == ExamScoreAmendment.amended_by_id)
        .where(ExamScoreAmendment.exam_id == exam.id)
        .order_by(ExamScoreAmendment.id.desc())
    )
    return [
        AmendmentLine(
            id=a.id,
            candidate_id=a.candidate_id,
            admission_number=number or "",
            name=name,
            amended_at=a.amended_at,
            amended_by=by,
            reason=a.reason,
            before=a.before,
            after=a.after,
        )
        for a, number, name, by in rows
    ]
