"""The inbound applier: one arrival verified, its ack taken, its records applied exactly once.

Every step is a short transaction that locks the peer's ``sync_state`` row, so two hosts never
take the same decision twice, and a crash anywhere leaves a state the next cycle completes:

1. The whole bundle is verified before anything else (``verify_bundle``). A refusal is
   quarantined (row ``quarantined`` with the code and the sentence, the bytes only when a
   re-check could change the verdict, then the arrival), except a file that does not open as
   a ZIP and changed in the last ten minutes: it may still be copying, so it is left for a
   later cycle and nothing is recorded.
2. A verified bundle's ack is taken and the bundle is classified against ``applied_upto``.
   One with records still to apply is stored as ``held`` *with its bytes*, in the same
   transaction as the ack; only then is the arrival settled (``done``). From here on the
   database owns the bundle: a crash before its records are applied loses nothing.
3. ``drain`` applies held bundles in seq order while one starts at or below
   ``applied_upto + 1``. Each record is its own transaction: lock the state row, check the
   record is still the next one, run the handler in a savepoint, write ``SyncAppliedRecord``
   and move ``applied_upto``. A ``RecordRejectedError`` rolls back to the savepoint and is
   answered with an outbound ``record.rejected`` in the same transaction; the stream goes on.
   Any other exception stops the stream with ``applied_upto`` just after the last record
   that committed and the record noted as stuck (``RecordFailedError``); the bundle stays
   held and the next cycle (or the same bundle arriving again) applies the rest only, unless
   the administrator answers the stuck record first (``reject_stuck``).
"""

import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from server.clock import Clock
from server.db.sync_models import SyncAppliedRecord, SyncInboundBundle, SyncState
from server.services import audit
from server.services.audit import Actor
from server.services.errors import AppError
from server.services.sync import outbox, records_in, records_out
from server.services.sync.incoming import Incoming, RecordRejectedError
from server.services.sync.keys import peer_keys
from server.services.sync.transports.base import Arrival
from shared.audit_actions import AuditAction, AuditEntity
from shared.errors import ErrorCode
from shared.sync.bundle import Record
from shared.sync.classify import Duplicate, Gap, classify
from shared.sync.keys import Node
from shared.sync.refusals import Refusal, RefusalReason
from shared.sync.verify import VerifiedBundle, claimed_seqs, verify_bundle

ME, PEER = Node.intranet, Node.portal
NOT_ZIP_PATIENCE = timedelta(minutes=10)
"""SYNC.md: a file that does not open as a ZIP may still be arriving for this long."""
RECORD_REJECTED = records_out.RECORD_REJECTED
TYPE_UNKNOWN = ErrorCode.SYNC_RECORD_TYPE_UNKNOWN.value
RECORD_INVALID = ErrorCode.SYNC_RECORD_INVALID.value
ACK_ABOVE_LAST_SEQ = "ack_above_last_seq"
RECORD_FAILED = ErrorCode.SYNC_RECORD_FAILED.value

log = logging.getLogger("sgss.sync")

Outcome = Literal["applied", "duplicate", "ack_only", "held", "quarantined", "left"]
Sessions = Callable[[], Session]


class RecordFailedError(Exception):
    """A record's handler failed with something other than a rejection (a bug, a constraint,
    the database): the stream stops before it. ``message`` is the Chinese sentence for
    ``last_cycle_error`` — the record's seq and type and the exception's class only, never its
    text (it may carry SQL and personal data: that goes to the server log)."""

    def __init__(self, seq: int, type_: str, error: BaseException) -> None:
        self.seq, self.type = seq, type_
        self.message = (
            f"外网记录（序号 {seq}，类型 {type_}）应用失败：处理时发生内部错误"
            f"（{type(error).__name__}），详情见服务器日志；该记录之后的记录暂停应用，"
            "可由管理员退回该记录"
        )
        super().__init__(self.message)


@dataclass(frozen=True)
class Applier:
    """What receiving needs: sessions (each ``with`` one transaction), the data directory
    handlers store materials under, and the clock."""

    sessions: Sessions
    data_dir: Path
    clock: Clock


