"""The top bar's bell shows what the server routes to the signed-in approver, polled off the UI
thread, and keeps the last count (marked stale) when a poll fails."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from client.api import ApiClient
from client.jobs.runner import JobRunner
from client.models.inbox_badge import InboxBadge
from client.session import Session
from client.views.bell import BellButton
from shared.enums import BusinessType
from tests.client.approval_desk import DeskWorld, build_desk_world


@pytest.fixture(scope="module")
def world(admin_api: ApiClient) -> DeskWorld:
    world = build_desk_world(admin_api, "bell")
    world.submit(BusinessType.legal_rep_change)
    world.submit(BusinessType.legal_rep_change)
    world.submit(BusinessType.annual_report_filing)
    return world


def _bell(qtbot, api: ApiClient) -> tuple[InboxBadge, BellButton, JobRunner]:  # type: ignore[no-untyped-def]
    runner = JobRunner()
    badge = InboxBadge(Session(api, runner).run)
    bell = BellButton(badge, interval_ms=50)
    qtbot.addWidget(bell)
    return badge, bell, runner


@contextmanager
def changed(qtbot, badge: InboxBadge, timeout: int) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """``qtbot.waitSignal`` for the badge's plain (psygnal) signal."""
    seen: list[bool] = []
    badge.changed.connect(lambda: seen.append(True))
    yield
    qtbot.waitUntil(lambda: bool(seen), timeout=timeout)


def test_bell_counts_what_is_routed_to_the_approver(qtbot, world: DeskWorld) -> None:  # type: ignore[no-untyped-def]
    badge, bell, runner = _bell(qtbot, world.signed_in("county"))
    assert bell.text() == "待办 …"
    with changed(qtbot, badge, 10000):
        bell.start()
    assert bell.text() == "待办 3"
    assert not bell.icon().isNull()
    tooltip = bell.toolTip()
    assert "待审批 3 件" in tooltip
    assert f"{BusinessType.legal_rep_change.label}：2" in tooltip
    assert f"{BusinessType.annual_report_filing.label}：1" in tooltip
    assert bell.property("overdue") is False
    # a new application is picked up by the periodic poll, without any click
    world.submit(BusinessType.annual_report_filing)
    qtbot.waitUntil(lambda: bell.text() == "待办 4", timeout=10000)
    bell.stop()
    runner.cancel_all()
    runner.wait(5000)


def test_bell_of_an_approver_with_nothing_to_do(qtbot, world: DeskWorld) -> None:  # type: ignore[no-untyped-def]
    # the city step opens only after the county approves: nothing for the city yet
    badge, bell, runner = _bell(qtbot, world.signed_in("city"))
    with changed(qtbot, badge, 10000):
        badge.refresh()
    assert bell.text() == "待办 0"
    assert bell.toolTip() == "暂无待审批事项"
    runner.wait(5000)


def test_failed_poll_keeps_the_last_count_and_says_so(qtbot, world: DeskWorld) -> None:  # type: ignore[no-untyped-def]
    api = world.signed_in("county")
    badge, bell, runner = _bell(qtbot, api)
    with changed(qtbot, badge, 10000):
        badge.refresh()
    before = bell.text()
    assert before.startswith("待办 ") and before != "待办 0"
    api.base_url = "http://127.0.0.1:9"  # nothing listens on the discard port
    with changed(qtbot, badge, 20000):
        badge.refresh()
    assert badge.stale and bell.property("stale") is True
    assert bell.text() == before
    assert "刷新失败" in bell.toolTip()
    runner.wait(5000)
