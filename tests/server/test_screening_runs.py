"""Running screening, keeping its history, and the summary the level-one gate reads."""

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import date

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.db.approval_models import (
    Application,
    ApplicationPerson,
    ApprovalLogEntry,
    ScreeningResult,
    WatchListEntry,
)
from server.db.models import AuditEntry
from server.services.authz import Principal
from server.services.errors import AppError
from server.services.screening import (
    Finding,
    HttpScreeningProvider,
    PersonQuery,
    ScreeningProvider,
    WatchListProvider,
    run_screening,
    summary,
)
from server.services.screening.runs import WrittenResult
from server.services.screening.summary import state as screening_state
from shared.approvals import ApplicationStatus, PersonRole, ScreeningCategory, ScreeningOutcome
from shared.errors import ErrorCode
from shared.schemas.screening import ScreeningState
from tests.server.screening_fixtures import (
    LI,
    WANG,
    ZHANG,
    FakeService,
    admin_principal,
    make_application,
    root_org,
    running_service,
)

Outcomes = dict[tuple[str, ScreeningCategory], ScreeningOutcome]


class Stub:
    """A provider answering what the test says (clear unless told otherwise)."""

    name = "stub"

    def __init__(self, outcomes: Outcomes | None = None, *, skip: bool = False) -> None:
        self.outcomes = outcomes or {}
        self.skip = skip
        self.asked: list[list[PersonQuery]] = []

    def check(self, persons: Sequence[PersonQuery]) -> list[Finding]:
        self.asked.append(list(persons))
        findings = []
        for person in persons:
            for category in ScreeningCategory:
                outcome = self.outcomes.get((person.id_number, category), ScreeningOutcome.clear)
                if self.skip and outcome == ScreeningOutcome.error:
                    continue  # a provider breaking its contract: says nothing for the item
                findings.append(Finding(person.id_number, category, outcome, f"stub {outcome}"))
        return findings


@pytest.fixture
def world(
    initialised: Session, clock: FrozenClock
) -> Iterator[tuple[Session, Principal, Application]]:
    session = initialised
    application = make_application(session, root_org(session).id, clock.now())
    yield session, admin_principal(session), application


World = tuple[Session, Principal, Application]


def _run(world: World, clock: FrozenClock, provider: ScreeningProvider) -> list[WrittenResult]:
    session, principal, application = world
    results = run_screening(
        session, principal, application, provider=provider, now=clock.advance(minutes=1)
    )
    session.commit()
    return results


def _logs(session: Session, application: Application) -> list[ApprovalLogEntry]:
    stmt = select(ApprovalLogEntry).where(ApprovalLogEntry.application_id == application.id)
    return list(session.scalars(stmt.order_by(ApprovalLogEntry.id)))


def test_missing_before_any_run(world: World) -> None:
    session, _, application = world
    result = summary(session, application)
    assert result.state == ScreeningState.missing
    assert (result.approve_allowed, result.reject_allowed) == (False, True)
    assert [p.person.name for p in result.persons] == ["张三", "李四"]
    assert all(r is None for p in result.persons for r in p.results.values())
    assert result.last_checked_at is None
    refusal = result.approve_refusal()
    assert refusal is not None and refusal.code == ErrorCode.GATE_CLOSED
    assert result.reject_refusal() is None


def test_clear_run_stores_results_log_and_audit(world: World, clock: FrozenClock) -> None:
    session, principal, application = world
    results = _run(world, clock, WatchListProvider(session))
    assert len(results) == 2 * 5
    assert {(r.outcome, r.provider, r.operator_name) for r in results} == {
        ("clear", "watchlist", principal.name)
    }
    result = summary(session, application)
    assert result.state == ScreeningState.clear
    assert (result.approve_allowed, result.reject_allowed) == (True, True)
    assert result.approve_refusal() is None
    assert result.last_checked_at == clock.now()
    (log,) = _logs(session, application)
    assert (log.action, log.visibility, log.task_id, log.step_name) == (
        "screening",
        "internal",
        None,
        None,
    )
    assert log.opinion == "审查 2 人：未见异常"
    assert (log.actor_id, log.round) == (principal.user_id, 1)
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "screening.run")).one()
    assert audit.entity_id == str(application.id)
    assert audit.after is not None
    assert (audit.after["persons"], audit.after["hits"], audit.after["errors"]) == (2, 0, 0)