@dataclass
class Received:
    """What became of one arrival (or one re-checked bundle). ``applied``/``rejected`` count
    the records applied by this call, those of held bundles it released included; ``gap`` is
    the missing range when the bundle waits; ``note`` a quarantine's sentence or what was odd
    about an accepted bundle."""

    outcome: Outcome
    name: str
    bundle_row_id: int | None = None
    applied: int = 0
    rejected: int = 0
    gap: tuple[int, int] | None = None
    note: str | None = None


@dataclass
class Drained:
    applied: int = 0
    rejected: int = 0


def applied_upto(sessions: Sessions) -> int:
    with sessions() as session:
        value = session.scalar(select(SyncState.applied_upto).where(SyncState.peer == PEER.value))
    return value or 0


def receive(applier: Applier, arrival: Arrival) -> Received:
    """Verify, record and apply one arrival, then settle it with the transport. Its name is
    for the record only (the manifest is the authority): stored with NUL and lone surrogates
    (a GBK name listed from a UTF-8 disk) replaced, so no name can fail the cycle."""
    data = arrival.read()
    name = _printable(arrival.name)
    with applier.sessions() as session:
        keys = peer_keys(session)
    verdict = verify_bundle(data, me=ME, peer=PEER, keys=keys)
    if isinstance(verdict, Refusal):
        if verdict.reason is RefusalReason.not_zip and arrival.unchanged_for() < NOT_ZIP_PATIENCE:
            arrival.leave()
            return Received("left", name)
        row_id = _quarantine(applier, data, name, verdict)
        arrival.quarantine(verdict.message)
        return Received("quarantined", name, row_id, note=verdict.message)
    received = _admit(applier, verdict, data, name)
    arrival.done()
    if received.outcome == "held":
        _finish(applier, received, {received.bundle_row_id: verdict})
    return received


def _finish(applier: Applier, received: Received, known: dict[int | None, VerifiedBundle]) -> None:
    drained = drain(applier, known)
    received.applied, received.rejected = drained.applied, drained.rejected
    with applier.sessions() as session:
        row = session.get(SyncInboundBundle, received.bundle_row_id)
        if row is not None and row.state != "held":
            received.outcome = "applied" if row.state == "applied" else "duplicate"
            received.gap = None


def _quarantine(applier: Applier, data: bytes, name: str, refusal: Refusal) -> int:
    """A row for the refused bundle (one per distinct content: the same file refused again
    updates it); the bytes are kept for a re-check unless they were over the size limit."""
    now = applier.clock.now()
    digest = _sha256(data)
    with applier.sessions() as session:
        state = outbox.state_for_update(session, PEER.value)
        state.last_received_at, state.last_received_name = now, name[:200]
        row = session.scalars(
            select(SyncInboundBundle).where(
                SyncInboundBundle.sha256 == digest, SyncInboundBundle.state == "quarantined"
            )
        ).first()
        if row is None:
            row = SyncInboundBundle(
                name=name[:200],
                sha256=digest,
                size=len(data),
                state="quarantined",
                received_at=now,
            )
            session.add(row)
        _refused(row, refusal, data)
        session.commit()
        return row.id


def _refused(row: SyncInboundBundle, refusal: Refusal, data: bytes | None) -> None:
    """``row`` quarantined for ``refusal``: its bytes kept only when a re-check could change
    the verdict (``RECHECKABLE``: a peer key added later), with the seqs its manifest claims
    (unverified) so a resend applied meanwhile settles it (``settle_resent``)."""
    row.state = "quarantined"
    row.reason_code, row.reason = refusal.reason.value, refusal.message
    if not refusal.recheckable or data is None:
        row.content = None
        return
    row.content = data
    claimed = claimed_seqs(data)
    if claimed is not None and row.first_seq is None:
        row.first_seq, row.last_seq = claimed


