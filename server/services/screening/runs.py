"""Running background screening for an application and keeping what it found.

A run asks the provider first and writes afterwards, so a slow source holds no write lock. It
stores one result per person of the current round and category (one multi-row INSERT), one
approval-log entry with a short internal opinion, and an audit record; it writes at once and
leaves the commit to the caller, so screening can be part of a larger step.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from server.db import write_behind
from server.db.approval_models import Application, ScreeningResult
from server.services import audit
from server.services.approvals.tasks import WRITE_LOG
from server.services.authz import Principal
from server.services.errors import AppError
from server.services.screening.base import (
    Finding,
    PersonQuery,
    ScreeningProvider,
    distinct,
    id_key,
)
from server.services.screening.summary import RoundPerson, round_persons
from shared.approvals import (
    ApplicationStatus,
    ApprovalAction,
    OpinionVisibility,
    ScreeningCategory,
    ScreeningOutcome,
)
from shared.audit_actions import AuditAction, AuditEntity
from shared.errors import ErrorCode

NOT_ANSWERED = "审查来源未返回该项结果"
_RESULTS = write_behind.inserting(cast(Table, ScreeningResult.__table__))


@dataclass(frozen=True, slots=True)
class WrittenResult:
    """A result as a run wrote it: the columns of ``ScreeningResult`` but its id, as a plain
    object (an ORM one costs ten times as much to make, and nothing loads or flushes it)."""

    application_id: int
    round: int
    person_id: int
    category: str
    outcome: str
    detail: str
    provider: str
    checked_at: datetime
    operator_id: int | None
    operator_name: str


def _answers(findings: list[Finding]) -> dict[tuple[str, ScreeningCategory], Finding]:
    return {(id_key(f.id_number), ScreeningCategory(f.category)): f for f in findings}


def _opinion(persons: list[RoundPerson], results: list[WrittenResult]) -> str:
    """E.g. ``审查 3 人：命中 1 项（张三：刑事犯罪）；查询失败 2 项，须重新审查``.

    People and items are counted once per ID number, however many roles a person holds.
    """
    names = {id_key(p.id_number): p.name for p in persons}
    by_person = {p.id: id_key(p.id_number) for p in persons}
    hits: dict[tuple[str, str], None] = {}
    errors: set[tuple[str, str]] = set()
    for result in results:
        key = (by_person[result.person_id], result.category)
        if result.outcome == ScreeningOutcome.hit:
            hits[key] = None
        elif result.outcome == ScreeningOutcome.error:
            errors.add(key)
    parts = []
    if hits:
        listed = "，".join(
            f"{names[id_number]}：{ScreeningCategory(category).label}"
            for id_number, category in hits
        )
        parts.append(f"命中 {len(hits)} 项（{listed}）")
    if errors:
        parts.append(f"查询失败 {len(errors)} 项，须重新审查")
    return f"审查 {len(names)} 人：{'；'.join(parts) or ScreeningOutcome.clear.label}"


def run_screening(
    session: Session,
    principal: Principal,
    application: Application,
    *,
    provider: ScreeningProvider,
    now: datetime,
    task_id: int | None = None,
    step_name: str | None = None,
) -> list[WrittenResult]:
    """Screen every person of the current round in every category; returns the new results
    (as written, without their ids).

    ``task_id``/``step_name`` tie the log entry to the step being worked, when there is one.
    """
    principal.require("screening:run")
    if application.status != ApplicationStatus.in_review:
        raise AppError(ErrorCode.APPLICATION_NOT_PENDING)
    persons = round_persons(session, application)
    answers = _answers(provider.check(distinct(PersonQuery(p.id_number, p.name) for p in persons)))
    rows: list[dict[str, Any]] = []
    for person in persons:
        for category in ScreeningCategory:
            finding = answers.get((id_key(person.id_number), category))
            rows.append(
                {
                    "application_id": application.id,
                    "round": application.round,
                    "person_id": person.id,
                    "category": category.value,
                    "outcome": finding.outcome.value if finding else ScreeningOutcome.error.value,
                    "detail": finding.detail if finding else NOT_ANSWERED,
                    "provider": provider.name,
                    "checked_at": now,
                    "operator_id": principal.user_id,
                    "operator_name": principal.name,
                }
            )
    # Core (``write_behind``; on SQLite one executemany): nothing needs the new ids back, and
    # fetching them (RETURNING, as the ORM does) would make SQLite insert row by row.
    conn = session.connection()
    write_behind.write(conn, _RESULTS, rows)
    results = [WrittenResult(**row) for row in rows]
    opinion = _opinion(persons, results)
    write_behind.write(
        conn,
        WRITE_LOG,
        {
            "application_id": application.id,
            "round": application.round,
            "task_id": task_id,
            "step_name": step_name,
            "action": ApprovalAction.screening.value,
            "at": now,
            "actor_id": principal.user_id,
            "actor_name": principal.name,
            "actor_role": None,
            "opinion": opinion,
            "visibility": OpinionVisibility.internal.value,
            "corrections": None,
            "assignee_name": None,
        },
    )
    outcomes = [r.outcome for r in results]
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.SCREENING_RUN,
        entity_type=AuditEntity.APPLICATION,
        entity_id=application.id,
        org_id=application.org_id,
        after={
            "number": application.number,
            "round": application.round,
            "provider": provider.name,
            "persons": len(persons),
            "hits": outcomes.count(ScreeningOutcome.hit.value),
            "errors": outcomes.count(ScreeningOutcome.error.value),
            "opinion": opinion,
        },
    )
    return results
