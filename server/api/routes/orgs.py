from typing import Annotated

from fastapi import APIRouter, Query, Response

from server.api.deps import NowDep, SessionDep, permission, read_only
from server.api.params import Search, Sort
from server.api.responses import ModelRoute
from server.services import orgs
from server.services.authz import Principal, refreshed
from server.services.paging import PageNumber, PageRequest
from shared.schemas.common import Id, Page, Version
from shared.schemas.orgs import OrgCreate, OrgPublic, OrgUpdate

router = APIRouter(prefix="/orgs", tags=["orgs"], route_class=ModelRoute)


@read_only(router, "", response_model=Page[OrgPublic])
def list_orgs(
    principal: Annotated[Principal, permission("orgs:view")],
    session: SessionDep,
    parent_id: Id | None = None,
    q: Search = None,
    region_code: Annotated[str | None, Query(max_length=6)] = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=5000)] = 20,
    sort: Sort = None,
) -> Page[OrgPublic]:
    request = PageRequest(page, page_size, sort)
    items, total = orgs.list_orgs(
        session, principal, parent_id=parent_id, q=q, region_code=region_code, page=request
    )
    counts = orgs.child_counts(session, principal, [o.id for o in items])
    return Page[OrgPublic].model_validate(
        {
            "items": [orgs.public_fields(o, principal, counts.get(o.id, 0)) for o in items],
            "total": total,
            "page": page,
            "page_size": request.limit,
        }
    )


@router.post("", response_model=OrgPublic, status_code=201)
def create_org(
    body: OrgCreate,
    principal: Annotated[Principal, permission("orgs:create")],
    session: SessionDep,
    now: NowDep,
) -> OrgPublic:
    org = orgs.create_org(session, principal, now=now, data=body)
    return orgs.to_public(org, refreshed(session, principal))


@read_only(router, "/{org_id}", response_model=OrgPublic)
def get_org(
    org_id: Id, principal: Annotated[Principal, permission("orgs:view")], session: SessionDep
) -> OrgPublic:
    org = orgs.get_org(session, principal, org_id)
    return orgs.to_public(
        org, principal, orgs.child_counts(session, principal, [org.id]).get(org.id, 0)
    )


@router.patch("/{org_id}", response_model=OrgPublic)
def update_org(
    org_id: Id,
    body: OrgUpdate,
    principal: Annotated[Principal, permission("orgs:update")],
    session: SessionDep,
    now: NowDep,
) -> OrgPublic:
    return orgs.to_public(
        orgs.update_org(session, principal, org_id, now=now, data=body), principal
    )


@router.delete("/{org_id}", status_code=204)
def delete_org(
    org_id: Id,
    principal: Annotated[Principal, permission("orgs:delete")],
    session: SessionDep,
    now: NowDep,
    version: Version | None = None,
) -> Response:
    orgs.delete_org(session, principal, org_id, now=now, version=version)
    return Response(status_code=204)
