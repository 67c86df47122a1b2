"""The append-only, hash-chained audit log.

Each record's hash covers its content and the previous record's hash; ``audit_head`` holds the
tip. ``record`` only collects a record in the session; when the transaction commits, its records
are chained and written together, so the head is locked only while a transaction commits rather
than from its first record on, and a transaction that rolls back leaves no record and no gap.

Moving the head is one statement when this process knows the tip (it wrote the last records):
``UPDATE … SET seq, last_hash WHERE seq = <known> AND last_hash = <known>`` both checks and
moves it, under the head's lock (PostgreSQL row lock, SQLite write lock). When another process
or a rolled-back transaction moved it, nothing matches and the records are chained the long
way: one statement claims their sequence numbers and reads the tip, one moves the tip. On
PostgreSQL that statement also inserts the records (only if it moved the head): one round trip
per transaction for the whole audit trail. Either way two transactions never chain onto the
same predecessor; the remembered tip only saves a
round trip, it is never trusted. ``verify_chain`` recomputes everything and names each row that
was changed, removed or inserted out of order.
"""

import hashlib
import json
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from threading import Lock
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    event,
    exists,
    func,
    insert,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.dml import Insert

from server.db import write_behind
from server.db.models import AuditEntry, AuditHead
from server.services import search
from server.services.jsonable import jsonable
from shared.audit_actions import AuditAction, AuditEntity

GENESIS = "0" * 64
_PENDING = "audit_pending"
_WRITTEN = "audit_written_tip"


@dataclass(frozen=True)
class Actor:
    """Who did it: a signed-in user, or the admin CLI (``id`` None)."""

    id: int | None
    name: str
    ip: str | None = None


CLI_ACTOR = Actor(None, "系统管理命令")


@dataclass(slots=True)
class _Record:
    """A record waiting for its transaction's commit: the columns of ``AuditEntry``, as a plain
    object (an ORM one costs several times as much to make, and is never loaded or flushed)."""

    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    entity_type: str
    entity_id: str | None
    org_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    seq: int = 0
    prev_hash: str = ""
    hash: str = ""


