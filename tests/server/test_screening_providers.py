"""Screening providers: the local watch list, and the police data service over real HTTP."""

import socket
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import cast

import pytest
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.approval_models import WatchListEntry
from server.services.errors import AppError
from server.services.screening import (
    Finding,
    HttpScreeningProvider,
    PersonQuery,
    WatchListProvider,
    provider_for,
    remote,
)
from shared.approvals import ScreeningCategory, ScreeningOutcome
from shared.errors import ErrorCode
from tests.server.screening_fixtures import (
    LI,
    WANG,
    ZHANG,
    FakeService,
    running_service,
    valid_id,
)

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
PEOPLE = [PersonQuery(ZHANG, "张三"), PersonQuery(LI, "李四")]


@pytest.fixture
def fake_service() -> Iterator[tuple[FakeService, str]]:
    with running_service() as running:
        yield running


def _by_key(findings: list[Finding]) -> dict[tuple[str, ScreeningCategory], Finding]:
    keyed = {(f.id_number, ScreeningCategory(f.category)): f for f in findings}
    assert len(keyed) == len(findings), "one finding per person and category"
    return keyed


def _list(session: Session, id_number: str, category: ScreeningCategory, **kw: object) -> None:
    session.add(
        WatchListEntry(
            id_number=id_number,
            name=str(kw.get("name", "某人")),
            category=category.value,
            source=str(kw.get("source", "杭州市公安局")),
            listed_date=kw.get("listed_date", date(2020, 5, 1)),
            imported_at=NOW,
        )
    )


def test_watch_list_hit_in_each_category(session: Session) -> None:
    listed = {c: valid_id(seq=f"{100 + i:03d}") for i, c in enumerate(ScreeningCategory)}
    for category, id_number in listed.items():
        _list(session, id_number, category)
    session.commit()
    queries = [PersonQuery(i, "某人") for i in listed.values()] + [PersonQuery(ZHANG, "张三")]
    findings = _by_key(WatchListProvider(session).check(queries))
    assert len(findings) == 6 * 5
    for category, id_number in listed.items():
        for other in ScreeningCategory:
            finding = findings[(id_number, other)]
            if other == category:
                assert finding.outcome == ScreeningOutcome.hit
                assert finding.detail == "来源：杭州市公安局，列入日期：2020-05-01"
            else:
                assert finding.outcome == ScreeningOutcome.clear
    assert {findings[(ZHANG, c)].outcome for c in ScreeningCategory} == {ScreeningOutcome.clear}


def test_watch_list_clear_dedupes_and_normalises_x(session: Session) -> None:
    _list(session, WANG, ScreeningCategory.wanted_fugitive, source="公安部", listed_date=None)
    _list(session, WANG, ScreeningCategory.wanted_fugitive, source="浙江省公安厅")
    _list(session, LI.lower(), ScreeningCategory.criminal_record)  # a legacy lower-case row
    session.commit()
    provider = WatchListProvider(session)
    assert provider.check([]) == []
    queries = [PersonQuery(WANG.lower(), "王五"), PersonQuery(f" {WANG} ", "王五"), *PEOPLE]
    findings = _by_key(provider.check(queries))
    assert len(findings) == 3 * 5  # the same person asked twice is answered once
    hit = findings[(WANG, ScreeningCategory.wanted_fugitive)]
    assert hit.outcome == ScreeningOutcome.hit
    assert hit.detail == "来源：浙江省公安厅，列入日期：2020-05-01；来源：公安部，列入日期：不详"
    assert findings[(WANG, ScreeningCategory.criminal_record)].outcome == ScreeningOutcome.clear
    assert {f.outcome for k, f in findings.items() if k[0] == ZHANG} == {ScreeningOutcome.clear}


def _http(url: str, timeout: float = 5.0) -> HttpScreeningProvider:
    return HttpScreeningProvider(url, timeout)


def test_http_provider_hits_and_clear(fake_service: tuple[FakeService, str]) -> None:
    service, url = fake_service
    service.hits = {LI: {"drug_rehabilitation"}}
    findings = _by_key(_http(url).check([*PEOPLE, PersonQuery(ZHANG.lower(), "张三")]))
    assert len(findings) == 2 * 5
    assert service.requests == [
        {
            "persons": [{"id_number": ZHANG, "name": "张三"}, {"id_number": LI, "name": "李四"}],
            "categories": [c.value for c in ScreeningCategory],
        }
    ]
    hit = findings[(LI, ScreeningCategory.drug_rehabilitation)]
    assert (hit.outcome, hit.detail) == (ScreeningOutcome.hit, "在逃人员库有记录")
    others = [f.outcome for k, f in findings.items() if k != (LI, "drug_rehabilitation")]
    assert set(others) == {ScreeningOutcome.clear}


@pytest.mark.parametrize(
    ("mode", "detail"),
    [
        ("status500", "公安数据服务返回错误（HTTP 500）"),
        ("malformed", remote.UNREADABLE),
        ("wrong_shape", remote.UNREADABLE),
    ],
)
def test_http_provider_failures_become_errors(
    fake_service: tuple[FakeService, str], mode: str, detail: str
) -> None:
    service, url = fake_service
    service.mode = mode
    findings = _by_key(_http(url).check(PEOPLE))
    assert len(findings) == 10
    assert {(f.outcome, f.detail) for f in findings.values()} == {(ScreeningOutcome.error, detail)}


def test_http_provider_timeout(fake_service: tuple[FakeService, str]) -> None:
    service, url = fake_service
    service.mode, service.delay = "sleep", 2.0
    started = time.monotonic()
    findings = _by_key(_http(url, timeout=0.2).check(PEOPLE))
    assert time.monotonic() - started < 1.5
    assert {(f.outcome, f.detail) for f in findings.values()} == {
        (ScreeningOutcome.error, "公安数据服务无响应（超时）")
    }


def test_http_provider_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    findings = _by_key(_http(f"http://127.0.0.1:{port}/screening").check(PEOPLE))
    assert {(f.outcome, f.detail) for f in findings.values()} == {
        (ScreeningOutcome.error, remote.UNREACHABLE)
    }


def test_http_provider_missing_results_are_errors(fake_service: tuple[FakeService, str]) -> None:
    service, url = fake_service
    service.omit = {(ZHANG, "wanted_fugitive"), (LI, "criminal_record")}
    findings = _by_key(_http(url).check(PEOPLE))
    assert len(findings) == 10
    errors = {k for k, f in findings.items() if f.outcome == ScreeningOutcome.error}
    assert errors == {(ZHANG, ScreeningCategory.wanted_fugitive), (LI, "criminal_record")}
    assert findings[(LI, ScreeningCategory.criminal_record)].detail == remote.NOT_ANSWERED
    assert _http(url).check([]) == []
    assert len(service.requests) == 1  # nobody to ask: no request


def test_provider_for_settings() -> None:
    session = cast(Session, object())
    assert isinstance(provider_for(Settings(), session), WatchListProvider)
    http = provider_for(
        Settings(
            screening_provider="http", screening_url="http://x/s", screening_timeout_seconds=3
        ),
        session,
    )
    assert isinstance(http, HttpScreeningProvider)
    assert (http.url, http.timeout, http.name) == ("http://x/s", 3, "http")
    with pytest.raises(AppError) as raised:
        provider_for(Settings(screening_provider="http"), session)
    assert raised.value.code == ErrorCode.SCREENING_PROVIDER_UNAVAILABLE
