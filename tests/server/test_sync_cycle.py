"""One sync cycle on SQLite and PostgreSQL: what it sends, acks, records, and that two cycles
at once (two hosts: two engines) never apply or send twice."""

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from server.clock import FrozenClock
from server.config import Settings
from server.db.session import create_db_engine, create_session_factory
from server.db.sync_models import SyncState
from server.services import audit
from server.services.materials.store import MaterialStore
from server.services.sync import cycle, records_in
from server.services.sync.cycle_lock import cycle_lock
from server.services.sync.incoming import Incoming
from server.services.sync.keys import NodeKey, add_peer_key, init_node_key
from server.services.sync.outbox import emit
from server.services.sync.status import sync_status
from tests.server.sync_fakes import T0, MemoryTransport, Portal, read_sent

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class Node:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings, self.engine = settings, engine
        self.sessions: sessionmaker[Session] = create_session_factory(engine)
        self.clock = FrozenClock(T0 + timedelta(hours=1))
        self.portal = Portal()
        self.transport = MemoryTransport()
        with self.sessions() as session:
            self.key: NodeKey = init_node_key(
                session, settings.data_dir, now=self.clock.now(), actor=audit.CLI_ACTOR
            )[0]
            add_peer_key(session, self.portal.public_text, now=T0, actor=audit.CLI_ACTOR)
            session.commit()

    def emit(self, count: int, files: tuple[bytes, ...] = ()) -> None:
        store = MaterialStore(self.settings.data_dir / "materials")
        hashes = [store.put([content], max_bytes=2**20).sha256 for content in files]
        with self.sessions() as session:
            for n in range(count):
                emit(session, "test.out", {"n": n}, at=self.clock.now(), files=hashes)
            session.commit()

    def run(self, transport: MemoryTransport | None = None) -> cycle.CycleSummary:
        return cycle.run_once(
            self.engine,
            transport or self.transport,
            data_dir=self.settings.data_dir,
            clock=self.clock,
        )

    def state(self) -> SyncState:
        with self.sessions() as session:
            found = session.get(SyncState, "portal")
            assert found is not None
            return found


@pytest.fixture
def node(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Node]:
    monkeypatch.setattr(records_in, "HANDLERS", {"test.thing": lambda incoming: None})
    yield Node(settings, engine)


def test_a_cycle_sends_the_unacked_records_then_only_what_is_new_after_an_ack(
    node: Node,
) -> None:
    node.emit(3, files=(PNG,))
    summary = node.run()
    assert summary.error is None and summary.sent_records == 3
    name, data = node.transport.sent[-1]
    assert name == summary.sent_name == "intranet-portal-000000000001-000000000003.sgssb"
    bundle = read_sent(data, node.key.public_key)
    assert [r.seq for r in bundle.records] == [1, 2, 3] and bundle.manifest.ack == 0
    assert list(bundle.files.values()) == [PNG]
    assert "发出 intranet-portal-000000000001-000000000003.sgssb（记录 3 条）" in summary.line()

    again = node.run()  # not acked: sent again, the same records
    assert read_sent(node.transport.sent[-1][1], node.key.public_key).records == bundle.records

    node.transport.put(*node.portal.bundle(1, 0, ack=2))
    node.emit(1)
    acked = node.run()
    assert again.sent_records == 3 and acked.received == 1
    sent = read_sent(node.transport.sent[-1][1], node.key.public_key)
    assert [r.seq for r in sent.records] == [3, 4]
    state = node.state()
    assert (state.acked_upto, state.last_seq, state.last_sent_name) == (2, 4, acked.sent_name)


def test_an_ack_only_bundle_goes_out_when_applied_upto_moved(node: Node) -> None:
    assert node.run().sent_name is None  # nothing to send, nothing to ack
    node.portal.add()
    node.portal.add()
    node.transport.put(*node.portal.bundle(1, 2))
    summary = node.run()
    assert (summary.received, summary.applied, summary.sent_records) == (1, 2, 0)
    assert summary.sent_name == "intranet-portal-000000000001-000000000000.sgssb"
    sent = read_sent(node.transport.sent[-1][1], node.key.public_key)
    assert sent.manifest.ack_only and sent.manifest.ack == 2
    assert node.state().ack_sent == 2
    assert node.run().sent_name is None  # acked already
    assert len(node.transport.sent) == 1


