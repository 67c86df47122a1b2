"""Stuck states and their ways out (docs/sync.md "Stuck states and ways out"), on SQLite and
PostgreSQL: a record whose handler keeps failing, and the administrator's 退回该记录."""

import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from server.config import Settings
from server.db.models import AuditEntry
from server.db.sync_models import SyncAppliedRecord
from server.services import audit
from server.services.errors import AppError
from server.services.materials.store import MaterialStore
from server.services.paging import PageRequest
from server.services.sync import admin, inbound, records_in
from server.services.sync.incoming import Incoming
from server.services.sync.status import sync_status
from shared.errors import ErrorCode
from shared.schemas.sync import SyncBundleRow
from tests.server.sync_fakes import Portal, read_sent
from tests.server.test_sync_cycle import PNG, Node

SECRET = "张三 110101199003071234 INSERT INTO applications"


@pytest.fixture
def node(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Node]:
    applied: list[int] = []

    def handle(incoming: Incoming) -> None:
        applied.append(incoming.record.seq)

    def crash(incoming: Incoming) -> None:
        raise ValueError(SECRET)

    monkeypatch.setattr(records_in, "HANDLERS", {"test.thing": handle, "test.crash": crash})
    made = Node(settings, engine)
    made.applied = applied  # type: ignore[attr-defined]
    yield made


def _stuck_node(node: Node) -> None:
    node.portal.add()
    node.portal.add("test.crash")
    node.portal.add()
    node.transport.put(*node.portal.bundle(1, 3))


def test_a_crashing_record_is_named_in_chinese_and_counted_never_its_text(node: Node) -> None:
    _stuck_node(node)
    first = node.run()
    assert first.error is not None
    assert first.error.startswith("外网记录（序号 2，类型 test.crash）应用失败：")
    assert "ValueError" in first.error and SECRET not in first.error
    state = node.state()
    assert state.applied_upto == 1 and state.last_cycle_error == first.error
    assert (state.stuck_seq, state.stuck_type, state.stuck_failures) == (2, "test.crash", 1)
    # the applied record is still acked: the cycle sends after a stuck record
    sent = read_sent(node.transport.sent[-1][1], node.key.public_key)
    assert sent.manifest.ack == 1

    second = node.run()
    assert second.error == first.error
    assert node.state().stuck_failures == 2
    with node.sessions() as session:
        status = sync_status(session)
    assert status.stuck == "seq 2 (type test.crash), failed 2 times"
    assert "stuck: seq 2 (type test.crash), failed 2 times" in status.lines()
    assert SECRET not in "\n".join(status.lines())


def test_the_administrator_rejects_the_stuck_record_and_the_stream_goes_on(node: Node) -> None:
    _stuck_node(node)
    node.run()
    actor = audit.CLI_ACTOR
    with node.sessions() as session:
        with pytest.raises(AppError) as wrong:
            inbound.reject_stuck(session, 3, reason="x", actor=actor, now=node.clock.now())
        assert wrong.value.code is ErrorCode.SYNC_RECORD_NOT_STUCK
        inbound.reject_stuck(
            session, 2, reason="数据有误，请核对后重报", actor=actor, now=node.clock.now()
        )
        session.commit()
    with node.sessions() as session, pytest.raises(AppError) as again:
        inbound.reject_stuck(session, 2, reason="x", actor=actor, now=node.clock.now())
    assert again.value.code is ErrorCode.SYNC_RECORD_NOT_STUCK
    state = node.state()
    assert (state.applied_upto, state.stuck_seq, state.stuck_failures) == (2, None, 0)

    summary = node.run()
    assert summary.error is None and summary.applied == 1
    assert node.applied == [1, 3]  # type: ignore[attr-defined]
    sent = read_sent(node.transport.sent[-1][1], node.key.public_key)
    answers = [r for r in sent.records if r.type == "record.rejected"]
    assert len(answers) == 1 and answers[0].data["seq"] == 2
    assert answers[0].data["code"] == "SYNC_RECORD_FAILED"
    assert (
        answers[0].data["message"] == "内网无法处理该记录，已由管理员退回：数据有误，请核对后重报"
    )
    assert sent.manifest.ack == 3
    with node.sessions() as session:
        row = session.get(SyncAppliedRecord, 2)
        assert row is not None and (row.outcome, row.code) == ("rejected", "SYNC_RECORD_FAILED")
        logged = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sync.record_reject")
        ).one()
        assert logged.after is not None and logged.after["reason"] == "数据有误，请核对后重报"