def settle_resent(applier: Applier) -> int:
    """Quarantined bundles kept for a re-check whose records have all been applied since (from
    another copy: the portal sent them again, signed by a key we know) are settled as
    ``duplicate`` and their bytes dropped: a re-check could only find them duplicates. Ack-only
    ones are never settled so: their key problem would vanish from the list unseen. Returns
    how many were settled."""
    now = applier.clock.now()
    with applier.sessions() as session:
        state = outbox.state_for_update(session, PEER.value)
        rows = session.scalars(
            select(SyncInboundBundle).where(
                SyncInboundBundle.state == "quarantined",
                SyncInboundBundle.content.is_not(None),
                SyncInboundBundle.last_seq <= state.applied_upto,
                SyncInboundBundle.last_seq >= SyncInboundBundle.first_seq,
            )
        ).all()
        for row in rows:
            row.state, row.content, row.settled_at = "duplicate", None, now
        session.commit()
    return len(rows)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def take_ack(state: SyncState, ack: int) -> str | None:
    """Release our records up to ``ack``; never backwards, never past what we numbered.

    An ack above our ``last_seq`` acknowledges records we never numbered: only a database
    restored from an older backup (or a broken peer) explains it. It is capped to ``last_seq``
    and the sentence returned is kept with the bundle (docs/sync.md resolution 14)."""
    note = None
    if ack > state.last_seq:
        note = (
            f"确认号 {ack} 超过本端已编号的最大序号 {state.last_seq}，按 {state.last_seq} 处理"
            "（本端数据库可能从较早的备份恢复，请核对两端的同步序号）"
        )
        ack = state.last_seq
    state.acked_upto = max(state.acked_upto, ack)
    return note


def _admit(
    applier: Applier, bundle: VerifiedBundle, data: bytes, name: str, row_id: int | None = None
) -> Received:
    """Take the ack and store the bundle as what it is now (``held`` with its bytes when it has
    records to apply), in one transaction; ``row_id`` re-uses a row (a re-check)."""
    now = applier.clock.now()
    manifest = bundle.manifest
    with applier.sessions() as session:
        state = outbox.state_for_update(session, PEER.value)
        state.last_received_at, state.last_received_name = now, name[:200]
        note = take_ack(state, manifest.ack)
        verdict = classify(bundle, state.applied_upto)
        if not manifest.ack_only and state.applied_upto > 0:
            # records sent again (or past a gap) mean the peer may never have had our ack:
            # owe it one, so the next cycle acks even with no record of ours to carry it
            state.ack_sent = min(state.ack_sent, state.applied_upto - 1)
        digest = _sha256(data)
        row = session.get(SyncInboundBundle, row_id) if row_id is not None else None
        if row is None:  # the same bytes held already (they came again): keep one row
            row = session.scalars(
                select(SyncInboundBundle).where(
                    SyncInboundBundle.sha256 == digest, SyncInboundBundle.state == "held"
                )
            ).first()
        if row is None:
            row = SyncInboundBundle(name=name[:200], sha256=digest, size=len(data), received_at=now)
            session.add(row)
        row.bundle_id = str(manifest.bundle_id)
        row.first_seq, row.last_seq = manifest.first_seq, manifest.last_seq
        row.reason_code = ACK_ABOVE_LAST_SEQ if note else None
        row.reason = note
        gap = None
        if manifest.ack_only or isinstance(verdict, Duplicate):
            row.state = "ack_only" if manifest.ack_only else "duplicate"
            row.content, row.settled_at = None, now
        else:
            row.state, row.content, row.settled_at = "held", data, None
            if isinstance(verdict, Gap):
                gap = (verdict.missing_from, verdict.missing_to)
        session.commit()
        outcome: Outcome = row.state  # type: ignore[assignment]
        return Received(outcome, name, row.id, gap=gap, note=note)


def drain(applier: Applier, known: Mapping[int | None, VerifiedBundle] | None = None) -> Drained:
    """Apply every held bundle that has become applicable, lowest seqs first, until the next
    one waits for a gap (or none is held). ``known`` spares re-verifying a bundle just read."""
    total = Drained()
    while True:
        row_id = _next_held(applier)
        if row_id is None:
            return total
        bundle = (known or {}).get(row_id) or _reverify(applier, row_id)
        if bundle is None:
            continue
        done = _apply_bundle(applier, bundle, row_id)
        total.applied += done.applied
        total.rejected += done.rejected