def test_a_transport_failure_is_the_cycle_s_error_and_is_recorded(node: Node) -> None:
    node.emit(2)
    node.transport.fail_send = True
    summary = node.run()
    assert summary.error == "测试：网关不可用"
    assert summary.line().startswith("同步未完成：测试：网关不可用")
    state = node.state()
    assert state.last_cycle_error == "测试：网关不可用" and state.last_sent_name is None
    assert state.last_cycle_at == node.clock.now()
    node.transport.fail_send = False
    assert node.run().error is None
    assert node.state().last_cycle_error is None


def test_the_summary_line_names_the_exceptions_only_when_there_are_some() -> None:
    """The desk shows the line in its status bar at 1366×768: zero exceptions are left out."""
    name = "intranet-portal-000000000001-000000000450.sgssb"
    quiet = cycle.CycleSummary(received=1, applied=1, sent_records=450, sent_name=name)
    assert quiet.line() == f"同步完成：收到同步包 1 个，应用记录 1 条；发出 {name}（记录 450 条）"
    assert cycle.CycleSummary().line() == "同步完成：收到同步包 0 个，应用记录 0 条；未发出同步包"
    busy = cycle.CycleSummary(received=3, applied=2, rejected=1, quarantined=1, left=1)
    assert busy.line() == (
        "同步完成：收到同步包 3 个，应用记录 2 条，退回记录 1 条，隔离 1 个，"
        "暂缓（可能仍在传输）1 个；未发出同步包"
    )


def test_status_lines(node: Node) -> None:
    node.emit(2)
    node.run()
    node.emit(1)  # unnumbered: waiting too
    node.portal.add()
    node.transport.put(*node.portal.bundle(1, 0, ack=1))
    for _ in range(3):
        node.portal.add()
    node.transport.put(*node.portal.bundle(3, 4))
    node.run()
    with node.sessions() as session:
        lines = sync_status(session, "memory").lines()
    values = dict(line.split(": ", 1) for line in lines)
    assert values["transport"] == "memory"
    assert (values["applied_upto"], values["last_seq"], values["acked_upto"]) == ("0", "3", "1")
    assert (values["gap"], values["held"], values["quarantined"]) == ("1-2", "1", "0")
    assert values["waiting"] == "2"
    assert values["last_cycle_error"] == "无"


def test_a_cycle_finding_the_lock_taken_does_nothing(node: Node) -> None:
    node.emit(1)
    with cycle_lock(node.engine, node.settings.data_dir) as held:
        assert held
        summary = node.run()
    assert summary.busy and summary.line() == cycle.BUSY
    assert node.transport.sent == []
    with node.sessions() as session:
        assert session.get(SyncState, "portal") is None  # not even numbered
    assert node.run().sent_records == 1


def test_two_hosts_at_once_never_apply_or_send_twice(
    node: Node, settings: Settings, tmp_path: Path
) -> None:
    """Six cycles start together, each on an engine of its own (six hosts). The one that gets
    the lock pauses inside the cycle until the others have answered; they must all have
    done nothing."""
    calls: list[int] = []

    def handle(incoming: Incoming) -> None:
        calls.append(incoming.record.seq)

    records_in.HANDLERS["test.thing"] = handle
    node.emit(3)
    for _ in range(4):
        node.portal.add()
    inbox = node.transport
    inbox.put(*node.portal.bundle(1, 4))
    others_done, entered = threading.Event(), threading.Event()
    inside: list[str] = []

    def pause() -> None:
        inside.append(threading.current_thread().name)
        entered.set()
        assert others_done.wait(60)

    inbox.on_arrivals = pause
    results: dict[str, cycle.CycleSummary] = {}

    def host(name: str) -> None:
        engine = create_db_engine(settings.database_url)
        try:
            results[name] = cycle.run_once(
                engine, inbox, data_dir=settings.data_dir, clock=node.clock
            )
        finally:
            engine.dispose()

    threads = [threading.Thread(target=host, args=(f"h{i}",), name=f"h{i}") for i in range(6)]
    for thread in threads:
        thread.start()
    assert entered.wait(60)
    for thread in threads:
        if thread.name not in inside:
            thread.join(60)
    # every thread but the one inside the cycle has finished (the one inside cannot have)
    finished = [t for t in threads if not t.is_alive()]
    assert len(finished) == 5 and len(inside) == 1
    others_done.set()
    for thread in threads:
        thread.join(60)
    busy = [name for name, summary in results.items() if summary.busy]
    assert len(results) == 6 and len(busy) == 5
    assert calls == [1, 2, 3, 4]
    assert len(inbox.sent) == 1
    assert [r.seq for r in read_sent(inbox.sent[0][1], node.key.public_key).records] == [1, 2, 3]
    with node.sessions() as session:
        assert session.scalar(select(SyncState.applied_upto)) == 4
