"""The inbox: what is mine, filters, sorting, paging, counts, overdue flags and reminders."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import ApprovalTask
from server.db.models import Notification
from server.services.approvals.deadlines import notify_overdue
from shared.enums import BusinessType
from tests.server.approval_world import World, application_body, build
from tests.server.conftest import login
from tests.server.test_request_cost import statements_of
from tests.server.world import STRONG


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"token_idle_minutes": 60 * 24 * 60, "token_absolute_hours": 24 * 60}
    )


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


def submit(world: World, business_type: BusinessType, **kw: object) -> int:
    body = application_body(business_type, **kw)  # type: ignore[arg-type]
    return int(world.apis["intake"].post("/applications", 201, json=body).json()["id"])


def test_pending_is_routed_by_region_and_role(world: World) -> None:
    xh = [submit(world, BusinessType.annual_report_filing) for _ in range(3)]
    sc = submit(world, BusinessType.annual_report_filing, region="330102")
    hs = submit(world, BusinessType.commendation, region="330203")
    assert {r["id"] for r in world.apis["xh_clerk"].get("/inbox").json()["items"]} == set(xh)
    assert [r["id"] for r in world.apis["sc_clerk"].get("/inbox").json()["items"]] == [sc]
    assert [r["id"] for r in world.apis["hs_clerk"].get("/inbox").json()["items"]] == [hs]
    # xh_clerk2 only holds county_clerk, which is the first step's role for every type
    assert world.apis["xh_clerk2"].get("/inbox").json()["total"] == 3
    assert world.apis["hz_clerk"].get("/inbox").json()["total"] == 0
    row = world.apis["xh_clerk"].get("/inbox").json()["items"][0]
    assert row["step_name"] and row["acting_org_name"] == "西湖区分局"
    assert row["business_type_label"] == "保安服务公司年度报告备案"


@pytest.mark.machine_zones
def test_filters_sorting_paging_and_counts(world: World, clock: FrozenClock) -> None:
    ids = []
    for business_type in (BusinessType.annual_report_filing, BusinessType.commendation) * 3:
        ids.append(submit(world, business_type))
        clock.advance(hours=1)
    api = world.apis["xh_clerk"]
    page = api.get("/inbox", params={"page_size": 4, "sort": "submitted_at"}).json()
    assert page["total"] == 6 and [r["id"] for r in page["items"]] == ids[:4]
    second = api.get("/inbox", params={"page_size": 4, "page": 2, "sort": "-submitted_at"}).json()
    assert [r["id"] for r in second["items"]] == list(reversed(ids))[4:]
    assert second["total"] == 6
    beyond = api.get("/inbox", params={"page_size": 4, "page": 3}).json()
    assert beyond["items"] == [] and beyond["total"] == 6
    only = api.get("/inbox", params={"business_type": "commendation"}).json()
    assert only["total"] == 3 and {r["business_type"] for r in only["items"]} == {"commendation"}
    assert api.get("/inbox", params={"applicant": "平安保安"}).json()["total"] == 6
    assert api.get("/inbox", params={"applicant": "不存在的公司"}).json()["total"] == 0
    number = page["items"][0]["number"]
    assert [
        r["number"] for r in api.get("/inbox", params={"applicant": number}).json()["items"]
    ] == [number]
    today = clock.now().date().isoformat()
    assert api.get("/inbox", params={"date_from": today, "date_to": today}).json()["total"] == 6
    assert api.get("/inbox", params={"date_to": "2020-01-01"}).json()["total"] == 0
    counts = api.get("/inbox/counts").json()
    assert counts == {
        "total": 6,
        "overdue": 0,
        "by_type": {"annual_report_filing": 3, "commendation": 3},
    }
    # the inbox screen asks for a page and the counts at once; a filter narrows the page only
    both = api.get("/inbox", params={"with_counts": True, "business_type": "commendation"}).json()
    assert both["counts"] == counts and both["total"] == 3
    assert page.get("counts") is None


@pytest.mark.parametrize("sort", [None, "due_date", "-due_date", "started_at", "-started_at"])
def test_pages_in_a_step_order(
    world: World, clock: FrozenClock, initialised: Session, sort: str | None
) -> None:
    """Sorted on a step's own column (the inbox as it opens), a page is chosen among the steps
    before their applications are read (``inbox._steps_first``): the lines, their order (the
    column, then the newest application first among equals), the total and the counts are
    those of the whole list, on every page and past the end."""
    ids = []
    for hours in (1, 30, 1, 30, 1, 1):  # some steps share a due date, none a start
        ids.append(submit(world, BusinessType.annual_report_filing))
        clock.advance(hours=hours)
    initialised.expire_all()
    steps = initialised.scalars(
        select(ApprovalTask).where(
            ApprovalTask.application_id.in_(ids), ApprovalTask.status == "pending"
        )
    ).all()
    column = (sort or "due_date").lstrip("-")
    by_key = sorted(steps, key=lambda t: t.application_id, reverse=True)
    expected = [
        t.application_id
        for t in sorted(
            by_key, key=lambda t: getattr(t, column), reverse=bool(sort and sort[0] == "-")
        )
    ]
    assert len({t.due_date for t in steps}) < len(steps)  # ties are broken by the application
    api = world.apis["xh_clerk"]
    params: dict[str, Any] = {"page_size": 4, **({"sort": sort} if sort else {})}
    first = api.get("/inbox", params=params).json()
    second = api.get("/inbox", params={**params, "page": 2, "with_counts": True}).json()
    assert [r["id"] for r in first["items"] + second["items"]] == expected
    assert first["total"] == second["total"] == 6
    assert second["counts"] == {"total": 6, "overdue": 0, "by_type": {"annual_report_filing": 6}}
    beyond = api.get("/inbox", params={**params, "page": 3}).json()
    assert beyond["items"] == [] and beyond["total"] == 6
    not_late = api.get("/inbox", params={**params, "overdue": False}).json()
    assert [r["id"] for r in not_late["items"]] == expected[:4]

    late_ids = {ids[1], ids[4]}  # two steps past their limit, the others not
    for task in steps:
        if task.application_id in late_ids:
            task.due_date = task.due_date - timedelta(days=60)
    initialised.commit()
    late_first = sorted(
        by_key, key=lambda t: getattr(t, column), reverse=bool(sort and sort[0] == "-")
    )
    order = [t.application_id for t in late_first]
    late = api.get("/inbox", params={**params, "overdue": True, "with_counts": True}).json()
    assert [r["id"] for r in late["items"]] == [i for i in order if i in late_ids]
    assert late["total"] == 2 and late["counts"]["overdue"] == 2
    on_time = api.get("/inbox", params={**params, "overdue": False}).json()
    assert [r["id"] for r in on_time["items"]] == [i for i in order if i not in late_ids]
    assert on_time["total"] == 4


def test_done_box_lists_what_i_acted_on(world: World) -> None:
    first, second = (
        submit(world, BusinessType.annual_report_filing),
        submit(world, BusinessType.commendation),
    )
    api = world.apis["xh_clerk"]
    version = api.get(f"/applications/{first}").json()["version"]
    api.post(f"/applications/{first}/approve", json={"version": version, "opinion": "同意"})
    done = api.get("/inbox", params={"box": "done"}).json()
    assert [r["id"] for r in done["items"]] == [first]
    assert (
        done["items"][0]["step_name"] == "市级审核"
        or done["items"][0]["acting_org_name"] == "杭州市公安局"
    )
    assert [r["id"] for r in api.get("/inbox").json()["items"]] == [second]


@pytest.mark.machine_zones
def test_overdue_flag_counts_and_one_reminder_per_approver(
    world: World, clock: FrozenClock, session: Session
) -> None:
    app_id = submit(world, BusinessType.annual_report_filing)
    task = session.scalar(select(ApprovalTask).where(ApprovalTask.application_id == app_id))
    assert task is not None
    api = world.apis["xh_clerk"]
    assert api.get("/inbox", params={"overdue": True}).json()["total"] == 0
    assert api.get("/inbox/counts").json()["overdue"] == 0
    clock.advance(days=30)  # the same requests again: "today" is a parameter, not built in
    rows = api.get("/inbox", params={"overdue": True}).json()["items"]
    assert [r["id"] for r in rows] == [app_id] and rows[0]["overdue"] is True
    assert api.get("/inbox", params={"overdue": False}).json()["total"] == 0
    assert api.get("/inbox/counts").json()["overdue"] == 1
    page = api.get("/inbox", params={"with_counts": True, "business_type": "commendation"})
    assert page.json()["counts"] == api.get("/inbox/counts").json()  # overdue counted there too
    assert notify_overdue(session, now=clock.now()) == 1
    assert notify_overdue(session, now=clock.now()) == 0
    reminders = session.scalars(
        select(Notification).where(Notification.subject == "审批超期提醒")
    ).all()
    # xh_clerk and xh_clerk2 both hold county_clerk at 西湖区分局
    assert sorted(n.user_id for n in reminders) == sorted(
        [world.users["xh_clerk"].id, world.users["xh_clerk2"].id]
    )
    assert all("已超过办理时限" in n.body for n in reminders)


@pytest.mark.parametrize(
    ("opened", "limit", "due"),
    [
        # 2026 Spring Festival: 15–23 Feb off, Saturday 14 Feb and Saturday 28 Feb worked
        (datetime(2026, 2, 12, 2, tzinfo=UTC), 5, date(2026, 2, 26)),
        # 2026 National Day: 1–7 Oct off, Sunday 20 Sep and Saturday 10 Oct worked
        (datetime(2026, 9, 28, 2, tzinfo=UTC), 5, date(2026, 10, 10)),
        (datetime(2026, 9, 18, 2, tzinfo=UTC), 2, date(2026, 9, 21)),
    ],
)
@pytest.mark.machine_zones
def test_due_dates_follow_the_holiday_calendar(
    world: World, clock: FrozenClock, session: Session, opened: datetime, limit: int, due: date
) -> None:
    clock._now = opened
    world.apis["intake"] = login(world.client, "intake", STRONG)
    app_id = submit(world, BusinessType.annual_report_filing)
    task = session.scalar(select(ApprovalTask).where(ApprovalTask.application_id == app_id))
    assert task is not None and (task.due_date - task.started_at.date()).days > 0
    if limit == 5:
        assert task.due_date == due
    else:
        from server.services.approvals.tasks import due_date

        assert due_date(opened, limit) == due


def test_the_page_carries_its_counts_in_one_statement(world: World, app: Any) -> None:
    """The inbox screen's request (a page with the badge counts) reads both in one statement
    after the token's on PostgreSQL (a round trip fewer); the counts stay the whole inbox's
    whatever the page shows: filtered, past the end, or empty (then read on their own)."""
    kind = app.state.engine.dialect.name
    for business_type in (BusinessType.annual_report_filing, BusinessType.commendation) * 2:
        submit(world, business_type)
    submit(world, BusinessType.commendation)
    api = world.apis["xh_clerk"]
    counts = api.get("/inbox/counts").json()
    assert counts["by_type"] == {"annual_report_filing": 2, "commendation": 3}
    api.get("/inbox", params={"with_counts": True})
    with statements_of(app) as seen:
        page = api.get("/inbox", params={"with_counts": True}).json()
    # the token, then the page with its total and (PostgreSQL: in the same statement) the counts
    assert len(seen) == (2 if kind == "postgresql" else 3), seen
    assert page["counts"] == counts and page["total"] == 5
    for params in (
        {"business_type": "annual_report_filing"},
        {"page": 9, "page_size": 2},
        {"applicant": "不存在的公司"},
        {"box": "done"},
    ):
        again = api.get("/inbox", params={**params, "with_counts": True}).json()
        assert again["counts"] == counts, params
    nothing = world.apis["hz_clerk"].get("/inbox", params={"with_counts": True}).json()
    assert nothing["counts"] == {"total": 0, "overdue": 0, "by_type": {}}
