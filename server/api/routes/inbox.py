"""Routes: the inbox (待办事项) — my pending steps, what I have done, and the badge counts."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from server.api.deps import NowDep, ReadOnlyRoute, SessionDep, permission
from server.api.params import Sort
from server.api.responses import fast_json
from server.services.approvals import inbox, views
from server.services.authz import Principal
from server.services.paging import PageNumber, PageRequest
from shared.approvals import ApplicationStatus, InboxBox
from shared.china_time import china_day
from shared.enums import BusinessType
from shared.schemas.applications import InboxCounts, InboxPage

router = APIRouter(prefix="/inbox", tags=["inbox"], route_class=ReadOnlyRoute)
Viewer = Annotated[Principal, permission("applications:view")]


@router.get("", response_model=InboxPage)
def list_inbox(
    principal: Viewer,
    session: SessionDep,
    now: NowDep,
    box: InboxBox = InboxBox.pending,
    business_type: BusinessType | None = None,
    status: ApplicationStatus | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    applicant: Annotated[str | None, Query(max_length=100)] = None,
    overdue: bool | None = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    sort: Sort = None,
    with_counts: bool = False,
) -> Response:
    request = PageRequest(page, page_size, sort)
    f = inbox.InboxFilter(business_type, status, date_from, date_to, applicant, overdue)
    today = china_day(now)
    tally: inbox.Tally | None = None
    if box == InboxBox.pending:
        rows, total, tally = inbox.list_pending(
            session, principal, f, request, today=today, with_counts=with_counts
        )
        org_name = views.authority_name(session, principal)
        items: list[Any] = views.pending_rows(rows, now=now, org_name=org_name)
    else:
        done, total = inbox.list_done(session, principal, f, request)
        items = views.done_rows(session, done, now=now)
        if with_counts:
            tally = inbox.counts(session, principal, today=today)
    counts = None if tally is None else _counts(tally)
    answer = {"items": items, "total": total, "page": page, "page_size": request.limit}
    return fast_json(InboxPage.model_validate({**answer, "counts": counts}))


def _counts(tally: inbox.Tally) -> dict[str, Any]:
    total, overdue, by_type = tally
    return {"total": total, "overdue": overdue, "by_type": by_type}


@router.get("/counts", response_model=InboxCounts)
def counts(principal: Viewer, session: SessionDep, now: NowDep) -> Response:
    tally = inbox.counts(session, principal, today=china_day(now))
    return fast_json(InboxCounts.model_validate(_counts(tally)))