def test_watch_list_hit_allows_only_rejection(world: World, clock: FrozenClock) -> None:
    session, _, application = world
    session.add(
        WatchListEntry(
            id_number=LI,
            name="李四",
            category=ScreeningCategory.criminal_record.value,
            source="杭州市公安局",
            listed_date=date(2019, 4, 1),
            imported_at=clock.now(),
        )
    )
    session.commit()
    _run(world, clock, WatchListProvider(session))
    result = summary(session, application)
    assert result.state == ScreeningState.hit
    assert (result.approve_allowed, result.reject_allowed) == (False, True)
    refusal = result.approve_refusal()
    assert refusal is not None and refusal.code == ErrorCode.SCREENING_HIT
    li = next(p for p in result.persons if p.person.name == "李四")
    assert li.state == ScreeningState.hit
    cell = li.results[ScreeningCategory.criminal_record]
    assert cell is not None and cell.detail == "来源：杭州市公安局，列入日期：2019-04-01"
    assert _logs(session, application)[-1].opinion == "审查 2 人：命中 1 项（李四：刑事犯罪）"


def test_error_outranks_hit_and_rerun_decides(world: World, clock: FrozenClock) -> None:
    session, _, application = world
    _run(
        world,
        clock,
        Stub(
            {
                (ZHANG, ScreeningCategory.wanted_fugitive): ScreeningOutcome.hit,
                (LI, ScreeningCategory.drug_rehabilitation): ScreeningOutcome.error,
                (LI, ScreeningCategory.criminal_record): ScreeningOutcome.error,
            }
        ),
    )
    result = summary(session, application)
    assert result.state == ScreeningState.error
    assert (result.approve_allowed, result.reject_allowed) == (False, False)
    for refusal in (result.approve_refusal(), result.reject_refusal()):
        assert refusal is not None and refusal.code == ErrorCode.SCREENING_ERROR
    assert _logs(session, application)[-1].opinion == (
        "审查 2 人：命中 1 项（张三：网上逃犯）；查询失败 2 项，须重新审查"
    )

    _run(world, clock, Stub({(ZHANG, ScreeningCategory.wanted_fugitive): ScreeningOutcome.hit}))
    assert summary(session, application).state == ScreeningState.hit

    _run(world, clock, Stub())
    result = summary(session, application)
    assert result.state == ScreeningState.clear
    assert result.approve_allowed
    stored = session.scalars(
        select(ScreeningResult).where(ScreeningResult.application_id == application.id)
    ).all()
    assert len(stored) == 3 * 10  # every run kept as history
    assert len(_logs(session, application)) == 3


def test_http_error_then_rerun_clears(world: World, clock: FrozenClock) -> None:
    session, _, application = world
    service: FakeService
    with running_service() as (service, url):
        provider = HttpScreeningProvider(url, 5)
        service.mode = "status500"
        _run(world, clock, provider)
        result = summary(session, application)
        assert result.state == ScreeningState.error
        cell = result.persons[0].results[ScreeningCategory.criminal_record]
        assert cell is not None and cell.detail == "公安数据服务返回错误（HTTP 500）"
        assert _logs(session, application)[-1].opinion == "审查 2 人：查询失败 10 项，须重新审查"
        service.mode = "answer"
        _run(world, clock, provider)
    assert summary(session, application).state == ScreeningState.clear


def test_newest_counts_even_at_the_same_instant(world: World, clock: FrozenClock) -> None:
    session, principal, application = world
    now = clock.now()
    hit = Stub({(ZHANG, ScreeningCategory.criminal_record): ScreeningOutcome.hit})
    run_screening(session, principal, application, provider=hit, now=now)
    run_screening(session, principal, application, provider=Stub(), now=now)
    session.commit()
    assert summary(session, application).state == ScreeningState.clear


