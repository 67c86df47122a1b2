from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from server.api.deps import ContextDep, NowDep, SessionDep, permission, read_only
from server.api.params import Search, Sort
from server.api.responses import ModelRoute
from server.services import user_views, users
from server.services.authz import Principal
from server.services.paging import PageNumber, PageRequest
from shared.schemas.common import Id, Page
from shared.schemas.users import PasswordReset, UserCreate, UserCreated, UserPublic, UserUpdate

router = APIRouter(prefix="/users", tags=["users"], route_class=ModelRoute)


@read_only(router, "", response_model=Page[UserPublic])
def list_users(
    principal: Annotated[Principal, permission("users:view")],
    session: SessionDep,
    now: NowDep,
    org_id: Id | None = None,
    include_subtree: bool = False,
    q: Search = None,
    enabled: bool | None = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 20,
    sort: Sort = None,
) -> Page[UserPublic]:
    request = PageRequest(page, page_size, sort)
    items, total = users.list_users(
        session,
        principal,
        org_id=org_id,
        include_subtree=include_subtree,
        q=q,
        enabled=enabled,
        page=request,
    )
    return Page[UserPublic].model_validate(
        {
            "items": user_views.public_users(session, items, principal, now=now),
            "total": total,
            "page": page,
            "page_size": request.limit,
        }
    )


def _public(session: Session, principal: Principal, user_id: int, now: datetime) -> UserPublic:
    """The account as the caller sees it, read after any change is committed."""
    return user_views.public_user(
        session, principal, users.get_user(session, principal, user_id), now=now
    )


@router.post("", response_model=UserCreated, status_code=201)
def create_user(
    body: UserCreate,
    principal: Annotated[Principal, permission("users:create")],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> UserCreated:
    created = users.create_user(session, principal, now=now, passwords=context.passwords, data=body)
    public = _public(session, principal, created.user.id, now)
    return UserCreated(**public.model_dump(), initial_password=created.initial_password)


@read_only(router, "/{user_id}", response_model=UserPublic)
def get_user(
    user_id: Id,
    principal: Annotated[Principal, permission("users:view")],
    session: SessionDep,
    now: NowDep,
) -> UserPublic:
    return _public(session, principal, user_id, now)


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(
    user_id: Id,
    body: UserUpdate,
    principal: Annotated[Principal, permission("users:update")],
    session: SessionDep,
    now: NowDep,
) -> UserPublic:
    users.update_user(session, principal, user_id, now=now, data=body)
    return _public(session, principal, user_id, now)


@router.post("/{user_id}/reset-password", response_model=PasswordReset)
def reset_password(
    user_id: Id,
    principal: Annotated[Principal, permission("users:reset_password")],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> PasswordReset:
    password = users.reset_password(
        session, principal, user_id, now=now, passwords=context.passwords
    )
    return PasswordReset(user_id=user_id, initial_password=password)


@router.post("/{user_id}/unlock", response_model=UserPublic)
def unlock(
    user_id: Id,
    principal: Annotated[Principal, permission("users:unlock")],
    session: SessionDep,
    now: NowDep,
) -> UserPublic:
    users.unlock(session, principal, user_id, now=now)
    return _public(session, principal, user_id, now)
