"""One sync cycle: number, receive everything, send one bundle (SYNC.md; docs/sync.md "Cycle").

``run_once`` is what ``sgss-server sync run-once``, the worker and the desk's 【立即同步】 run:

1. under the cycle lock (``cycle_lock``: one cycle at a time across hosts), load our key;
2. number the committed outbound records (``outbox.number_pending``, its own transaction);
3. apply held bundles a crash left applicable, then receive every arrival (``inbound``);
4. number again (the ``record.rejected`` answers just written), then build ONE bundle with the
   unacknowledged records from ``acked_upto + 1`` on, as many as the bundle limits allow, or
   an ack-only bundle when ``applied_upto`` moved past the last ack we sent; send it;
5. record the cycle's time and error in ``sync_state``.

A ``TransportError`` (or any failure) ends the cycle with its sentence in the summary and in
``last_cycle_error``. A stuck inbound record ends receiving only, and a missing attachment
stops the outbound bundle before its record: both still let the acks out (docs/sync.md
"Stuck states and ways out"). Nothing is lost: an unsettled arrival is read again next
cycle, unacked records are sent again.
"""

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server.clock import Clock
from server.db.session import create_session_factory
from server.db.sync_models import SyncOutboxRecord
from server.services.certificates.keys import CertificateKeys
from server.services.errors import AppError
from server.services.materials.store import MaterialStore
from server.services.sync import inbound, outbox, records_out
from server.services.sync.cycle_lock import cycle_lock
from server.services.sync.inbound import (
    ME,
    PEER,
    Applier,
    Received,
    RecordFailedError,
    Sessions,
)
from server.services.sync.keys import NodeKey, load_node_key
from server.services.sync.transports.base import Transport, TransportError
from shared.sync.bundle import (
    MAX_FILES,
    MAX_MANIFEST_BYTES,
    MAX_RECORDS,
    MAX_RECORDS_BYTES,
    MAX_UNPACKED_BYTES,
    BuiltBundle,
    Record,
    build_bundle,
    record_line,
)

log = logging.getLogger("sgss.sync")

BUSY = "另一进程正在同步，本次未执行"
FILES_BUDGET = MAX_UNPACKED_BYTES - MAX_MANIFEST_BYTES - MAX_RECORDS_BYTES - 1024
"""Attachment bytes one bundle may carry: what is left of the unpacked limit when the
manifest and the records take their most."""


class CycleError(Exception):
    """The cycle cannot go on for a reason of this node (not the transport's)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class CycleSummary:
    """What one cycle did. ``error`` is the sentence when the cycle could not finish;
    ``busy`` when another process held the cycle lock and this one did nothing."""

    received: int = 0
    applied: int = 0
    rejected: int = 0
    duplicates: int = 0
    held: int = 0
    quarantined: int = 0
    left: int = 0
    sent_records: int = 0
    sent_name: str | None = None
    error: str | None = None
    busy: bool = False

    def count(self, received: Received) -> None:
        if received.outcome == "left":
            self.left += 1
            return
        self.received += 1
        self.applied += received.applied
        self.rejected += received.rejected
        if received.outcome == "duplicate":
            self.duplicates += 1
        elif received.outcome == "held":
            self.held += 1
        elif received.outcome == "quarantined":
            self.quarantined += 1

    def line(self) -> str:
        """One line in Chinese for the CLI, the worker's log and the desk: what came in and was
        applied always, the exceptions (退回, 重复, 等待补齐, 隔离, 暂缓) only when there were
        any, so the line fits the desk's status line at 1366×768."""
        if self.busy:
            return BUSY
        parts = [f"收到同步包 {self.received} 个", f"应用记录 {self.applied} 条"]
        for count, text in (
            (self.rejected, f"退回记录 {self.rejected} 条"),
            (self.duplicates, f"重复 {self.duplicates} 个"),
            (self.held, f"等待补齐 {self.held} 个"),
            (self.quarantined, f"隔离 {self.quarantined} 个"),
            (self.left, f"暂缓（可能仍在传输）{self.left} 个"),
        ):
            if count:
                parts.append(text)
        if self.sent_name is None:
            sent = "未发出同步包"
        elif self.sent_records:
            sent = f"发出 {self.sent_name}（记录 {self.sent_records} 条）"
        else:
            sent = f"发出 {self.sent_name}（仅确认号）"
        text = "，".join(parts) + "；" + sent
        if self.error is not None:
            return f"同步未完成：{self.error}。已完成部分：{text}"
        return f"同步完成：{text}"


def run_once(
    engine: Engine,
    transport: Transport,
    *,
    data_dir: Path,
    clock: Clock,
    status_list_ttl_seconds: int | None = None,
) -> CycleSummary:
    """One cycle against ``transport``; never raises for a failure of the cycle itself (the
    summary's ``error`` says what it was), only when even recording it fails. With
    ``status_list_ttl_seconds`` (the server's setting) the cycle also queues a fresh
    certificate status list when one is due: the list is a snapshot that expires, caused by no
    single business change."""
    summary = CycleSummary()
    sessions = create_session_factory(engine)
    with cycle_lock(engine, data_dir) as held:
        if not held:
            summary.busy = True
            return summary
        try:
            _cycle(sessions, transport, data_dir, clock, summary, status_list_ttl_seconds)
        except (TransportError, CycleError) as err:
            summary.error = err.message
        except AppError as err:
            summary.error = err.message
        except Exception as err:  # a database outage, a bug: record it, go on later
            log.exception("sync cycle failed")
            # the exception's text may carry SQL and personal data: the log has it, not the row
            summary.error = f"同步时发生内部错误（{type(err).__name__}），详情见服务器日志"
        _record_cycle(sessions, clock, summary.error)
    return summary