def _digest(entry: AuditEntry | _Record) -> str:
    content = {
        "seq": entry.seq,
        "occurred_at": entry.occurred_at.isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "org_id": entry.org_id,
        "before": entry.before,
        "after": entry.after,
        "ip": entry.ip,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    now: datetime,
    actor: Actor,
    action: AuditAction,
    entity_type: AuditEntity,
    entity_id: object = None,
    org_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one record to the caller's transaction: written, chained, when it commits (and only
    then), dropped if it rolls back.

    ``action`` and ``entity_type`` must be in the catalogue (``shared.audit_actions``), checked
    here too: an action without a Chinese label fails the first test that writes it."""
    entry = _Record(
        occurred_at=now.astimezone(UTC),
        actor_id=actor.id,
        actor_name=actor.name,
        action=AuditAction(action).value,
        entity_type=AuditEntity(entity_type).value,
        entity_id=None if entity_id is None else str(entity_id),
        org_id=org_id,
        before=jsonable(before),
        after=jsonable(after),
        ip=actor.ip,
    )
    session.info.setdefault(_PENDING, []).append(entry)


_HEAD = cast(Table, AuditHead.__table__)
_CLAIM = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=_HEAD.c.seq + bindparam("count"))
    .returning(_HEAD.c.seq, _HEAD.c.last_hash)
)
_SET_TIP = update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=bindparam("tip"))
_ADVANCE = (
    update(_HEAD)
    .where(
        _HEAD.c.id == 1,
        _HEAD.c.seq == bindparam("known_seq"),
        _HEAD.c.last_hash == bindparam("known_hash"),
    )
    .values(seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))
)
_LOG = cast(Table, AuditEntry.__table__)
_INSERT = insert(_LOG)
_COLUMNS = [c.key for c in _LOG.columns]
"""Core statements built once: the ORM's machinery (unit of work, UPDATE evaluation) costs
more than the round trip, and records are written, never read back, in their transaction."""


class _KnownTips:
    """The tip this process last committed, per database (engine): a guess for ``_ADVANCE``."""

    def __init__(self) -> None:
        self._tips: weakref.WeakKeyDictionary[Engine, tuple[int, str]] = weakref.WeakKeyDictionary()
        self._lock = Lock()

    def get(self, engine: Engine) -> tuple[int, str] | None:
        with self._lock:
            return self._tips.get(engine)

    def committed(self, engine: Engine, seq: int, tip: str) -> None:
        with self._lock:
            known = self._tips.get(engine)
            if known is None or known[0] < seq:
                self._tips[engine] = (seq, tip)


KNOWN_TIPS = _KnownTips()


def _chain(pending: list[_Record], last_seq: int, prev_hash: str) -> str:
    """Number and hash ``pending`` after record ``last_seq``; returns the new tip."""
    for seq, entry in enumerate(pending, start=last_seq + 1):
        entry.seq, entry.prev_hash = seq, prev_hash
        entry.hash = prev_hash = _digest(entry)
    return prev_hash


_COMBINED_AT_MOST = 8
"""Records a PostgreSQL transaction writes with the move of the head in one statement (an
action writes one or two; a bulk import thousands, which go the ordinary way)."""


@lru_cache(maxsize=_COMBINED_AT_MOST)
def _advance_and_insert(count: int) -> Insert:
    """PostgreSQL: ``_ADVANCE`` and the insert of ``count`` records in one statement (one round
    trip instead of two). The records are inserted only if the head moved, so the statement
    inserts either all ``count`` or none, which its row count tells."""
    moved = _ADVANCE.returning(_HEAD.c.id).cte("moved")
    rows = [
        select(*(bindparam(f"r{i}_{c.key}", type_=c.type) for c in _LOG.columns)).where(
            exists(select(moved.c.id))
        )
        for i in range(count)
    ]
    source = rows[0] if count == 1 else union_all(*rows)
    stmt = insert(_LOG).from_select(_COLUMNS, source).add_cte(moved)
    return stmt.execution_options(preserve_rowcount=True)  # an INSERT's count is kept on request


def _chain_pending(session: Session) -> None:
    pending: list[_Record] = session.info.pop(_PENDING, [])
    if not pending:
        return
    conn: Connection = session.connection()
    engine = conn.engine
    known = KNOWN_TIPS.get(engine)
    advanced = written = False
    if known is not None:
        tip = _chain(pending, *known)
        params: dict[str, Any] = {
            "known_seq": known[0],
            "known_hash": known[1],
            "new_seq": known[0] + len(pending),
            "new_hash": tip,
        }
        if conn.dialect.name == "postgresql" and len(pending) <= _COMBINED_AT_MOST:
            for i, entry in enumerate(pending):
                params.update({f"r{i}_{c}": getattr(entry, c) for c in _COLUMNS})
            # the transaction's queued writes go in the same statement (``write_behind``)
            queued = write_behind.take(conn)
            stmt, values = write_behind.along(_advance_and_insert(len(pending)), queued)
            moved = conn.execute(stmt, {**params, **values})
            advanced = written = moved.rowcount == len(pending)
        else:
            advanced = conn.execute(_ADVANCE, params).rowcount == 1
    if not advanced:
        last_seq, prev_hash = conn.execute(_CLAIM, {"count": len(pending)}).one()
        tip = _chain(pending, last_seq - len(pending), prev_hash)
        conn.execute(_SET_TIP, {"tip": tip})
    if not written:
        conn.execute(_INSERT, [{c: getattr(e, c) for c in _COLUMNS} for e in pending])
    session.info[_WRITTEN] = (engine, pending[-1].seq, tip)


@event.listens_for(Session, "before_commit")
def _write_on_commit(session: Session) -> None:
    _chain_pending(session)


@event.listens_for(Session, "after_commit")
def _remember_tip(session: Session) -> None:
    written = session.info.pop(_WRITTEN, None)
    if written is not None:
        KNOWN_TIPS.committed(*written)


@event.listens_for(Session, "after_transaction_end")
def _forget_on_rollback(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: committed or rolled back
        session.info.pop(_PENDING, None)
        session.info.pop(_WRITTEN, None)


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, for a compact before/after pair."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


@dataclass
class ChainReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _entries(session: Session) -> Iterator[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
    yield from session.scalars(stmt)


def verify_chain(session: Session) -> ChainReport:
    report = ChainReport()
    expected_seq, prev_hash = 1, GENESIS
    for entry in _entries(session):
        report.checked += 1
        if entry.seq != expected_seq:
            report.problems.append(f"第{expected_seq}至{entry.seq - 1}条记录缺失（已被删除）")
        elif entry.prev_hash != prev_hash:
            report.problems.append(f"第{entry.seq}条记录与前一条的链接断开")
        if _digest(entry) != entry.hash:
            report.problems.append(f"第{entry.seq}条记录内容已被修改")
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    # read as plain columns: the head moves by Core statements, never through a loaded object
    head = session.execute(
        select(AuditHead.seq, AuditHead.last_hash).where(AuditHead.id == 1)
    ).one_or_none()
    if head is None:
        report.problems.append("审计链头记录缺失")
    elif head.seq != expected_seq - 1 or head.last_hash != prev_hash:
        report.problems.append(
            f"审计链末尾不一致：应有{head.seq}条记录，实际最后一条为第{expected_seq - 1}条"
            "（末尾记录可能已被删除）"
        )
    return report


_ACTIONS = frozenset(AuditAction)


ENTRY_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.occurred_at,
    AuditEntry.actor_id,
    AuditEntry.actor_name,
    AuditEntry.action,
    AuditEntry.entity_type,
    AuditEntry.entity_id,
    AuditEntry.org_id,
    AuditEntry.before,
    AuditEntry.after,
    AuditEntry.ip,
    AuditEntry.hash,
)
"""What the log's list shows of an entry (``AuditEntryPublic``)."""


