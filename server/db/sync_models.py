"""Tables of 内外网数据同步 (docs/sync.md): our outbound stream, what we know of the peer's,
the peer's public keys, and every bundle that arrived.

The outbound stream is a transactional outbox: a record is inserted in the transaction of the
business change that causes it, with ``seq`` empty. Numbering happens later, in one serialised
step over committed rows only (``server.services.sync.outbox.number_pending``), so a record is
never published below one still invisible (SYNC.md's PostgreSQL trap). Our private key lives in
a file under the data directory, as the certificate keys do; only public halves are stored here.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


class SyncState(Base):
    """One row per peer (only ``portal`` today): both cursors and when each last moved.

    ``last_seq`` is the highest seq we have numbered; ``acked_upto`` the peer's last ack of our
    stream; ``applied_upto`` the highest seq of the peer's stream applied with no gap below;
    ``ack_sent`` the ack carried by the last bundle we sent (an ack-only bundle goes out when
    ``applied_upto`` has moved past it); a bundle with records arriving lowers it below
    ``applied_upto``, since records sent again mean our last ack may have been lost.
    The row is also the lock that serialises numbering and applying (``SELECT … FOR UPDATE``).

    ``stuck_seq``/``stuck_type``/``stuck_failures``: the peer's record whose handler failed
    (an exception other than a rejection) and in how many cycles in a row; cleared once the
    stream moves past it (applied, or 退回 by the administrator: docs/sync.md "Stuck states").
    """

    __tablename__ = "sync_state"

    peer: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    acked_upto: Mapped[int] = mapped_column(BigInteger, default=0)
    applied_upto: Mapped[int] = mapped_column(BigInteger, default=0)
    ack_sent: Mapped[int] = mapped_column(BigInteger, default=0)
    last_sent_at: Mapped[datetime | None]
    last_sent_name: Mapped[str | None] = mapped_column(String(80))
    last_received_at: Mapped[datetime | None]
    last_received_name: Mapped[str | None] = mapped_column(String(200))
    last_cycle_at: Mapped[datetime | None]
    last_cycle_error: Mapped[str | None] = mapped_column(Text)
    stuck_seq: Mapped[int | None] = mapped_column(BigInteger)
    stuck_type: Mapped[str | None] = mapped_column(String(64))
    stuck_failures: Mapped[int] = mapped_column(Integer, default=0)


class SyncOutboxRecord(Base):
    """One record of our outbound stream; ``seq`` is None until numbered, then never changes."""

    __tablename__ = "sync_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), unique=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime]
    data: Mapped[dict[str, Any]]
    files: Mapped[list[str]]  # SHA-256 of each file, its bytes in the materials store


class SyncPeerKey(Base):
    """A public key of the peer; a retired key still verifies bundles signed before
    ``retired_at`` (docs/sync.md, Keys)."""

    __tablename__ = "sync_peer_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    peer: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(44))
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(100))
    retired_at: Mapped[datetime | None]
    retired_by: Mapped[str | None] = mapped_column(String(100))


class SyncInboundBundle(Base):
    """A bundle that arrived, and what became of it.

    ``state``: ``applied`` (its records are in), ``duplicate`` (nothing new), ``ack_only`` (no
    records: its ack was taken), ``held`` (verified, its records not all applied yet: a gap
    below it, or applying under way or interrupted; kept with its bytes), ``quarantined``
    (refused, with ``reason_code`` and the Chinese ``reason``; bytes kept for re-checking only
    for a refusal a re-check could change: ``shared.sync.refusals.RECHECKABLE``, with the seqs
    the manifest claims), ``discarded`` (a
    quarantined bundle an administrator threw away). ``content`` is emptied once the bundle
    is applied or a duplicate (a kept quarantined one becomes ``duplicate`` once its seqs are
    applied from another copy). ``reason_code``/``reason`` also note what was odd about a
    bundle that was not refused (``ack_above_last_seq``: docs/sync.md resolution 14).
    """

    __tablename__ = "sync_inbound_bundles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    bundle_id: Mapped[str | None] = mapped_column(String(36))
    first_seq: Mapped[int | None] = mapped_column(BigInteger)
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]
    settled_by: Mapped[str | None] = mapped_column(String(100))


class SyncAppliedRecord(Base):
    """Each record of the peer's stream we applied (or answered with ``record.rejected``):
    the proof of exactly once, and what the desk and the fault harness read back."""

    __tablename__ = "sync_applied_records"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # applied | rejected
    code: Mapped[str | None] = mapped_column(String(40))
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("sync_inbound_bundles.id"))
    applied_at: Mapped[datetime]