def _next_held(applier: Applier) -> int | None:
    """The held bundle to apply next; held bundles already wholly applied are settled on
    the way (``applied`` if this bundle applied any of its records, else ``duplicate``)."""
    now = applier.clock.now()
    with applier.sessions() as session:
        upto = session.scalar(select(SyncState.applied_upto).where(SyncState.peer == PEER.value))
        upto = upto or 0
        rows = session.scalars(
            select(SyncInboundBundle)
            .where(SyncInboundBundle.state == "held")
            .order_by(SyncInboundBundle.first_seq, SyncInboundBundle.id)
        ).all()
        found = None
        for row in rows:
            assert row.first_seq is not None and row.last_seq is not None
            if row.last_seq <= upto:
                used = session.scalar(select(exists().where(SyncAppliedRecord.bundle_id == row.id)))
                row.state = "applied" if used else "duplicate"
                row.content, row.settled_at = None, now
            elif row.first_seq <= upto + 1:
                found = row.id
                break
            else:
                break
        session.commit()
    return found


def _reverify(applier: Applier, row_id: int) -> VerifiedBundle | None:
    """A held bundle's stored bytes read again (after a crash or in another cycle). Refused
    now (its key was removed meanwhile) → quarantined, and None."""
    with applier.sessions() as session:
        row = session.get(SyncInboundBundle, row_id)
        assert row is not None and row.content is not None
        verdict = verify_bundle(row.content, me=ME, peer=PEER, keys=peer_keys(session))
        if isinstance(verdict, Refusal):
            _refused(row, verdict, row.content)
            session.commit()
            return None
    return verdict


def _apply_bundle(applier: Applier, bundle: VerifiedBundle, row_id: int) -> Drained:
    done = Drained()
    for record in bundle.records:
        try:
            with applier.sessions() as session:
                state = outbox.state_for_update(session, PEER.value)
                if record.seq <= state.applied_upto:
                    continue
                if record.seq != state.applied_upto + 1:
                    break  # cannot happen under the cycle lock; never skip a seq regardless
                now = applier.clock.now()
                outcome = _apply_record(session, applier, record, bundle.files, row_id, now)
                state.applied_upto = record.seq
                if state.stuck_seq is not None and state.stuck_seq <= record.seq:
                    state.stuck_seq, state.stuck_type, state.stuck_failures = None, None, 0
                session.commit()
        except Exception as err:
            raise _stuck(applier, record, err) from err
        if outcome == "applied":
            done.applied += 1
        else:
            done.rejected += 1
    with applier.sessions() as session:
        upto = session.scalar(select(SyncState.applied_upto).where(SyncState.peer == PEER.value))
        row = session.get(SyncInboundBundle, row_id)
        if row is not None and row.last_seq is not None and row.last_seq <= (upto or 0):
            row.state, row.content, row.settled_at = "applied", None, applier.clock.now()
            session.commit()
    return done


def _stuck(applier: Applier, record: Record, err: Exception) -> RecordFailedError:
    """Note ``record`` as the one the stream is stuck on (one more failure if it was already),
    the traceback in the server log only; the error the cycle reports."""
    type_ = _printable(record.type)[:64]
    log.error("inbound record seq %s (type %s) failed", record.seq, type_, exc_info=err)
    with applier.sessions() as session:
        state = outbox.state_for_update(session, PEER.value)
        if state.stuck_seq == record.seq:
            state.stuck_failures = (state.stuck_failures or 0) + 1
        else:
            state.stuck_seq, state.stuck_type, state.stuck_failures = record.seq, type_, 1
        session.commit()
    return RecordFailedError(record.seq, type_, err)


