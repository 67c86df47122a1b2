"""内外网数据同步 as the administrator sees and steers it (the desk's 系统管理 page, the API).

Reads are made here from the tables. What changes the stream (a cycle, a re-check, a discard,
the peer's keys) is the sync service's own work: this module checks who asks and in what state
the bundle is, audits, and calls it through the functions in the last section (the only calls
into ``cycle``, ``inbound`` and ``keys``).

Sync is site-wide: a bundle carries applications of every region, so whoever steers it must see
all data (``ensure_site_wide``), on top of the ``sync:*`` permission.
"""

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, defer

from server.clock import Clock
from server.config import Settings
from server.db.session import create_session_factory
from server.db.sync_models import SyncInboundBundle, SyncPeerKey
from server.services import audit
from server.services.audit import Actor
from server.services.authz import Principal
from server.services.errors import AppError, action_state
from server.services.paging import PageRequest, order_by
from server.services.sync import cycle, inbound, keys, transports
from server.services.sync.cycle_lock import cycle_lock
from server.services.sync.outbox import PEER
from server.services.sync.status import sync_status
from server.services.sync.transports.base import TransportError
from shared.audit_actions import AuditAction, AuditEntity
from shared.errors import ErrorCode
from shared.schemas.sync import (
    BundleState,
    PeerKeyPublic,
    SyncBundleDetail,
    SyncBundleRow,
    SyncGap,
    SyncRunResult,
    SyncStatus,
    SyncStuck,
)
from shared.sync.keys import Node
from shared.sync.refusals import RefusalReason

RECHECKABLE = frozenset({BundleState.quarantined.value, BundleState.held.value})
SORTS = {
    "received_at": SyncInboundBundle.received_at,
    "name": SyncInboundBundle.name,
    "first_seq": SyncInboundBundle.first_seq,
    "state": SyncInboundBundle.state,
    "size": SyncInboundBundle.size,
}
TRANSPORT_LABELS = {"files": "文件摆渡", "http": "HTTP 网关"}

_cycle_running = threading.Lock()
"""One cycle at a time from this process: a second 立即同步 is told at once (SYNC_RUNNING)
rather than held on a thread and a connection to run a cycle with nothing left to do. Two
processes (PostgreSQL) are kept apart by the cycle's own database locks."""


@contextmanager
def _this_process_turn() -> Iterator[None]:
    """``_cycle_running`` held for the block, or SYNC_RUNNING at once."""
    if not _cycle_running.acquire(blocking=False):
        raise AppError(ErrorCode.SYNC_RUNNING)
    try:
        yield
    finally:
        _cycle_running.release()


def ensure_site_wide(principal: Principal) -> None:
    if not principal.scope.all:
        raise AppError(ErrorCode.SYNC_SCOPE_REQUIRED)


# -- reads ---------------------------------------------------------------------------------


def transport_label(settings: Settings) -> str:
    if settings.sync_transport is None:
        return "未配置"
    where = settings.sync_dir if settings.sync_transport == "files" else settings.sync_url
    return f"{TRANSPORT_LABELS[settings.sync_transport]}：{where or '（未设置）'}"


def peer_keys(session: Session) -> list[PeerKeyPublic]:
    rows = session.scalars(
        select(SyncPeerKey).where(SyncPeerKey.peer == PEER).order_by(SyncPeerKey.added_at)
    ).all()
    return [PeerKeyPublic.model_validate(row) for row in rows]


def status(session: Session, settings: Settings) -> SyncStatus:
    """Everything the page shows above its table (the sync service's status, no lock)."""
    core = sync_status(session, settings.sync_transport)
    gap = SyncGap(missing_from=core.gap[0], missing_to=core.gap[1]) if core.gap else None
    return SyncStatus(
        configured=settings.sync_transport is not None,
        transport=settings.sync_transport,
        transport_label=transport_label(settings),
        peer=PEER,
        peer_label=Node(PEER).label,
        own_key_id=_own_key_id(settings),
        peer_keys=peer_keys(session),
        last_seq=core.last_seq,
        acked_upto=core.acked_upto,
        ack_lag=max(core.last_seq - core.acked_upto, 0),
        waiting=core.waiting,
        applied_upto=core.applied_upto,
        gap=gap,
        held=core.held,
        quarantined=core.quarantined,
        last_sent_name=core.last_sent_name,
        last_sent_at=core.last_sent_at,
        last_received_name=core.last_received_name,
        last_received_at=core.last_received_at,
        last_cycle_at=core.last_cycle_at,
        last_cycle_error=core.last_cycle_error,
        stuck=None
        if core.stuck_seq is None
        else SyncStuck(
            seq=core.stuck_seq, type=core.stuck_type or "", failures=core.stuck_failures
        ),
    )


