"""The outbound stream as a transactional outbox.

``emit`` adds a record in the caller's transaction, so the record exists exactly when the
business change that causes it commits. Its ``seq`` stays empty: ``number_pending`` numbers the
committed records later, in one step serialised by a lock on the peer's ``sync_state`` row.
A record inserted earlier but committed later simply gets a later seq, so nothing is ever
published below a record that is still invisible (SYNC.md's PostgreSQL trap). Files named by a
record must already be in the materials store (``MaterialStore.put``) under their SHA-256.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.db.sync_models import SyncOutboxRecord, SyncState
from shared.sync.keys import Node

PEER = Node.portal.value


def emit(
    session: Session,
    type: str,
    data: Mapping[str, Any],
    *,
    at: datetime,
    files: Sequence[str] = (),
) -> SyncOutboxRecord:
    """Queue one outbound record in the current transaction (the caller commits). ``data``
    must already be the allowlisted, JSON-ready form (``records_out`` builds it)."""
    record = SyncOutboxRecord(
        record_id=str(uuid.uuid4()),
        seq=None,
        type=type,
        at=at,
        data=dict(data),
        files=list(files),
    )
    session.add(record)
    return record


def state_for_update(session: Session, peer: str = PEER) -> SyncState:
    """The peer's cursor row, locked until the transaction ends (created on first use).

    On PostgreSQL ``FOR UPDATE`` makes a second host's numbering or applying wait for ours; on
    SQLite the write that follows takes the database's single write lock. Two transactions
    may both find no row on first use: the insert ignores a conflict (it waits for the other's
    commit on PostgreSQL), and both then lock the one row."""
    stmt = select(SyncState).where(SyncState.peer == peer).with_for_update()
    state = session.scalars(stmt).one_or_none()
    if state is None:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(SyncState)
            .values(
                peer=peer, last_seq=0, acked_upto=0, applied_upto=0, ack_sent=0, stuck_failures=0
            )
            .on_conflict_do_nothing()
        )
        state = session.scalars(stmt).one()
    return state


def number_pending(session: Session, peer: str = PEER) -> int:
    """Give every committed, unnumbered record the next seqs, in insertion order; returns how
    many were numbered. Run in its own short transaction (the caller commits)."""
    state = state_for_update(session, peer)
    pending = session.scalars(
        select(SyncOutboxRecord.id)
        .where(SyncOutboxRecord.seq.is_(None))
        .order_by(SyncOutboxRecord.id)
    ).all()
    seq = state.last_seq
    for record_id in pending:
        seq += 1
        session.execute(
            update(SyncOutboxRecord).where(SyncOutboxRecord.id == record_id).values(seq=seq)
        )
    state.last_seq = seq
    return len(pending)