def _apply_record(
    session: Session,
    applier: Applier,
    record: Record,
    files: Mapping[str, bytes],
    row_id: int,
    now: datetime,
) -> str:
    """Run the record's handler in a savepoint; a rejection is rolled back and answered."""
    handler = records_in.HANDLERS.get(record.type)
    rejection: RecordRejectedError | None = None
    where = _unstorable(record.type, "type") or _unstorable(record.data, "data")
    record_id = str(record.id)
    used_at = session.scalar(
        select(SyncAppliedRecord.seq).where(SyncAppliedRecord.record_id == record_id)
    )
    if used_at is not None:
        # the same record under a second seq (a portal renumbering after a restore): never
        # applied twice, and never a unique violation that would fail every cycle for ever;
        # the row of this seq gets an id of its own (a uuid5, never equal to a record's uuid4)
        rejection = RecordRejectedError(
            RECORD_INVALID,
            f"{ErrorCode.SYNC_RECORD_INVALID.message}：记录 id {record_id} 已在序号 {used_at} "
            "使用过，同一记录不能以新的序号再次发送",
        )
        record_id = str(uuid.uuid5(record.id, str(record.seq)))
    elif where is not None:
        rejection = RecordRejectedError(
            RECORD_INVALID,
            f"{ErrorCode.SYNC_RECORD_INVALID.message}：{where} 含有空字符（\\0）"
            "或不成对的 Unicode 代理字符，无法保存",
        )
    elif handler is None:
        rejection = RecordRejectedError(
            TYPE_UNKNOWN, f"{ErrorCode.SYNC_RECORD_TYPE_UNKNOWN.message}：{record.type[:64]}"
        )
    else:
        incoming = Incoming(
            session=session,
            record=record,
            files={sha: files[sha] for sha in record.files},
            now=now,
            data_dir=applier.data_dir,
        )
        try:
            with audit.savepoint(session):
                handler(incoming)
        except RecordRejectedError as err:
            rejection = err
    if rejection is not None:
        records_out.emit_record_rejected(
            session,
            seq=record.seq,
            record_id=str(record.id),
            code=rejection.code,
            message=rejection.message,
            now=now,
        )
    session.add(
        SyncAppliedRecord(
            seq=record.seq,
            record_id=record_id,
            type=_printable(record.type)[:64],
            outcome="applied" if rejection is None else "rejected",
            code=None if rejection is None else rejection.code[:40],
            bundle_id=row_id,
            applied_at=now,
        )
    )
    return "applied" if rejection is None else "rejected"


def _unstorable(value: object, path: str) -> str | None:
    """Where in ``value`` (a record's type or data) a string holds what neither database can
    store: NUL (PostgreSQL refuses it in text) or a lone surrogate (``"\\ud800"`` is valid
    JSON, but no UTF-8). Such a record is refused before any handler sees it, so neither the
    handler's writes nor the answer echoing it can fail for ever on the database."""
    if isinstance(value, str):
        return None if _storable_text(value) else path
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not _storable_text(str(key)):
                return path
            found = _unstorable(item, f"{path}.{_printable(str(key))[:64]}")
            if found is not None:
                return found
    elif isinstance(value, list):
        for number, item in enumerate(value):
            found = _unstorable(item, f"{path}[{number}]")
            if found is not None:
                return found
    return None


