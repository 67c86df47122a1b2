from typing import Annotated

from fastapi import APIRouter, Query, Response

from server.api.deps import NowDep, SessionDep, permission, read_only
from server.api.params import Search, Sort
from server.api.responses import ModelRoute
from server.services import roles
from server.services.authz import Principal
from server.services.paging import PageNumber, PageRequest
from shared.schemas.common import Id, Page, Version
from shared.schemas.roles import RoleCreate, RolePublic, RoleUpdate

router = APIRouter(prefix="/roles", tags=["roles"], route_class=ModelRoute)


@read_only(router, "", response_model=Page[RolePublic])
def list_roles(
    principal: Annotated[Principal, permission("roles:view")],
    session: SessionDep,
    org_id: Id | None = None,
    q: Search = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 20,
    sort: Sort = None,
) -> Page[RolePublic]:
    request = PageRequest(page, page_size, sort)
    items, total = roles.list_roles(session, principal, org_id=org_id, q=q, page=request)
    return Page[RolePublic].model_validate(
        {
            "items": roles.public_roles(session, items),
            "total": total,
            "page": page,
            "page_size": request.limit,
        }
    )


@router.post("", response_model=RolePublic, status_code=201)
def create_role(
    body: RoleCreate,
    principal: Annotated[Principal, permission("roles:create")],
    session: SessionDep,
    now: NowDep,
) -> RolePublic:
    role = roles.create_role(session, principal, now=now, data=body)
    return roles.public_role(session, principal, role.id)


@read_only(router, "/{role_id}", response_model=RolePublic)
def get_role(
    role_id: Id, principal: Annotated[Principal, permission("roles:view")], session: SessionDep
) -> RolePublic:
    return roles.public_role(session, principal, role_id)


@router.patch("/{role_id}", response_model=RolePublic)
def update_role(
    role_id: Id,
    body: RoleUpdate,
    principal: Annotated[Principal, permission("roles:update")],
    session: SessionDep,
    now: NowDep,
) -> RolePublic:
    roles.update_role(session, principal, role_id, now=now, data=body)
    return roles.public_role(session, principal, role_id)


@router.delete("/{role_id}", status_code=204)
def delete_role(
    role_id: Id,
    principal: Annotated[Principal, permission("roles:delete")],
    session: SessionDep,
    now: NowDep,
    version: Version | None = None,
) -> Response:
    roles.delete_role(session, principal, role_id, now=now, version=version)
    return Response(status_code=204)
