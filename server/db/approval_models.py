"""Tables of the approval engine: definitions, applications, step tasks, the log, screening.

An application runs in rounds: a rejection ends the round and sends it back to the applicant;
a resubmission opens the next round from the first step. Rows carry their ``round`` so earlier
rounds stay visible. Each step of a round is one ``ApprovalTask``; the pending one is the inbox.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base


class WorkflowDefinition(Base):
    """One published version of a process; an application pins the one it began with."""

    __tablename__ = "workflow_definitions"
    __table_args__ = (UniqueConstraint("business_type", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_type: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    # Loaded only when a process is parsed for the first time (``publishing.process_of`` keeps
    # it by digest): every application loads its definition row, and would decode the whole
    # process from JSON each time.
    content: Mapped[dict[str, Any]] = mapped_column(deferred=True)
    source_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime]
    published_by: Mapped[str] = mapped_column(String(64))


class NumberSequence(Base):
    """Gap-free counters (application and certificate numbers), locked while incremented."""

    __tablename__ = "number_sequences"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Application(Base):
    """``source_application_id``: the application a system-opened one was opened from (D14: a
    制证审批 names the passed enrolment); at most one of each business type per source."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_type_submitted", "business_type", "submitted_at"),
        Index(
            "uq_applications_source_application_id_business_type",
            "source_application_id",
            "business_type",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    business_type: Mapped[str] = mapped_column(String(40))
    applicant_kind: Mapped[str] = mapped_column(String(16))
    applicant_name: Mapped[str] = mapped_column(String(100), index=True)
    applicant_code: Mapped[str] = mapped_column(String(32), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("workflow_definitions.id"))
    round: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), index=True)
    form: Mapped[dict[str, Any]]
    fingerprint_card_no: Mapped[str | None] = mapped_column(String(32))
    paid_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(16), default="intranet")
    external_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    source_application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    submitted_at: Mapped[datetime]
    round_started_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    definition: Mapped[WorkflowDefinition] = relationship(lazy="joined")
    persons: Mapped[list["ApplicationPerson"]] = relationship(
        cascade="all, delete-orphan", order_by="ApplicationPerson.id"
    )

    __mapper_args__ = {"version_id_col": version}

    def current_persons(self) -> list["ApplicationPerson"]:
        return [p for p in self.persons if p.round == self.round]


class ApplicationPerson(Base):
    """A person involved in one round: screened at level one of that round."""

    __tablename__ = "application_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    round: Mapped[int]
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    mobile: Mapped[str | None] = mapped_column(String(11))


class Material(Base):
    """Metadata of an uploaded file; the bytes live on disk under their SHA-256."""

    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    round: Mapped[int]
    title: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(64))


class ApprovalTask(Base):
    """One step of one round. ``pending`` tasks are what the inbox shows."""

    __tablename__ = "approval_tasks"
    __table_args__ = (
        Index("ix_approval_tasks_inbox", "status", "acting_org_id", "business_type"),
        Index("ix_approval_tasks_done", "decided_by_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    business_type: Mapped[str] = mapped_column(String(40))
    round: Mapped[int]
    step_index: Mapped[int]
    step_key: Mapped[str] = mapped_column(String(40))
    step_name: Mapped[str] = mapped_column(String(50))
    level: Mapped[str] = mapped_column(String(16))
    approval_role: Mapped[str] = mapped_column(String(40))
    acting_org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    due_date: Mapped[date]
    overdue_notified_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str | None] = mapped_column(String(16))

    application: Mapped[Application] = relationship(lazy="joined")


class ApprovalLogEntry(Base):
    """What happened, by whom, with which opinion and who may read that opinion."""

    __tablename__ = "approval_log"
    __table_args__ = (Index("ix_approval_log_application", "application_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    round: Mapped[int]
    task_id: Mapped[int | None] = mapped_column(ForeignKey("approval_tasks.id"))
    step_name: Mapped[str | None] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(40))
    opinion: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(16), default="internal")
    corrections: Mapped[list[str] | None] = mapped_column(default=None)
    assignee_name: Mapped[str | None] = mapped_column(String(64))


class ScreeningResult(Base):
    """One category checked for one person of one round, kept with time and operator."""

    __tablename__ = "screening_results"
    __table_args__ = (Index("ix_screening_results_application", "application_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    round: Mapped[int]
    person_id: Mapped[int] = mapped_column(ForeignKey("application_persons.id"))
    category: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(8))
    detail: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(32))
    checked_at: Mapped[datetime]
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    operator_name: Mapped[str] = mapped_column(String(64))


class WatchListEntry(Base):
    """The local watch list: a person listed in one category by one source."""

    __tablename__ = "watch_list"
    __table_args__ = (UniqueConstraint("id_number", "category", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(50))
    category: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(100))
    listed_date: Mapped[date | None]
    imported_at: Mapped[datetime]


class IssuedDocument(Base):
    """A numbered licence or filing certificate produced on final approval."""

    __tablename__ = "issued_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    holder_name: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(100))  # an organisation name
    digest: Mapped[str] = mapped_column(String(64))


class FingerprintEnrolment(Base):
    """A fingerprint enrolled on a station's module for one application, and the card number
    (指纹卡号) issued for it. The module keeps the template in ``slot``; only the module can compare
    templates, so a duplicate is found by the module's own search and resolved to an identity here
    through (device, slot). ``released_at`` marks a record whose slot the module no longer holds."""

    __tablename__ = "fingerprint_enrolments"
    __table_args__ = (Index("ix_fingerprint_enrolments_slot", "device_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    person_name: Mapped[str] = mapped_column(String(50))
    device_id: Mapped[str] = mapped_column(String(64))
    slot: Mapped[int]
    card_number: Mapped[str] = mapped_column(String(32), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    enrolled_at: Mapped[datetime]
    enrolled_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime | None]