def _storable_text(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by ``?`` (for a column or a message)."""
    return text.replace("\x00", "?").encode("utf-8", "replace").decode("utf-8")


def recheck(applier: Applier, bundle_row_id: int, *, actor: Actor) -> Received:
    """Verify a quarantined or held bundle's stored bytes again (after a peer key was added,
    say): still refused → it stays quarantined with the new reason; verified → its ack is
    taken and it is applied, held or settled like a bundle that just arrived."""
    with applier.sessions() as session:
        row = session.get(SyncInboundBundle, bundle_row_id)
        if row is None:
            raise AppError(ErrorCode.SYNC_BUNDLE_NOT_FOUND, details={"id": bundle_row_id})
        if row.state not in ("quarantined", "held") or row.content is None:
            raise AppError(ErrorCode.SYNC_BUNDLE_NOT_RECHECKABLE, details={"state": row.state})
        data, name, before = row.content, row.name, row.state
        verdict = verify_bundle(data, me=ME, peer=PEER, keys=peer_keys(session))
        if isinstance(verdict, Refusal):
            _refused(row, verdict, data)
        _audit_recheck(session, applier.clock.now(), actor, row, before, verdict)
        session.commit()
    if isinstance(verdict, Refusal):
        return Received("quarantined", name, bundle_row_id, note=verdict.message)
    received = _admit(applier, verdict, data, name, bundle_row_id)
    if received.outcome == "held":
        _finish(applier, received, {bundle_row_id: verdict})
    return received


def _audit_recheck(
    session: Session,
    now: datetime,
    actor: Actor,
    row: SyncInboundBundle,
    before: str,
    verdict: VerifiedBundle | Refusal,
) -> None:
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.SYNC_BUNDLE_RECHECK,
        entity_type=AuditEntity.SYNC_BUNDLE,
        entity_id=row.id,
        before={"name": row.name, "state": before},
        after={"result": verdict.message if isinstance(verdict, Refusal) else "核验通过"},
    )


def discard(
    session: Session, bundle_row_id: int, *, actor: Actor, now: datetime
) -> SyncInboundBundle:
    """Throw a quarantined bundle away: its bytes are deleted, its row stays (``discarded``)
    with its reason, and the audit log says who did it. The caller commits."""
    row = session.get(SyncInboundBundle, bundle_row_id, with_for_update=True)
    if row is None:
        raise AppError(ErrorCode.SYNC_BUNDLE_NOT_FOUND, details={"id": bundle_row_id})
    if row.state != "quarantined":
        raise AppError(ErrorCode.SYNC_BUNDLE_NOT_QUARANTINED, details={"state": row.state})
    row.state, row.content = "discarded", None
    row.settled_at, row.settled_by = now, actor.name[:100]
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.SYNC_BUNDLE_DISCARD,
        entity_type=AuditEntity.SYNC_BUNDLE,
        entity_id=row.id,
        before={"name": row.name, "state": "quarantined", "reason": row.reason},
        after={"state": "discarded"},
    )
    return row


def reject_stuck(
    session: Session, seq: int, *, reason: str, actor: Actor, now: datetime
) -> SyncAppliedRecord:
    """退回该记录: the record the stream is stuck on (``sync_state.stuck_seq``) is answered
    with an outbound ``record.rejected`` (SYNC_RECORD_FAILED, the administrator's reason in
    its message) and ``applied_upto`` moves past it, in the caller's one transaction — only
    while ``seq`` is stuck and still the next to apply (else SYNC_RECORD_NOT_STUCK). The
    held bundle's later records are applied by the next cycle. Audited; the caller commits."""
    state = outbox.state_for_update(session, PEER.value)
    found = None
    if state.stuck_seq == seq and state.applied_upto + 1 == seq:
        found = _held_record(session, seq)
    if found is None:
        raise AppError(
            ErrorCode.SYNC_RECORD_NOT_STUCK,
            details={"seq": seq, "applied_upto": state.applied_upto},
        )
    record, row_id = found
    code = ErrorCode.SYNC_RECORD_FAILED
    records_out.emit_record_rejected(
        session,
        seq=seq,
        record_id=str(record.id),
        code=code.value,
        message=f"{code.message}：{reason}",
        now=now,
    )
    used = session.scalar(select(exists().where(SyncAppliedRecord.record_id == str(record.id))))
    applied = SyncAppliedRecord(
        seq=seq,
        record_id=str(uuid.uuid5(record.id, str(seq))) if used else str(record.id),
        type=_printable(record.type)[:64],
        outcome="rejected",
        code=code.value,
        bundle_id=row_id,
        applied_at=now,
    )
    session.add(applied)
    failures = state.stuck_failures
    state.applied_upto = seq
    state.stuck_seq, state.stuck_type, state.stuck_failures = None, None, 0
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.SYNC_RECORD_REJECT,
        entity_type=AuditEntity.SYNC,
        entity_id=PEER.value,
        before={"seq": seq, "type": applied.type, "failures": failures},
        after={"outcome": "rejected", "code": code.value, "reason": reason},
    )
    return applied


def _held_record(session: Session, seq: int) -> tuple[Record, int] | None:
    """The record ``seq`` from the held bundle that carries it, verified again."""
    rows = session.scalars(
        select(SyncInboundBundle).where(
            SyncInboundBundle.state == "held",
            SyncInboundBundle.first_seq <= seq,
            SyncInboundBundle.last_seq >= seq,
        )
    ).all()
    keys = peer_keys(session)
    for row in rows:
        if row.content is None:
            continue
        verdict = verify_bundle(row.content, me=ME, peer=PEER, keys=keys)
        if isinstance(verdict, Refusal):
            continue
        for record in verdict.records:
            if record.seq == seq:
                return record, row.id
    return None