def _cycle(
    sessions: Sessions,
    transport: Transport,
    data_dir: Path,
    clock: Clock,
    summary: CycleSummary,
    status_list_ttl_seconds: int | None,
) -> None:
    key = load_node_key(data_dir)
    if status_list_ttl_seconds is not None:
        with sessions() as session:
            keys = CertificateKeys(data_dir)
            now = clock.now()
            if records_out.emit_status_list_if_due(
                session, keys, now=now, ttl_seconds=status_list_ttl_seconds
            ):
                session.commit()
    _number(sessions)
    applier = Applier(sessions, data_dir, clock)
    try:
        _receive(applier, transport, summary)
    except RecordFailedError as err:
        # the stream is stuck on one record (sync_state says which): receive nothing more
        # this cycle, but still send our records and the ack of what was applied
        summary.error = err.message
    _number(sessions)
    built, missing = build_outbound(sessions, key, MaterialStore(data_dir / "materials"), clock)
    if missing is not None:
        # the records before it (or an ack-only bundle) still go: the portal keeps its acks
        summary.error = missing if summary.error is None else f"{summary.error}；{missing}"
    if built is None:
        return
    transport.send(built.name, built.data)
    with sessions() as session:
        state = outbox.state_for_update(session, PEER.value)
        state.ack_sent = max(state.ack_sent, built.manifest.ack)
        state.last_sent_at, state.last_sent_name = clock.now(), built.name
        session.commit()
    summary.sent_name = built.name
    summary.sent_records = built.manifest.last_seq - built.manifest.first_seq + 1


def _receive(applier: Applier, transport: Transport, summary: CycleSummary) -> None:
    drained = inbound.drain(applier)
    summary.applied += drained.applied
    summary.rejected += drained.rejected
    for arrival in transport.arrivals(lambda: inbound.applied_upto(applier.sessions)):
        summary.count(inbound.receive(applier, arrival))
    inbound.settle_resent(applier)


def _number(sessions: Sessions) -> None:
    with sessions() as session:
        outbox.number_pending(session, PEER.value)
        session.commit()


def build_outbound(
    sessions: Sessions, key: NodeKey, store: MaterialStore, clock: Clock
) -> tuple[BuiltBundle | None, str | None]:
    """The bundle to send now: the unacknowledged numbered records in seq order, as many as
    fit the limits; or an ack-only bundle when ``applied_upto`` moved past the last ack sent;
    or None. Second: the sentence when a record could not be sent (an attachment missing from
    the materials store): the bundle then stops before that record — ack-only if it is the
    first — so the acks still reach the portal."""
    with sessions() as session:
        state = outbox.state_for_update(session, PEER.value)
        acked, upto, ack_sent, last_seq = (
            state.acked_upto,
            state.applied_upto,
            state.ack_sent,
            state.last_seq,
        )
        session.commit()
        records, files, missing = _unacked(session, acked, store)
    if not records and upto <= ack_sent:
        return None, missing
    built = build_bundle(
        source=ME,
        target=PEER,
        first_seq=records[0].seq if records else last_seq + 1,
        records=records,
        files=files.values(),
        ack=upto,
        private_key=key.private_key,
        bundle_id=uuid.uuid4(),
        created_at=clock.now(),
    )
    return built, missing


def _unacked(
    session: Session, acked: int, store: MaterialStore
) -> tuple[list[Record], dict[str, bytes], str | None]:
    rows = session.scalars(
        select(SyncOutboxRecord)
        .where(SyncOutboxRecord.seq > acked)
        .order_by(SyncOutboxRecord.seq)
        .limit(MAX_RECORDS)
    )
    records: list[Record] = []
    files: dict[str, bytes] = {}
    records_bytes = files_bytes = 0
    for row in rows:
        assert row.seq is not None
        record = Record(row.seq, UUID(row.record_id), row.type, row.at, row.data, tuple(row.files))
        line = len(record_line(record))
        try:
            new = {sha: _read(store, sha, row) for sha in record.files if sha not in files}
        except CycleError as err:
            return records, files, err.message  # this one and the rest wait for the file
        size = sum(len(content) for content in new.values())
        over = (
            records_bytes + line > MAX_RECORDS_BYTES
            or files_bytes + size > FILES_BUDGET
            or len(files) + len(new) > MAX_FILES
        )
        if over and records:
            break  # the rest go in the next cycle's bundle
        records.append(record)
        files.update(new)
        records_bytes += line
        files_bytes += size
    return records, files, None


def _read(store: MaterialStore, sha256: str, row: SyncOutboxRecord) -> bytes:
    try:
        return store.path(sha256).read_bytes()
    except OSError as err:
        log.warning("outbound record %s: attachment %s unreadable: %s", row.seq, sha256, err)
        raise CycleError(
            f"出站记录（序号 {row.seq}，类型 {row.type}）的附件 {sha256[:12]}… 不在材料库中"
            "或无法读取，该记录及其后的记录暂不发送（确认号照常发出）；"
            "请从备份恢复材料库中的该文件"
        ) from err


def _record_cycle(sessions: Sessions, clock: Clock, error: str | None) -> None:
    with sessions() as session:
        state = outbox.state_for_update(session, PEER.value)
        state.last_cycle_at, state.last_cycle_error = clock.now(), error
        session.commit()
