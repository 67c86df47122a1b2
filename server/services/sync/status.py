"""Where sync stands, for ``sgss-server sync status``, the API and the desk's page.

Read only, from the cursors, the outbox and the inbound bundles; no lock is taken, so the
numbers are a consistent snapshot on PostgreSQL (one statement each) and close enough to it on
SQLite.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.db.sync_models import SyncInboundBundle, SyncOutboxRecord, SyncState
from shared.china_time import china_time
from shared.sync.keys import Node

NONE = "无"


@dataclass(frozen=True)
class SyncStatus:
    """``waiting``: our records the portal has not acknowledged, the unnumbered ones included;
    ``gap``: the peer's seqs that are missing below the lowest held bundle (from, to)."""

    transport: str | None
    applied_upto: int
    last_seq: int
    acked_upto: int
    ack_sent: int
    waiting: int
    quarantined: int
    held: int
    gap: tuple[int, int] | None
    last_received_name: str | None
    last_received_at: datetime | None
    last_sent_name: str | None
    last_sent_at: datetime | None
    last_cycle_at: datetime | None
    last_cycle_error: str | None
    stuck_seq: int | None = None
    stuck_type: str | None = None
    stuck_failures: int = 0

    @property
    def stuck(self) -> str:
        """``seq N (type T), failed K times``, or ``无`` when no record is stuck."""
        if self.stuck_seq is None:
            return NONE
        return f"seq {self.stuck_seq} (type {self.stuck_type}), failed {self.stuck_failures} times"

    def lines(self) -> list[str]:
        """``key: value`` lines (times in China time, ``无`` for nothing)."""

        def when(moment: datetime | None) -> str:
            return f"{china_time(moment):%Y-%m-%d %H:%M:%S}" if moment else NONE

        gap = f"{self.gap[0]}-{self.gap[1]}" if self.gap else NONE
        values = {
            "transport": self.transport or NONE,
            "applied_upto": self.applied_upto,
            "last_seq": self.last_seq,
            "acked_upto": self.acked_upto,
            "ack_sent": self.ack_sent,
            "waiting": self.waiting,
            "quarantined": self.quarantined,
            "held": self.held,
            "gap": gap,
            "last_received": self.last_received_name or NONE,
            "last_received_at": when(self.last_received_at),
            "last_sent": self.last_sent_name or NONE,
            "last_sent_at": when(self.last_sent_at),
            "last_cycle_at": when(self.last_cycle_at),
            "last_cycle_error": (self.last_cycle_error or NONE).replace("\n", " "),
            "stuck": self.stuck,
        }
        return [f"{key}: {value}" for key, value in values.items()]


def sync_status(session: Session, transport: str | None = None) -> SyncStatus:
    """``transport`` is the transport's own description when the caller has one."""
    state = session.get(SyncState, Node.portal.value) or SyncState(
        peer=Node.portal.value, last_seq=0, acked_upto=0, applied_upto=0, ack_sent=0
    )
    waiting = session.scalar(
        select(func.count())
        .select_from(SyncOutboxRecord)
        .where(or_(SyncOutboxRecord.seq.is_(None), SyncOutboxRecord.seq > state.acked_upto))
    )
    by_state: dict[str, int] = {
        state_name: count
        for state_name, count in session.execute(
            select(SyncInboundBundle.state, func.count())
            .where(SyncInboundBundle.state.in_(("quarantined", "held")))
            .group_by(SyncInboundBundle.state)
        )
    }
    lowest_held = session.scalar(
        select(func.min(SyncInboundBundle.first_seq)).where(SyncInboundBundle.state == "held")
    )
    gap = None
    if lowest_held is not None and lowest_held > state.applied_upto + 1:
        gap = (state.applied_upto + 1, lowest_held - 1)
    return SyncStatus(
        transport=transport,
        applied_upto=state.applied_upto,
        last_seq=state.last_seq,
        acked_upto=state.acked_upto,
        ack_sent=state.ack_sent or 0,
        waiting=waiting or 0,
        quarantined=by_state.get("quarantined", 0),
        held=by_state.get("held", 0),
        gap=gap,
        last_received_name=state.last_received_name,
        last_received_at=state.last_received_at,
        last_sent_name=state.last_sent_name,
        last_sent_at=state.last_sent_at,
        last_cycle_at=state.last_cycle_at,
        last_cycle_error=state.last_cycle_error,
        stuck_seq=state.stuck_seq,
        stuck_type=state.stuck_type,
        stuck_failures=state.stuck_failures or 0,
    )
