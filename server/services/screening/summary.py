"""Where an application's screening stands: what the level-one gate reads and the clerk sees.

Only the newest result per person and category of the current round counts; earlier runs stay
in ``screening_results`` as history. The overall state follows one precedence,
``error`` > ``hit`` > ``missing`` > ``clear`` (see ``ScreeningState``):

=========  =======  ======  ==========================================================
state      approve  reject  why
=========  =======  ======  ==========================================================
clear      yes      yes     every person checked in every category, nothing found
hit        no       yes     a hit is decisive: the application can only be rejected
missing    no       yes     not everyone was checked; a clerk may still reject for
                            incomplete materials without screening first
error      no       no      a source failed: nothing may be decided until a re-run
=========  =======  ======  ==========================================================

An application without persons counts as ``missing``: the gate fails closed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, inspect, select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, ApplicationPerson, ScreeningResult
from server.db.session import reading_connection
from server.services.approvals.access import sees_full_identity
from server.services.authz import Principal
from server.services.errors import AppError
from shared.approvals import PersonRole, ScreeningCategory, ScreeningOutcome
from shared.errors import ErrorCode
from shared.masking import mask_id_number
from shared.schemas.screening import (
    NOT_CHECKED_LABEL,
    ScreeningCell,
    ScreeningPersonRow,
    ScreeningState,
    ScreeningSummaryPublic,
)


def combine(outcomes: Iterable[ScreeningOutcome | None]) -> ScreeningState:
    """The state of a set of newest outcomes (None: never checked) by the documented order."""
    seen = set(outcomes)
    if ScreeningOutcome.error in seen:
        return ScreeningState.error
    if ScreeningOutcome.hit in seen:
        return ScreeningState.hit
    if None in seen or not seen:
        return ScreeningState.missing
    return ScreeningState.clear


@dataclass(frozen=True)
class PersonScreening:
    person: ApplicationPerson
    results: dict[ScreeningCategory, ScreeningResult | None]

    @property
    def state(self) -> ScreeningState:
        return combine(_outcome(r) for r in self.results.values())


@dataclass(frozen=True)
class ScreeningSummary:
    application_id: int
    round: int
    persons: list[PersonScreening]
    state: ScreeningState

    @property
    def approve_allowed(self) -> bool:
        return approve_allowed(self.state)

    @property
    def reject_allowed(self) -> bool:
        return reject_allowed(self.state)

    @property
    def last_checked_at(self) -> datetime | None:
        times = [r.checked_at for p in self.persons for r in p.results.values() if r is not None]
        return max(times, default=None)

    def approve_refusal(self) -> AppError | None:
        """Why level one may not be approved (None: it may), as the error to raise."""
        if self.state == ScreeningState.error:
            return AppError(ErrorCode.SCREENING_ERROR)
        if self.state == ScreeningState.hit:
            return AppError(ErrorCode.SCREENING_HIT)
        if self.state == ScreeningState.missing:
            return AppError(ErrorCode.GATE_CLOSED, "尚未完成人员背景审查，不能同意")
        return None

    def reject_refusal(self) -> AppError | None:
        """Why level one may not be rejected (None: it may)."""
        if self.state == ScreeningState.error:
            return AppError(ErrorCode.SCREENING_ERROR)
        return None


def approve_allowed(state: ScreeningState) -> bool:
    return state == ScreeningState.clear


def reject_allowed(state: ScreeningState) -> bool:
    return state != ScreeningState.error


def _outcome(result: ScreeningResult | None) -> ScreeningOutcome | None:
    return None if result is None else ScreeningOutcome(result.outcome)


class RoundPerson(NamedTuple):
    """What a screening run needs of a person of the round."""

    id: int
    name: str
    id_number: str


_ROUND_PERSONS = (
    select(ApplicationPerson.id, ApplicationPerson.name, ApplicationPerson.id_number)
    .where(
        ApplicationPerson.application_id == bindparam("application_id"),
        ApplicationPerson.round == bindparam("round"),
    )
    .order_by(ApplicationPerson.id)
)
"""Plain rows: a run reads three values of each person once, and loading them as objects of
the session costs several times the query."""


def round_persons(session: Session, application: Application) -> list[RoundPerson]:
    """The people of ``application``'s current round, in order (``current_persons``): from the
    loaded collection when there is one, else by one query for that round alone (after the
    session's pending changes, as an ORM query would flush them)."""
    if "persons" not in inspect(application).unloaded:
        return [RoundPerson(p.id, p.name, p.id_number) for p in application.current_persons()]
    params = {"application_id": application.id, "round": application.round}
    rows = reading_connection(session).execute(_ROUND_PERSONS, params)
    return [RoundPerson._make(row) for row in rows]


def _round_results(*columns: Any) -> Select[Any]:
    """``columns`` of the round's people with every result of theirs, oldest first."""
    return (
        select(*columns)
        .select_from(ApplicationPerson)
        .outerjoin(
            ScreeningResult,
            and_(
                ScreeningResult.application_id == ApplicationPerson.application_id,
                ScreeningResult.round == ApplicationPerson.round,
                ScreeningResult.person_id == ApplicationPerson.id,
            ),
        )
        .where(
            ApplicationPerson.application_id == bindparam("application_id"),
            ApplicationPerson.round == bindparam("round"),
        )
        .order_by(ApplicationPerson.id, ScreeningResult.checked_at, ScreeningResult.id)
    )


_RESULTS = _round_results(ApplicationPerson, ScreeningResult)
"""The round's people with every result of theirs, oldest first: one query for the summary."""


def summary(session: Session, application: Application) -> ScreeningSummary:
    """Newest result per person of the current round and category, and the overall state."""
    params = {"application_id": application.id, "round": application.round}
    persons: dict[int, ApplicationPerson] = {}
    newest: dict[tuple[int, str], ScreeningResult] = {}
    for person, result in session.execute(_RESULTS, params):
        persons[person.id] = person
        if result is not None:
            newest[(person.id, result.category)] = result
    screened = [
        PersonScreening(
            person,
            {c: newest.get((person.id, c.value)) for c in ScreeningCategory},
        )
        for person in persons.values()
    ]
    state = combine(_outcome(r) for p in screened for r in p.results.values())
    return ScreeningSummary(application.id, application.round, screened, state)


_OUTCOMES = _round_results(ApplicationPerson.id, ScreeningResult.category, ScreeningResult.outcome)
"""``_RESULTS`` with only what the state needs, read as plain rows."""


def state(session: Session, application: Application) -> ScreeningState:
    """``summary(…).state`` from three columns, without making objects of the people and their
    results: what the gates of an action read."""
    params = {"application_id": application.id, "round": application.round}
    persons: set[int] = set()
    newest: dict[tuple[int, str], str] = {}
    for person_id, category, outcome in session.execute(_OUTCOMES, params):
        persons.add(person_id)
        if category is not None:
            newest[(person_id, category)] = outcome
    return combine(
        None if (found := newest.get((p, c.value))) is None else ScreeningOutcome(found)
        for p in persons
        for c in ScreeningCategory
    )


def _cell(category: ScreeningCategory, result: ScreeningResult | None) -> ScreeningCell:
    if result is None:
        return ScreeningCell(
            category=category,
            category_label=category.label,
            outcome=None,
            outcome_label=NOT_CHECKED_LABEL,
        )
    outcome = ScreeningOutcome(result.outcome)
    return ScreeningCell(
        category=category,
        category_label=category.label,
        outcome=outcome,
        outcome_label=outcome.label,
        detail=result.detail,
        provider=result.provider,
        checked_at=result.checked_at,
        operator_name=result.operator_name,
    )


def to_public(screening: ScreeningSummary, viewer: Principal) -> ScreeningSummaryPublic:
    """ID numbers are masked unless the viewer may see them in full (as on the detail view)."""
    reveal = sees_full_identity(viewer)
    rows = []
    for entry in screening.persons:
        person, role = entry.person, PersonRole(entry.person.role)
        state = entry.state
        rows.append(
            ScreeningPersonRow(
                person_id=person.id,
                role=role,
                role_label=role.label,
                name=person.name,
                id_number=person.id_number if reveal else mask_id_number(person.id_number) or "",
                state=state,
                state_label=state.label,
                results=[_cell(c, r) for c, r in entry.results.items()],
            )
        )
    return ScreeningSummaryPublic(
        application_id=screening.application_id,
        round=screening.round,
        state=screening.state,
        state_label=screening.state.label,
        approve_allowed=screening.approve_allowed,
        reject_allowed=screening.reject_allowed,
        last_checked_at=screening.last_checked_at,
        persons=rows,
    )