def test_unanswered_items_are_stored_as_errors(world: World, clock: FrozenClock) -> None:
    session, _, application = world
    broken = Stub(
        {(LI, ScreeningCategory.mental_illness_incident): ScreeningOutcome.error}, skip=True
    )
    results = _run(world, clock, broken)
    assert len(results) == 10
    (missing,) = [r for r in results if r.outcome == "error"]
    assert missing.detail == "审查来源未返回该项结果"
    assert summary(session, application).state == ScreeningState.error


def test_person_in_two_roles_is_asked_once(initialised: Session, clock: FrozenClock) -> None:
    session = initialised
    application = make_application(
        session,
        root_org(session).id,
        clock.now(),
        [
            (PersonRole.applicant, "张三", ZHANG),
            (PersonRole.legal_rep, "张三", ZHANG),
            (PersonRole.principal, "王五", WANG.lower()),
        ],
    )
    stub = Stub({(WANG, ScreeningCategory.criminal_record): ScreeningOutcome.hit})
    world = (session, admin_principal(session), application)
    results = _run(world, clock, stub)
    assert len(results) == 3 * 5
    assert stub.asked == [[PersonQuery(ZHANG, "张三"), PersonQuery(WANG, "王五")]]
    assert _logs(session, application)[-1].opinion == "审查 2 人：命中 1 项（王五：刑事犯罪）"
    result = summary(session, application)
    assert [p.state for p in result.persons] == [
        ScreeningState.clear,
        ScreeningState.clear,
        ScreeningState.hit,
    ]


def test_new_round_needs_new_screening(world: World, clock: FrozenClock) -> None:
    session, _, application = world
    _run(world, clock, Stub())
    application.round = 2
    application.persons.append(
        ApplicationPerson(round=2, role=PersonRole.legal_rep.value, name="张三", id_number=ZHANG)
    )
    session.commit()
    result = summary(session, application)
    assert result.state == ScreeningState.missing
    assert [p.person.round for p in result.persons] == [2]
    _run(world, clock, Stub())
    result = summary(session, application)
    assert (result.state, result.round) == (ScreeningState.clear, 2)
    assert _logs(session, application)[-1].round == 2


def test_no_persons_fails_closed(world: World) -> None:
    session, _, application = world
    session.execute(
        delete(ApplicationPerson).where(ApplicationPerson.application_id == application.id)
    )
    session.commit()
    session.refresh(application)
    assert summary(session, application).state == ScreeningState.missing


def test_refusals(world: World, clock: FrozenClock) -> None:
    session, principal, application = world
    stranger = dataclasses.replace(principal, permissions=frozenset({"screening:view"}))
    with pytest.raises(AppError) as raised:
        run_screening(session, stranger, application, provider=Stub(), now=clock.now())
    assert raised.value.code == ErrorCode.PERMISSION_DENIED
    application.status = ApplicationStatus.returned.value
    session.commit()
    with pytest.raises(AppError) as raised:
        run_screening(session, principal, application, provider=Stub(), now=clock.now())
    assert raised.value.code == ErrorCode.APPLICATION_NOT_PENDING
    assert session.scalars(select(ScreeningResult)).all() == []


def test_the_gates_read_the_same_state_as_the_summary(world: World, clock: FrozenClock) -> None:
    """``state`` (three columns, what an action's gate reads) agrees with ``summary`` (the
    objects the clerk sees) through every state, including two runs at the same instant."""
    session, principal, application = world

    def agree() -> ScreeningState:
        found = screening_state(session, application)
        assert found == summary(session, application).state
        return found

    assert agree() == ScreeningState.missing
    hit = Stub({(ZHANG, ScreeningCategory.criminal_record): ScreeningOutcome.hit})
    _run(world, clock, hit)
    assert agree() == ScreeningState.hit
    _run(world, clock, Stub({(LI, ScreeningCategory.drug_rehabilitation): ScreeningOutcome.error}))
    assert agree() == ScreeningState.error
    now = clock.advance(minutes=1)
    run_screening(session, principal, application, provider=hit, now=now)
    run_screening(session, principal, application, provider=Stub(), now=now)
    session.commit()
    assert agree() == ScreeningState.clear
    session.execute(
        delete(ScreeningResult).where(ScreeningResult.category == "drug_rehabilitation")
    )
    session.commit()
    assert agree() == ScreeningState.missing