def test_a_missing_attachment_still_lets_the_acks_and_the_records_before_it_out(
    node: Node,
) -> None:
    store = MaterialStore(node.settings.data_dir / "materials")
    node.emit(1)
    node.emit(1, files=(PNG,))
    node.emit(1)
    store.path(hashlib.sha256(PNG).hexdigest()).unlink()
    node.portal.add()
    node.transport.put(*node.portal.bundle(1, 1))
    summary = node.run()
    assert summary.applied == 1
    assert summary.error is not None
    assert summary.error.startswith("出站记录（序号 2，类型 test.out）的附件")
    assert "不在材料库中" in summary.error and "Errno" not in summary.error
    assert node.state().last_cycle_error == summary.error
    sent = read_sent(node.transport.sent[-1][1], node.key.public_key)
    assert [r.seq for r in sent.records] == [1] and sent.manifest.ack == 1

    node.transport.put(*node.portal.bundle(1, 1, ack=1))  # 1 acked: 2 is next, still broken
    again = node.run()
    assert again.error is not None and "序号 2" in again.error
    sent = read_sent(node.transport.sent[-1][1], node.key.public_key)
    assert sent.manifest.ack_only and sent.manifest.ack == 1


def _rows(node: Node) -> dict[str, SyncBundleRow]:
    with node.sessions() as session:
        rows, _ = admin.list_bundles(session, states=[], page=PageRequest(1, 100, None))
    return {row.name: row for row in rows}


def test_bytes_are_kept_only_for_a_refusal_a_recheck_could_change(node: Node) -> None:
    node.transport.put("junk.sgssb", b"not a zip at all")  # anyone may drop this in the ferry
    stranger = Portal()  # a key nobody registered (yet)
    stranger.add()
    node.transport.put("unknown-key.sgssb", stranger.bundle(1, 1)[1])
    assert node.run().quarantined == 2
    rows = _rows(node)
    junk, unknown = rows["junk.sgssb"], rows["unknown-key.sgssb"]
    assert (junk.reason_code, junk.content_kept) == ("not_zip", False)
    assert not junk.recheck.allowed
    assert junk.recheck.reason is not None and "重新校验不会改变结果" in junk.recheck.reason
    assert (unknown.reason_code, unknown.content_kept) == ("unknown_key", True)
    assert unknown.recheck.allowed


def test_an_unknown_key_resend_is_settled_once_its_seqs_are_applied(node: Node) -> None:
    for _ in range(2):
        node.portal.add()
    stranger = Portal()  # the same seqs signed by a key not registered
    for _ in range(2):
        stranger.add()
    node.transport.put("old-key.sgssb", stranger.bundle(1, 2)[1])
    node.transport.put("old-key-ack.sgssb", stranger.bundle(3, 2)[1])  # ack-only: never settled
    node.run()
    assert _rows(node)["old-key.sgssb"].state == "quarantined"
    node.transport.put(*node.portal.bundle(1, 2))
    summary = node.run()
    assert summary.applied == 2
    rows = _rows(node)
    settled = rows["old-key.sgssb"]
    assert (settled.state, settled.content_kept) == ("duplicate", False)
    assert settled.reason_code == "unknown_key" and settled.settled_at is not None
    assert not settled.recheck.allowed
    assert rows["old-key-ack.sgssb"].state == "quarantined"
