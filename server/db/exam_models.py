"""Tables of guard exams (docs/exams.md): pass rules, exams, their candidates, course progress.

An exam keeps a snapshot of the pass rule it was created with, so editing or retiring a rule
never regrades an exam. A candidate row (``ExamCandidate``) is one enrolment's seat in one exam;
``is_open`` marks the seat that still counts, and the database holds every enrolment to at most
one open seat (a unique index on ``application_id`` limited to open rows, on both engines).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


class PassRuleRow(Base):
    """A 成绩合格标准 offered when an exam is created; ``content``: a ``shared.exams.PassRule``."""

    __tablename__ = "pass_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    content: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Exam(Base):
    __tablename__ = "exams"
    __table_args__ = (Index("ix_exams_org_starts", "org_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    seats: Mapped[int]
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    pass_rule_id: Mapped[int] = mapped_column(ForeignKey("pass_rules.id"))
    pass_rule: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), index=True)
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)
    # 通知成绩: the scores of every candidate are locked from then on (amendments only)
    scores_locked_at: Mapped[datetime | None]
    scores_locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __mapper_args__ = {"version_id_col": version}


class ExamCandidate(Base):
    """One enrolment's seat in one exam.

    ``is_open``: the seat still counts — true from being added until the exam is cancelled or
    the scores are notified (locked); a candidate who failed may then be placed in another
    exam. ``admission_number`` (准考证号) is given at publication, gap-free within the exam.
    ``scores`` maps subject keys of the exam's rule to marks (``{}`` when absent, NULL until
    entered); ``result`` is what ``shared.exams.grade`` said of them (written by the score
    entry, ``server/services/exams/scores.py``); NULL means not entered yet.

    PostgreSQL keeps half of each page free (fillfactor 50, migration 0014) so that a score
    import's 20,000 updates, which change no indexed column, stay within their pages (HOT) and
    add no index entries. Lookups by exam use the unique (exam_id, application_id) index."""

    __tablename__ = "exam_candidates"
    __table_args__ = (
        UniqueConstraint("exam_id", "application_id"),
        UniqueConstraint("exam_id", "admission_number"),
        Index(
            "uq_exam_candidates_open_application",
            "application_id",
            unique=True,
            sqlite_where=text("is_open"),
            postgresql_where=text("is_open"),
        ),
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    admission_number: Mapped[str | None] = mapped_column(String(32))
    is_open: Mapped[bool] = mapped_column(default=True)
    absent: Mapped[bool] = mapped_column(default=False)
    scores: Mapped[dict[str, Any] | None]
    result: Mapped[str | None] = mapped_column(String(16))
    scores_locked: Mapped[bool] = mapped_column(default=False)
    scores_notified_at: Mapped[datetime | None]
    added_at: Mapped[datetime]
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scored_at: Mapped[datetime | None]
    scored_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ExamScoreAmendment(Base):
    """更正成绩: a change to one candidate's scores after 通知成绩, with its reason. ``before``
    and ``after``: ``{"absent", "scores", "result"}``."""

    __tablename__ = "exam_score_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("exam_candidates.id"), index=True)
    amended_at: Mapped[datetime]
    amended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any]]
    after: Mapped[dict[str, Any]]


class TrainingProgress(Base):
    """课程学习进度 of one person (by ID number) at a training unit: hours done of hours
    required, as the training records report them (demo data fills it)."""

    __tablename__ = "training_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    person_name: Mapped[str] = mapped_column(String(50))
    training_unit: Mapped[str] = mapped_column(String(100), index=True)
    hours_done: Mapped[int]
    hours_required: Mapped[int]
    updated_at: Mapped[datetime]
