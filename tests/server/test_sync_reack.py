"""Our ack lost on the way (a ferry that dropped our ack-only bundle, a portal that had not yet
trusted our key): the portal sends the same records again, and the next cycle acks again, on
SQLite and PostgreSQL; with nothing resent, nothing is sent (no ping-pong of acks)."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from server.config import Settings
from server.services.sync import records_in
from tests.server.sync_fakes import read_sent
from tests.server.test_sync_cycle import Node


@pytest.fixture
def node(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Node]:
    monkeypatch.setattr(records_in, "HANDLERS", {"test.thing": lambda incoming: None})
    yield Node(settings, engine)


def test_records_sent_again_after_our_ack_was_lost_are_acked_again(node: Node) -> None:
    node.portal.add()
    node.portal.add()
    node.transport.put(*node.portal.bundle(1, 2))
    first = node.run()
    assert (first.applied, first.sent_records) == (2, 0) and first.sent_name is not None
    node.transport.sent.clear()  # the ferry lost our ack-only bundle

    node.transport.put(*node.portal.bundle(1, 2))  # so the portal sends them again
    again = node.run()
    assert (again.received, again.duplicates, again.applied) == (1, 1, 0)
    assert again.sent_name == "intranet-portal-000000000001-000000000000.sgssb"
    sent = read_sent(node.transport.sent[-1][1], node.key.public_key)
    assert sent.manifest.ack_only and sent.manifest.ack == 2
    assert node.state().ack_sent == 2

    assert node.run().sent_name is None  # nothing came again: nothing owed
    node.transport.put(*node.portal.bundle(3, 2, ack=0))  # an ack-only bundle owes no answer
    assert node.run().sent_name is None
    assert len(node.transport.sent) == 1
