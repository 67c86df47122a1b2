"""A malicious or broken portal against the inbound applier, on SQLite and PostgreSQL: records
valid on the wire whose content no database column can hold, or that no handler expects, are
answered with ``record.rejected`` and never block the stream (a record the applier cannot get
past would be retried, and fail, in every cycle for ever)."""

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from server.clock import FrozenClock
from server.config import Settings
from server.db.session import create_session_factory
from server.db.sync_models import (
    SyncAppliedRecord,
    SyncInboundBundle,
    SyncOutboxRecord,
    SyncState,
)
from server.services import audit
from server.services.sync import inbound
from server.services.sync.keys import add_peer_key
from shared.sync import bundle
from shared.sync.bundle import Record, stamp
from tests.server.sync_fakes import T0, MemoryArrival, Portal


@dataclass
class Hostile:
    sessions: sessionmaker[Session]
    applier: inbound.Applier
    portal: Portal

    def send_all(self) -> inbound.Received:
        name, data = self.portal.bundle(1, len(self.portal.records))
        return inbound.receive(self.applier, MemoryArrival(name, data))

    def applied(self) -> list[tuple[int, str, str | None]]:
        with self.sessions() as session:
            rows = session.scalars(select(SyncAppliedRecord).order_by(SyncAppliedRecord.seq))
            return [(r.seq, r.outcome, r.code) for r in rows]

    def answers(self) -> list[dict[str, object]]:
        with self.sessions() as session:
            rows = session.scalars(
                select(SyncOutboxRecord)
                .where(SyncOutboxRecord.type == "record.rejected")
                .order_by(SyncOutboxRecord.id)
            )
            return [dict(r.data) for r in rows]

    def applied_upto(self) -> int:
        with self.sessions() as session:
            state = session.get(SyncState, "portal")
            return state.applied_upto if state is not None else 0


@pytest.fixture
def hostile(settings: Settings, engine: Engine) -> Iterator[Hostile]:
    clock = FrozenClock(T0 + timedelta(hours=1))
    sessions = create_session_factory(engine)
    portal = Portal()
    with sessions() as session:
        add_peer_key(session, portal.public_text, now=T0 - timedelta(days=1), actor=audit.CLI_ACTOR)
        session.commit()
    yield Hostile(sessions, inbound.Applier(sessions, settings.data_dir, clock), portal)


UNSTORABLE = [
    pytest.param("\x00", id="nul"),
    pytest.param("\ud800", id="lone-surrogate"),
]


def _escaping_record_line(record: Record) -> bytes:
    """A records line as a portal writing ASCII-escaped JSON does: a lone surrogate is then
    the valid JSON escape ``\\ud800`` (our own builder cannot write one)."""
    fields = {
        "seq": record.seq,
        "id": str(record.id),
        "type": record.type,
        "at": stamp(record.at),
        "data": dict(record.data),
        "files": list(record.files),
    }
    return json.dumps(fields, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


@pytest.mark.parametrize("bad", UNSTORABLE)
def test_unstorable_text_in_a_record_is_rejected_and_the_stream_goes_on(
    hostile: Hostile, bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "record_line", _escaping_record_line)
    portal = hostile.portal
    portal.add(type=f"test.type{bad}")  # an unknown type, echoed in the answer
    portal.add(type="payment.confirmed", data={"external_ref": f"WW{bad}1"})
    portal.add(
        type="payment.confirmed",
        data={
            "external_ref": "WW-1",
            "paid_at": "2026-11-30T07:00:00Z",
            "amount_fen": 100,
            "receipt_no": f"R{bad}",
        },
    )
    portal.add(
        type="application.resubmitted",
        data={"external_ref": "WW-1", "form": {f"k{bad}": "v"}, "persons": [], "materials": []},
    )
    portal.add(type="test.after")  # a plain record after them: it must be reached
    received = hostile.send_all()
    assert (received.outcome, received.applied, received.rejected) == ("applied", 0, 5)
    assert hostile.applied_upto() == 5
    applied = hostile.applied()
    assert [(seq, outcome) for seq, outcome, _ in applied] == [(n, "rejected") for n in range(1, 6)]
    assert [code for _, _, code in applied[:4]] == ["SYNC_RECORD_INVALID"] * 4
    answers = hostile.answers()
    assert [a["seq"] for a in answers] == [1, 2, 3, 4, 5]
    for answer in answers:  # every answer itself travels: nothing unstorable echoed back
        assert bad not in str(answer["message"])
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(answer["message"]))


def test_an_exam_id_no_column_can_hold_is_rejected(hostile: Hostile) -> None:
    hostile.portal.add(
        type="exam.scores_entered",
        data={"exam_id": 2**70, "scores": [{"admission_number": "1", "absent": True}]},
    )
    hostile.portal.add(type="test.after")
    received = hostile.send_all()
    assert (received.applied, received.rejected) == (0, 2)
    assert hostile.applied()[0] == (1, "rejected", "SYNC_RECORD_INVALID")


def test_a_record_id_used_again_at_a_later_seq_is_rejected_not_a_crash(hostile: Hostile) -> None:
    """A broken portal (renumbering after a restore, say) sends a record it sent before under
    a new seq: the id is not applied twice, and the stream is not stuck on it."""
    portal = hostile.portal
    first = portal.add(type="test.first")
    assert hostile.send_all().rejected == 1  # an unknown type: answered, recorded
    again = portal.add(type="test.again")
    portal.records[-1] = dataclasses.replace(again, id=first.id)
    portal.add(type="test.after")
    name, data = portal.bundle(2, 3)
    received = inbound.receive(hostile.applier, MemoryArrival(name, data))
    assert (received.outcome, received.applied, received.rejected) == ("applied", 0, 2)
    assert hostile.applied_upto() == 3
    seq2 = [a for a in hostile.answers() if a["seq"] == 2]
    assert len(seq2) == 1 and seq2[0]["code"] == "SYNC_RECORD_INVALID"
    assert str(first.id) in str(seq2[0]["message"])


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("\udcc9\udcea.sgssb", id="gbk-bytes-on-a-utf8-disk"),
        pytest.param("a\x00b.sgssb", id="nul-from-a-gateway-header"),
    ],
)
def test_an_arrival_whose_name_no_column_can_hold_is_still_received(
    hostile: Hostile, name: str
) -> None:
    """A ferry copying a GBK name onto a UTF-8 disk (Python lists it with surrogate escapes),
    or a gateway's ``filename*=UTF-8''a%00b``: the name is only for the record, so neither
    the bundle nor the cycle may fail on it."""
    hostile.portal.add(type="test.any")
    _, data = hostile.portal.bundle(1, 1)
    received = inbound.receive(hostile.applier, MemoryArrival(name, data))
    assert (received.outcome, received.rejected) == ("applied", 1)
    refused = MemoryArrival(name, b"not a zip at all")
    assert inbound.receive(hostile.applier, refused).outcome == "quarantined"
    assert refused.settled == "quarantine"
    with hostile.sessions() as session:
        names = session.scalars(select(SyncInboundBundle.name)).all()
        assert len(names) == 2 and all("?" in n for n in names)
