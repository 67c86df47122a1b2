from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from server.api.deps import SessionDep, permission, read_only
from server.api.params import Code
from server.api.responses import ModelRoute
from server.db.models import AuditEntry
from server.services import audit
from server.services.authz import Principal
from server.services.paging import PageNumber, PageRequest
from shared.schemas.audit import AuditEntryPublic
from shared.schemas.common import Id, Page

router = APIRouter(prefix="/audit", tags=["audit"], route_class=ModelRoute)


@read_only(router, "", response_model=Page[AuditEntryPublic])
def list_audit(
    principal: Annotated[Principal, permission("audit:view")],
    session: SessionDep,
    action: Code = None,
    actor_id: Id | None = None,
    entity_type: Code = None,
    entity_id: Code = None,
    # an instant with its offset: a bare local time would be compared with UTC in the database
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AuditEntryPublic]:
    request = PageRequest(page, page_size)
    items, total = audit.list_entries(
        session,
        scope_clause=principal.scope.clause(AuditEntry.org_id),
        action=action,
        actor_id=actor_id,
        entity_type=entity_type,
        entity_id=entity_id,
        since=since,
        until=until,
        offset=request.offset,
        limit=request.limit,
    )
    return Page[AuditEntryPublic].model_validate(
        {
            "items": [row._mapping for row in items],
            "total": total,
            "page": page,
            "page_size": request.limit,
        }
    )
