"""Routes: 内外网数据同步 for the administrator — the cursors and the transport, the bundles that
arrived (re-check, discard), the peer's keys, and one cycle now (立即同步). docs/sync.md."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as Path_

from server.api.deps import ContextDep, NowDep, SessionDep, permission, read_only
from server.api.openapi import raises
from server.api.params import Sort
from server.api.responses import ModelRoute
from server.services.authz import Principal
from server.services.paging import PageNumber, PageRequest
from server.services.sync import admin
from shared.errors import ErrorCode
from shared.schemas.common import Id, Page
from shared.schemas.sync import (
    BundleState,
    PeerKeyCreate,
    PeerKeyPublic,
    SyncBundleDetail,
    SyncBundleRow,
    SyncRunResult,
    SyncStatus,
    SyncStuckReject,
)
from shared.sync.bundle import MAX_SEQ

router = APIRouter(prefix="/sync", tags=["sync"], route_class=ModelRoute)

Viewer = Annotated[Principal, permission("sync:view")]
Runner = Annotated[Principal, permission("sync:run")]
Manager = Annotated[Principal, permission("sync:manage")]
Seq = Annotated[int, Path_(ge=1, le=MAX_SEQ)]  # the BIGINT of sync_state's cursors
KeyId = Annotated[str, Path_(min_length=16, max_length=16, pattern="^[0-9a-f]{16}$")]
_SITE_WIDE = raises(ErrorCode.SYNC_SCOPE_REQUIRED)


@read_only(router, "/status", response_model=SyncStatus, openapi_extra=_SITE_WIDE)
def status(principal: Viewer, session: SessionDep, context: ContextDep) -> SyncStatus:
    admin.ensure_site_wide(principal)
    return admin.status(session, context.settings)


@read_only(router, "/bundles", response_model=Page[SyncBundleRow], openapi_extra=_SITE_WIDE)
def list_bundles(
    principal: Viewer,
    session: SessionDep,
    state: Annotated[list[BundleState] | None, Query(max_length=5)] = None,
    sort: Sort = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 20,
) -> Page[SyncBundleRow]:
    """Bundles in the given states (``?state=quarantined&state=held``; all when none)."""
    admin.ensure_site_wide(principal)
    request = PageRequest(page, page_size, sort)
    items, total = admin.list_bundles(session, states=state or [], page=request)
    return Page[SyncBundleRow](items=items, total=total, page=page, page_size=request.limit)


@read_only(
    router,
    "/bundles/{bundle_id}",
    response_model=SyncBundleDetail,
    openapi_extra=raises(ErrorCode.SYNC_SCOPE_REQUIRED, ErrorCode.SYNC_BUNDLE_NOT_FOUND),
)
def bundle(bundle_id: Id, principal: Viewer, session: SessionDep) -> SyncBundleDetail:
    admin.ensure_site_wide(principal)
    return admin.bundle_detail(session, bundle_id)


@router.post(
    "/bundles/{bundle_id}/recheck",
    response_model=SyncBundleDetail,
    openapi_extra=raises(
        ErrorCode.SYNC_SCOPE_REQUIRED,
        ErrorCode.SYNC_BUNDLE_NOT_FOUND,
        ErrorCode.SYNC_BUNDLE_NOT_RECHECKABLE,
        ErrorCode.SYNC_RUNNING,
    ),
)
def recheck(
    bundle_id: Id, principal: Runner, session: SessionDep, request: Request
) -> SyncBundleDetail:
    """重新校验 a quarantined or held bundle after a fix (a peer key added, a gap filled).
    The sync service works in transactions of its own; the answer is read afterwards. While a
    cycle runs (here or on another host) it answers SYNC_RUNNING: both apply records."""
    admin.ensure_site_wide(principal)
    session.commit()
    context = request.app.state.context
    admin.recheck(
        request.app.state.session_factory,
        bundle_id,
        settings=context.settings,
        clock=context.clock,
        actor=principal.actor,
    )
    return admin.bundle_detail(session, bundle_id)


@router.post(
    "/bundles/{bundle_id}/discard",
    response_model=SyncBundleDetail,
    openapi_extra=raises(
        ErrorCode.SYNC_SCOPE_REQUIRED,
        ErrorCode.SYNC_BUNDLE_NOT_FOUND,
        ErrorCode.SYNC_BUNDLE_NOT_QUARANTINED,
    ),
)
def discard(
    bundle_id: Id, principal: Manager, session: SessionDep, now: NowDep
) -> SyncBundleDetail:
    """丢弃 a quarantined bundle (only a quarantined one: 409 SYNC_BUNDLE_NOT_QUARANTINED)."""
    admin.ensure_site_wide(principal)
    admin.discard(session, bundle_id, actor=principal.actor, now=now)
    session.commit()
    return admin.bundle_detail(session, bundle_id)


@router.post(
    "/run",
    response_model=SyncRunResult,
    openapi_extra=raises(
        ErrorCode.SYNC_SCOPE_REQUIRED,
        ErrorCode.SYNC_NOT_CONFIGURED,
        ErrorCode.SYNC_RUNNING,
        ErrorCode.SYNC_CYCLE_FAILED,
    ),
)
def run(principal: Runner, session: SessionDep, request: Request, now: NowDep) -> SyncRunResult:
    """立即同步: one cycle, in this worker thread (it blocks; the event loop does not wait).
    A second press while a cycle runs in this process answers 409 SYNC_RUNNING at once."""
    admin.ensure_site_wide(principal)
    session.commit()  # the cycle opens its own sessions: hold no transaction meanwhile
    context = request.app.state.context
    return admin.run_cycle(
        request.app.state.engine,
        context.settings,
        clock=context.clock,
        actor=principal.actor,
        now=now,
    )


@router.post(
    "/stuck/{seq}/reject",
    response_model=SyncStatus,
    openapi_extra=raises(ErrorCode.SYNC_SCOPE_REQUIRED, ErrorCode.SYNC_RECORD_NOT_STUCK),
)
def reject_stuck(
    seq: Seq,
    body: SyncStuckReject,
    principal: Manager,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> SyncStatus:
    """退回该记录: the record the stream is stuck on is answered with ``record.rejected``
    (SYNC_RECORD_FAILED, the reason in its message) and the stream moves past it; 409
    SYNC_RECORD_NOT_STUCK when ``seq`` is no longer the stuck, next record to apply."""
    admin.ensure_site_wide(principal)
    admin.reject_stuck(session, seq, reason=body.reason, actor=principal.actor, now=now)
    session.commit()
    return admin.status(session, context.settings)


@read_only(router, "/peer-keys", response_model=list[PeerKeyPublic], openapi_extra=_SITE_WIDE)
def peer_keys(principal: Viewer, session: SessionDep) -> list[PeerKeyPublic]:
    admin.ensure_site_wide(principal)
    return admin.peer_keys(session)


@router.post(
    "/peer-keys",
    response_model=PeerKeyPublic,
    status_code=201,
    openapi_extra=raises(ErrorCode.SYNC_SCOPE_REQUIRED, ErrorCode.SYNC_PEER_KEY_INVALID),
)
def add_peer_key(
    body: PeerKeyCreate, principal: Manager, session: SessionDep, now: NowDep, response: Response
) -> PeerKeyPublic:
    """201 with a new key; 200 with the one already registered (nothing changes)."""
    admin.ensure_site_wide(principal)
    key, new = admin.add_peer_key(session, body.public_key, actor=principal.actor, now=now)
    session.commit()
    if not new:
        response.status_code = 200
    return key


@router.post(
    "/peer-keys/{key_id}/retire",
    response_model=PeerKeyPublic,
    openapi_extra=raises(ErrorCode.SYNC_SCOPE_REQUIRED, ErrorCode.SYNC_PEER_KEY_NOT_FOUND),
)
def retire_peer_key(
    key_id: KeyId,
    principal: Manager,
    session: SessionDep,
    now: NowDep,
) -> PeerKeyPublic:
    """停用: the key still verifies bundles created before now, and no later ones (retiring
    a retired key changes nothing)."""
    admin.ensure_site_wide(principal)
    key = admin.retire_peer_key(session, key_id, actor=principal.actor, now=now)
    session.commit()
    return key