_ROW_COLUMNS = (
    SyncInboundBundle.id,
    SyncInboundBundle.name,
    SyncInboundBundle.state,
    SyncInboundBundle.bundle_id,
    SyncInboundBundle.first_seq,
    SyncInboundBundle.last_seq,
    SyncInboundBundle.size,
    SyncInboundBundle.reason_code,
    SyncInboundBundle.reason,
    SyncInboundBundle.received_at,
    SyncInboundBundle.settled_at,
    SyncInboundBundle.settled_by,
    SyncInboundBundle.content.is_not(None).label("content_kept"),
)


def _row(values: Any) -> SyncBundleRow:
    state = BundleState(values.state)
    return SyncBundleRow.model_validate(
        {
            **values._mapping,
            "state_label": state.label,
            "recheck": action_state(
                _recheck_refusal(values.state, values.content_kept, values.reason_code)
            ),
            "discard": action_state(_discard_refusal(values.state)),
        }
    )


def list_bundles(
    session: Session, *, states: Sequence[BundleState], page: PageRequest
) -> tuple[list[SyncBundleRow], int]:
    """A page of bundles (never their bytes), newest first unless sorted otherwise."""
    stmt = select(*_ROW_COLUMNS)
    if states:
        stmt = stmt.where(SyncInboundBundle.state.in_([s.value for s in states]))
    stmt = order_by(stmt, page, SORTS, "-received_at").order_by(SyncInboundBundle.id.desc())
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.offset(page.offset).limit(page.limit)).all()
    return [_row(r) for r in rows], total


def _recheck_refusal(state: str, content_kept: bool, reason_code: str | None) -> AppError | None:
    if state == BundleState.quarantined.value and not content_kept:
        try:
            label = RefusalReason(reason_code or "").label
        except ValueError:
            label = None
        if label is not None:
            # refused for something in the file itself (docs/sync.md: only a key problem is
            # kept for a re-check): the same bytes would be refused again
            message = (
                f"该同步包因“{label}”被隔离，重新校验不会改变结果，未保存其内容；"
                "如需导入，请外网门户重新发送"
            )
            return AppError(
                ErrorCode.SYNC_BUNDLE_NOT_RECHECKABLE, message, details={"state": state}
            )
    if state not in RECHECKABLE or not content_kept:
        return AppError(ErrorCode.SYNC_BUNDLE_NOT_RECHECKABLE, details={"state": state})
    return None


def _discard_refusal(state: str) -> AppError | None:
    if state != BundleState.quarantined.value:
        return AppError(ErrorCode.SYNC_BUNDLE_NOT_QUARANTINED, details={"state": state})
    return None


def bundle_detail(session: Session, bundle_id: int) -> SyncBundleDetail:
    bundle = _bundle(session, bundle_id)
    records = None
    if bundle.first_seq is not None and bundle.last_seq is not None:
        records = max(bundle.last_seq - bundle.first_seq + 1, 0)
    row = _row(
        session.execute(select(*_ROW_COLUMNS).where(SyncInboundBundle.id == bundle_id)).one()
    )
    return SyncBundleDetail(**row.model_dump(), sha256=bundle.sha256, records=records)


def _bundle(session: Session, bundle_id: int) -> SyncInboundBundle:
    bundle = session.scalars(
        select(SyncInboundBundle)
        .where(SyncInboundBundle.id == bundle_id)
        .options(defer(SyncInboundBundle.content))
    ).one_or_none()
    if bundle is None:
        raise AppError(ErrorCode.SYNC_BUNDLE_NOT_FOUND, details={"bundle_id": bundle_id})
    return bundle


# -- changes -------------------------------------------------------------------------------


def discard(session: Session, bundle_id: int, *, actor: Actor, now: datetime) -> None:
    """丢弃: a quarantined bundle is thrown away (its bytes go, its row stays ``discarded``);
    anything else is refused (SYNC_BUNDLE_NOT_QUARANTINED). Audited by the sync service; the
    caller commits."""
    _discard(session, bundle_id, actor, now)


def recheck(
    factory: Callable[[], Session],
    bundle_id: int,
    *,
    settings: Settings,
    clock: Clock,
    actor: Actor,
) -> None:
    """重新校验 after a fix (a peer key added): verified again and, if it passes, applied or
    held as a newly arrived bundle would be; if not, quarantined with today's reason. The sync
    service commits in its own transactions and audits."""
    _recheck(factory, bundle_id, settings, clock, actor)


def reject_stuck(session: Session, seq: int, *, reason: str, actor: Actor, now: datetime) -> None:
    """退回该记录: the stuck record ``seq`` is answered with ``record.rejected``
    (SYNC_RECORD_FAILED, ``reason`` in its message) and the stream moves past it; refused
    (SYNC_RECORD_NOT_STUCK) unless it is stuck and still the next to apply. Audited by the
    sync service; the caller commits."""
    _reject_stuck(session, seq, reason.strip(), actor, now)


