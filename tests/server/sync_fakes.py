"""Small stand-ins for the sync tests of the server core: an in-memory transport (the real
files and HTTP transports are tested on their own) and a peer that signs bundles as the
portal would, with the shared codec only."""

import hashlib
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.services.sync.transports.base import TransportError
from shared.sync.bundle import Record, build_bundle
from shared.sync.keys import Node, PeerKey, public_key_text, raw_public_key
from shared.sync.verify import VerifiedBundle, verify_bundle

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@dataclass
class MemoryArrival:
    name: str
    data: bytes
    age: timedelta = timedelta.max
    settled: str | None = None
    reason: str | None = None

    def read(self) -> bytes:
        return self.data

    def unchanged_for(self) -> timedelta:
        return self.age

    def done(self) -> None:
        self.settled = "done"

    def quarantine(self, reason: str) -> None:
        self.settled, self.reason = "quarantine", reason

    def leave(self) -> None:
        self.settled = "left"


@dataclass
class MemoryTransport:
    """``inbox`` holds arrivals until they are settled (``leave`` keeps one); ``sent`` is
    every bundle sent. ``fail_send``/``fail_arrivals`` make it raise ``TransportError``;
    ``on_arrivals`` runs when a cycle asks for arrivals (tests pause a cycle there)."""

    inbox: list[MemoryArrival] = field(default_factory=list)
    sent: list[tuple[str, bytes]] = field(default_factory=list)
    settled: list[MemoryArrival] = field(default_factory=list)
    fail_send: bool = False
    fail_arrivals: bool = False
    on_arrivals: Callable[[], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def describe(self) -> str:
        return "memory"

    def put(self, name: str, data: bytes, age: timedelta = timedelta.max) -> MemoryArrival:
        arrival = MemoryArrival(name, data, age)
        self.inbox.append(arrival)
        return arrival

    def arrivals(self, applied_upto: Callable[[], int]) -> Iterator[MemoryArrival]:
        if self.on_arrivals is not None:
            self.on_arrivals()
        if self.fail_arrivals:
            raise TransportError("测试：无法读取收件目录")
        for arrival in list(self.inbox):
            yield arrival
            if arrival.settled in ("done", "quarantine"):
                self.inbox.remove(arrival)
                self.settled.append(arrival)

    def send(self, name: str, data: bytes) -> None:
        if self.fail_send:
            raise TransportError("测试：网关不可用")
        with self.lock:
            self.sent.append((name, data))


class Portal:
    """The peer: numbers its own records and signs bundles for the intranet."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.records: list[Record] = []
        self.files: dict[str, bytes] = {}

    @property
    def public_text(self) -> str:
        return public_key_text(raw_public_key(self.key))

    @property
    def peer_key(self) -> PeerKey:
        return PeerKey(raw_public_key(self.key))

    def add(
        self,
        type: str = "test.thing",
        data: Mapping[str, Any] | None = None,
        files: tuple[bytes, ...] = (),
    ) -> Record:
        hashes = []
        for content in files:
            sha = hashlib.sha256(content).hexdigest()
            self.files[sha] = content
            hashes.append(sha)
        record = Record(
            seq=len(self.records) + 1,
            id=uuid.uuid4(),
            type=type,
            at=T0,
            data=dict(data or {"n": len(self.records) + 1}),
            files=tuple(hashes),
        )
        self.records.append(record)
        return record

    def bundle(
        self,
        first: int,
        last: int,
        *,
        ack: int = 0,
        created_at: datetime = T0,
        key: Ed25519PrivateKey | None = None,
    ) -> tuple[str, bytes]:
        """Records ``first``…``last`` (``last = first - 1``: ack-only)."""
        records = self.records[first - 1 : last]
        names = {sha for r in records for sha in r.files}
        built = build_bundle(
            source=Node.portal,
            target=Node.intranet,
            first_seq=first,
            records=records,
            files=[self.files[sha] for sha in sorted(names)],
            ack=ack,
            private_key=key or self.key,
            bundle_id=uuid.uuid4(),
            created_at=created_at,
        )
        return built.name, built.data


def read_sent(data: bytes, public_key: bytes) -> VerifiedBundle:
    """What the portal makes of a bundle we sent (it must verify)."""
    key = PeerKey(public_key)
    verified = verify_bundle(data, me=Node.portal, peer=Node.intranet, keys={key.key_id: key})
    assert isinstance(verified, VerifiedBundle), verified
    return verified