def list_entries(
    session: Session,
    *,
    scope_clause: Any,
    action: str | None = None,
    actor_id: int | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[Any], int]:
    """Newest first, as plain rows of ``ENTRY_COLUMNS``. ``scope_clause`` restricts to
    organisations the viewer may see; ``action`` is one catalogue action, or the start of
    several. Counted on its own (not with a window count beside each row): the log is the one
    list that grows without end, and the page is read newest first straight off its key."""
    stmt = select(*ENTRY_COLUMNS).where(scope_clause)
    if action in _ACTIONS:  # one action exactly: "auth.login" is not "auth.login_failed"
        stmt = stmt.where(AuditEntry.action == action)
    elif action:  # an area such as "auth." or "application"
        stmt = stmt.where(search.starts_with(AuditEntry.action, action))
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if since:
        stmt = stmt.where(AuditEntry.occurred_at >= since)
    if until:
        stmt = stmt.where(AuditEntry.occurred_at < until)
    connection = session.connection()
    total = connection.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = connection.execute(stmt.order_by(AuditEntry.seq.desc()).offset(offset).limit(limit))
    return rows.all(), total


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """``session.begin_nested()`` whose rollback also drops the audit records collected inside
    it: they wait in the session until the commit (``record``), where a rollback to a
    savepoint would not reach them. The sync applier runs each inbound record's handler in
    one, so a rejected record leaves no audit entry of what it did not do."""
    mark = len(session.info.get(_PENDING, ()))
    try:
        with session.begin_nested():
            yield
    except BaseException:
        pending = session.info.get(_PENDING)
        if pending is not None:
            del pending[mark:]
        raise