def add_peer_key(
    session: Session, public_key: str, *, actor: Actor, now: datetime
) -> tuple[PeerKeyPublic, bool]:
    """对端公钥 added by the administrator (pasted base64); whether it is new (a key already
    known, retired or not, stays as it is). Audited by the sync service."""
    row, new = _add_peer_key(session, public_key, actor, now)
    return PeerKeyPublic.model_validate(row), new


def retire_peer_key(session: Session, key_id: str, *, actor: Actor, now: datetime) -> PeerKeyPublic:
    """停用: the key verifies bundles created before ``now`` only. Audited by the sync
    service; retiring a retired key changes nothing."""
    return PeerKeyPublic.model_validate(_retire_peer_key(session, key_id, actor, now))


def run_cycle(
    engine: Engine, settings: Settings, *, clock: Clock, actor: Actor, now: datetime
) -> SyncRunResult:
    """立即同步: one cycle, now, in the caller's (worker) thread; audited with its summary.
    A second one asked for while one runs (this process, or another host holding the cycle
    lock) is refused at once (SYNC_RUNNING); a cycle that could not finish answers
    SYNC_CYCLE_FAILED with its summary line (what failed, and what was done before)."""
    if settings.sync_transport is None:
        raise AppError(ErrorCode.SYNC_NOT_CONFIGURED)
    with _this_process_turn():
        result, error = _run_once(engine, settings, clock)
    with create_session_factory(engine)() as session:
        audit.record(
            session,
            now=now,
            actor=actor,
            action=AuditAction.SYNC_RUN,
            entity_type=AuditEntity.SYNC,
            entity_id=PEER,
            after={"summary": result.line},
        )
        session.commit()
    if error:
        raise AppError(ErrorCode.SYNC_CYCLE_FAILED, result.line, result.counts)
    return result


# -- the sync service's functions: every call into cycle, inbound, keys and transports -------


def _own_key_id(settings: Settings) -> str | None:
    """This node's key id, or None before ``sgss-server sync keys init`` (or with several)."""
    try:
        return keys.load_node_key(settings.data_dir).key_id
    except AppError:  # SYNC_KEY_MISSING, SYNC_KEY_AMBIGUOUS
        return None


def _run_once(engine: Engine, settings: Settings, clock: Clock) -> tuple[SyncRunResult, bool]:
    """The cycle's summary and whether it failed (busy: SYNC_RUNNING)."""
    try:
        transport = transports.from_settings(settings)
    except (TransportError, ValueError) as err:
        message = getattr(err, "message", str(err))
        raise AppError(ErrorCode.SYNC_CYCLE_FAILED, f"同步未完成：{message}") from err
    summary = cycle.run_once(
        engine,
        transport,
        data_dir=settings.data_dir,
        clock=clock,
        status_list_ttl_seconds=settings.certificate_status_list_ttl_seconds,
    )
    if summary.busy:
        raise AppError(ErrorCode.SYNC_RUNNING)
    return SyncRunResult(line=summary.line(), counts=_counts(summary)), summary.error is not None


def _counts(summary: cycle.CycleSummary) -> dict[str, int]:
    return {
        field.name: value
        for field in dataclasses.fields(summary)
        if type(value := getattr(summary, field.name)) is int
    }


def _recheck(
    factory: Callable[[], Session], bundle_id: int, settings: Settings, clock: Clock, actor: Actor
) -> None:
    """Under the cycle's lock, as a cycle's own receiving is: a re-check applying records while
    the worker's cycle applies the same ones would lose the race on the applied-records key."""
    with factory() as session:
        engine = session.get_bind()
    assert isinstance(engine, Engine)
    with _this_process_turn(), cycle_lock(engine, settings.data_dir) as held:
        if not held:
            raise AppError(ErrorCode.SYNC_RUNNING)
        applier = inbound.Applier(sessions=factory, data_dir=settings.data_dir, clock=clock)
        inbound.recheck(applier, bundle_id, actor=actor)


def _discard(session: Session, bundle_id: int, actor: Actor, now: datetime) -> None:
    inbound.discard(session, bundle_id, actor=actor, now=now)


def _reject_stuck(session: Session, seq: int, reason: str, actor: Actor, now: datetime) -> None:
    inbound.reject_stuck(session, seq, reason=reason, actor=actor, now=now)


def _add_peer_key(
    session: Session, public_key: str, actor: Actor, now: datetime
) -> tuple[SyncPeerKey, bool]:
    return keys.add_peer_key(session, public_key, actor=actor, now=now)


def _retire_peer_key(session: Session, key_id: str, actor: Actor, now: datetime) -> SyncPeerKey:
    return keys.retire_peer_key(session, key_id, actor=actor, now=now)
