"""The inbound applier on SQLite and PostgreSQL: every record of the portal's stream applied
exactly once, whatever order, repetition, damage or crash the bundles come with."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from server.clock import FrozenClock
from server.config import Settings
from server.db.models import AuditEntry
from server.db.session import create_session_factory
from server.db.sync_models import SyncAppliedRecord, SyncInboundBundle, SyncOutboxRecord, SyncState
from server.services import audit
from server.services.errors import AppError
from server.services.sync import inbound, records_in
from server.services.sync.incoming import Incoming, RecordRejectedError
from server.services.sync.keys import add_peer_key
from server.services.sync.outbox import emit, state_for_update
from server.services.sync.status import sync_status
from shared.audit_actions import AuditAction, AuditEntity
from shared.errors import ErrorCode
from shared.sync.refusals import RECHECKABLE
from tests.server.sync_fakes import T0, MemoryArrival, MemoryTransport, Portal

ECHO = "test.echo"


@dataclass
class World:
    sessions: sessionmaker[Session]
    applier: inbound.Applier
    portal: Portal
    clock: FrozenClock
    transport: MemoryTransport = field(default_factory=MemoryTransport)
    calls: list[int] = field(default_factory=list)
    reject: set[int] = field(default_factory=set)
    crash: set[int] = field(default_factory=set)

    def handle(self, incoming: Incoming) -> None:
        """A handler with effects to count: an outbound echo and an audit entry; it may
        reject its record or crash on it, after doing both."""
        seq = incoming.record.seq
        self.calls.append(seq)
        emit(incoming.session, ECHO, {"seq": seq}, at=incoming.now)
        audit.record(
            incoming.session,
            now=incoming.now,
            actor=audit.CLI_ACTOR,
            action=AuditAction.SYNC_BUNDLE_RECHECK,
            entity_type=AuditEntity.SYNC_BUNDLE,
            entity_id=f"handler-{seq}",
        )
        incoming.session.flush()
        if seq in self.reject:
            raise RecordRejectedError("TEST_RULE", "测试：不符合业务规则")
        if seq in self.crash:
            self.crash.discard(seq)
            raise RuntimeError(f"handler crashed on {seq}")

    def receive(self, first: int, last: int, **kw: object) -> inbound.Received:
        name, data = self.portal.bundle(first, last, **kw)  # type: ignore[arg-type]
        return inbound.receive(self.applier, MemoryArrival(name, data))

    def echoes(self) -> list[int]:
        with self.sessions() as session:
            rows = session.scalars(select(SyncOutboxRecord).where(SyncOutboxRecord.type == ECHO))
            return sorted(row.data["seq"] for row in rows)

    def state(self) -> SyncState:
        with self.sessions() as session:
            found = session.get(SyncState, "portal")
            assert found is not None
            return found

    def applied(self) -> list[tuple[int, str]]:
        with self.sessions() as session:
            rows = session.scalars(select(SyncAppliedRecord).order_by(SyncAppliedRecord.seq))
            return [(row.seq, row.outcome) for row in rows]


@pytest.fixture
def world(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    clock = FrozenClock(T0 + timedelta(hours=1))
    sessions = create_session_factory(engine)
    portal = Portal()
    with sessions() as session:
        add_peer_key(session, portal.public_text, now=T0 - timedelta(days=1), actor=audit.CLI_ACTOR)
        session.commit()
    world = World(sessions, inbound.Applier(sessions, settings.data_dir, clock), portal, clock)
    monkeypatch.setattr(records_in, "HANDLERS", {"test.thing": world.handle})
    yield world


def test_records_apply_in_order_once_and_a_repeat_is_a_duplicate(world: World) -> None:
    for _ in range(5):
        world.portal.add()
    first = world.receive(1, 3)
    assert (first.outcome, first.applied, first.rejected) == ("applied", 3, 0)
    again = world.receive(1, 3)
    assert again.outcome == "duplicate" and again.applied == 0
    overlapping = world.receive(2, 5)
    assert overlapping.outcome == "applied" and overlapping.applied == 2
    assert world.calls == [1, 2, 3, 4, 5]
    assert world.echoes() == [1, 2, 3, 4, 5]
    assert world.state().applied_upto == 5
    assert world.applied() == [(n, "applied") for n in range(1, 6)]
    with world.sessions() as session:
        states = session.scalars(select(SyncInboundBundle.state).order_by(SyncInboundBundle.id))
        assert list(states) == ["applied", "duplicate", "applied"]
        kept = session.scalar(select(func.count()).where(SyncInboundBundle.content.is_not(None)))
        assert kept == 0


def test_a_gap_is_held_with_its_range_then_applied_when_it_fills(world: World) -> None:
    for _ in range(9):
        world.portal.add()
    later = world.receive(7, 9)
    assert (later.outcome, later.gap, later.applied) == ("held", (1, 6), 0)
    middle = world.receive(4, 6)
    assert (middle.outcome, middle.gap) == ("held", (1, 3))
    with world.sessions() as session:
        status = sync_status(session)
    assert (status.gap, status.held, status.applied_upto) == ((1, 3), 2, 0)
    filled = world.receive(1, 3)
    assert filled.outcome == "applied" and filled.applied == 9  # the held ones followed
    assert world.calls == list(range(1, 10))
    with world.sessions() as session:
        status = sync_status(session)
        assert (status.gap, status.held, status.applied_upto) == (None, 0, 9)
        held = session.scalar(select(func.count()).where(SyncInboundBundle.state == "held"))
        assert held == 0


def test_a_rejected_record_is_answered_and_the_stream_goes_on(world: World) -> None:
    for _ in range(3):
        world.portal.add()
    unknown = world.portal.add(type="test.unheard_of")
    world.reject.add(2)
    received = world.receive(1, 4)
    assert (received.outcome, received.applied, received.rejected) == ("applied", 2, 2)
    assert world.state().applied_upto == 4
    assert world.applied() == [(1, "applied"), (2, "rejected"), (3, "applied"), (4, "rejected")]
    assert world.echoes() == [1, 3]  # the rejected record's own change was rolled back
    with world.sessions() as session:
        answers = session.scalars(
            select(SyncOutboxRecord)
            .where(SyncOutboxRecord.type == inbound.RECORD_REJECTED)
            .order_by(SyncOutboxRecord.id)
        ).all()
        audited = set(
            session.scalars(
                select(AuditEntry.entity_id).where(
                    AuditEntry.action == AuditAction.SYNC_BUNDLE_RECHECK.value
                )
            )
        )
    assert [a.data for a in answers] == [
        {
            "seq": 2,
            "id": str(world.portal.records[1].id),
            "code": "TEST_RULE",
            "message": "测试：不符合业务规则",
        },
        {
            "seq": 4,
            "id": str(unknown.id),
            "code": inbound.TYPE_UNKNOWN,
            "message": "内网不受理该类型的同步记录：test.unheard_of",
        },
    ]
    assert audited == {"handler-1", "handler-3"}  # none for what was rolled back


def test_a_crash_mid_bundle_leaves_the_cursor_after_the_last_applied_record(
    world: World,
) -> None:
    for _ in range(5):
        world.portal.add()
    world.crash.add(3)
    name, data = world.portal.bundle(1, 5)
    arrival = MemoryArrival(name, data)
    with pytest.raises(inbound.RecordFailedError, match="序号 3，") as failed:
        inbound.receive(world.applier, arrival)
    assert isinstance(failed.value.__cause__, RuntimeError)  # the traceback: in the log only
    assert "crashed" not in failed.value.message
    assert (world.state().stuck_seq, world.state().stuck_failures) == (3, 1)
    assert arrival.settled == "done"  # the database holds the bundle from here on
    assert world.state().applied_upto == 2
    assert world.echoes() == [1, 2]
    with world.sessions() as session:
        row = session.scalars(select(SyncInboundBundle)).one()
        assert row.state == "held" and row.content == data
    again = inbound.receive(world.applier, MemoryArrival(name, data))  # the same bytes again
    assert again.outcome == "applied" and again.applied == 3
    assert world.calls == [1, 2, 3, 3, 4, 5]  # 3 tried twice, committed once
    assert world.echoes() == [1, 2, 3, 4, 5]
    assert world.applied() == [(n, "applied") for n in range(1, 6)]
    with world.sessions() as session:
        rows = session.scalars(select(SyncInboundBundle)).all()
        assert [(r.state, r.content) for r in rows] == [("applied", None)]


def test_a_crash_is_completed_by_the_next_drain_without_the_bundle(world: World) -> None:
    for _ in range(4):
        world.portal.add()
    world.crash.add(2)
    with pytest.raises(inbound.RecordFailedError):
        world.receive(1, 4)
    drained = inbound.drain(world.applier)
    assert (drained.applied, drained.rejected) == (3, 0)
    assert world.echoes() == [1, 2, 3, 4] and world.state().applied_upto == 4


def test_refused_bundles_are_quarantined_with_their_reason(world: World) -> None:
    world.portal.add()
    name, data = world.portal.bundle(1, 1)
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0xFF
    arrival = MemoryArrival(name, bytes(flipped))
    received = inbound.receive(world.applier, arrival)
    assert received.outcome == "quarantined"
    assert arrival.settled == "quarantine" and arrival.reason == received.note
    inbound.receive(world.applier, MemoryArrival(name, bytes(flipped)))  # the same file again
    with world.sessions() as session:
        row = session.scalars(select(SyncInboundBundle)).one()
        assert row.state == "quarantined"
        # refused for its own bytes: a re-check could not change that, the bytes are not kept
        assert row.content is None and row.reason_code not in {r.value for r in RECHECKABLE}
        assert row.reason_code and row.reason == arrival.reason
        assert sync_status(session).quarantined == 1
    assert world.calls == [] and world.state().applied_upto == 0


def test_a_young_file_that_is_not_a_zip_is_left_and_an_old_one_quarantined(
    world: World,
) -> None:
    world.portal.add()
    name, data = world.portal.bundle(1, 1)
    young = MemoryArrival(name, data[: len(data) // 2], age=timedelta(minutes=9))
    assert inbound.receive(world.applier, young).outcome == "left"
    assert young.settled == "left"
    with world.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SyncInboundBundle)) == 0
    old = MemoryArrival(name, data[: len(data) // 2], age=timedelta(minutes=10))
    assert inbound.receive(world.applier, old).outcome == "quarantined"
    with world.sessions() as session:
        row = session.scalars(select(SyncInboundBundle)).one()
        assert row.reason_code == "not_zip"


def test_recheck_after_the_key_is_added_and_discard(world: World) -> None:
    stranger = Portal()
    stranger.records = world.portal.records
    world.portal.add()
    world.portal.add()
    name, data = stranger.bundle(1, 2)
    received = inbound.receive(world.applier, MemoryArrival(name, data))
    assert received.outcome == "quarantined" and received.bundle_row_id is not None
    with world.sessions() as session:
        row = session.get(SyncInboundBundle, received.bundle_row_id)
        assert row is not None and row.reason_code == "unknown_key"
    still = inbound.recheck(world.applier, received.bundle_row_id, actor=audit.CLI_ACTOR)
    assert still.outcome == "quarantined"
    with world.sessions() as session:
        add_peer_key(
            session, stranger.public_text, now=T0 - timedelta(days=1), actor=audit.CLI_ACTOR
        )
        session.commit()
    rechecked = inbound.recheck(world.applier, received.bundle_row_id, actor=audit.CLI_ACTOR)
    assert (rechecked.outcome, rechecked.applied) == ("applied", 2)
    assert world.echoes() == [1, 2]

    _, broken = world.portal.bundle(1, 0, ack=0)
    bad = inbound.receive(world.applier, MemoryArrival("x.sgssb", broken[:-7]))
    assert bad.bundle_row_id is not None
    with world.sessions() as session:
        with pytest.raises(AppError) as refused:
            inbound.discard(
                session, received.bundle_row_id, actor=audit.CLI_ACTOR, now=world.clock.now()
            )
        assert refused.value.code is ErrorCode.SYNC_BUNDLE_NOT_QUARANTINED
        inbound.discard(session, bad.bundle_row_id, actor=audit.CLI_ACTOR, now=world.clock.now())
        session.commit()
    with world.sessions() as session:
        row = session.get(SyncInboundBundle, bad.bundle_row_id)
        assert row is not None and (row.state, row.content) == ("discarded", None)
        assert row.reason and row.settled_by == audit.CLI_ACTOR.name
        actions = session.scalars(select(AuditEntry.action)).all()
        assert AuditAction.SYNC_BUNDLE_DISCARD.value in actions
    with pytest.raises(AppError) as gone:
        inbound.recheck(world.applier, bad.bundle_row_id, actor=audit.CLI_ACTOR)
    assert gone.value.code is ErrorCode.SYNC_BUNDLE_NOT_RECHECKABLE


def test_the_ack_releases_our_records_never_backwards_and_never_past_last_seq(
    world: World,
) -> None:
    with world.sessions() as session:
        state_for_update(session).last_seq = 10
        session.commit()
    assert world.receive(1, 0, ack=6).outcome == "ack_only"
    assert world.state().acked_upto == 6
    world.receive(1, 0, ack=4)  # an older bundle, late
    assert world.state().acked_upto == 6
    capped = world.receive(1, 0, ack=25)
    assert world.state().acked_upto == 10
    assert capped.note is not None and "25" in capped.note
    with world.sessions() as session:
        row = session.get(SyncInboundBundle, capped.bundle_row_id)
        assert row is not None and row.reason_code == inbound.ACK_ABOVE_LAST_SEQ


def test_a_refused_bundle_s_ack_is_not_taken(world: World) -> None:
    with world.sessions() as session:
        state_for_update(session).last_seq = 10
        session.commit()
    stranger = Portal()
    name, data = stranger.bundle(1, 0, ack=5)
    assert inbound.receive(world.applier, MemoryArrival(name, data)).outcome == "quarantined"
    assert world.state().acked_upto == 0
