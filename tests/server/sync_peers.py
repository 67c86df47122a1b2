"""Both ends of 内外网数据同步 for the end-to-end tests and the fault harness: the real server
(its cycle and its transports, against the test's database) and the portal stand-in
(``tools.sync_portal``), each knowing the other's public key. No in-memory fakes."""

import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from server.db.session import create_session_factory
from server.db.sync_models import SyncInboundBundle, SyncOutboxRecord, SyncState
from server.services import audit
from server.services.sync import cycle
from server.services.sync.keys import NodeKey, add_peer_key, init_node_key
from server.services.sync.transports.base import Arrival, Transport
from shared.sync.bundle import Record
from tests.server.approval_world import World
from tools.sync_portal import Portal


class ShiftedClock:
    """Real time plus an offset the test moves forward: the folder transport compares a
    file's real mtime/ctime with this clock (a half-copied file waits ten minutes)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class Recording:
    """A real transport with every bundle read or sent kept by the test (to scan and to
    digest); the transport itself is untouched."""

    inner: Transport
    read: list[bytes] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)

    def describe(self) -> str:
        return self.inner.describe()

    def arrivals(self, applied_upto: Any) -> Iterator[Arrival]:
        for arrival in self.inner.arrivals(applied_upto):
            yield _Tapped(arrival, self.read)

    def send(self, name: str, data: bytes) -> None:
        self.inner.send(name, data)
        self.sent.append(data)


class _Tapped:
    def __init__(self, inner: Arrival, into: list[bytes]) -> None:
        self._inner, self._into = inner, into

    @property
    def name(self) -> str:
        return self._inner.name

    def read(self) -> bytes:
        data = self._inner.read()
        self._into.append(data)
        return data

    def unchanged_for(self) -> timedelta:
        return self._inner.unchanged_for()

    def done(self) -> None:
        self._inner.done()

    def quarantine(self, reason: str) -> None:
        self._inner.quarantine(reason)

    def leave(self) -> None:
        self._inner.leave()


class Intranet:
    """The server's side: its key made, the portal's key trusted, cycles run for real."""

    def __init__(self, engine: Engine, data_dir: Path, portal: Portal, clock: Any) -> None:
        self.engine, self.data_dir, self.clock = engine, data_dir, clock
        self.sessions: sessionmaker[Session] = create_session_factory(engine)
        with self.sessions() as session:
            self.key: NodeKey = init_node_key(
                session, data_dir, now=clock.now(), actor=audit.CLI_ACTOR
            )[0]
            add_peer_key(
                session, portal.public_key, now=clock.now() - timedelta(days=1),
                actor=audit.CLI_ACTOR,
            )  # fmt: skip
            session.commit()
        portal.add_peer(self.key.public_text)

    def run(self, transport: Transport) -> cycle.CycleSummary:
        return cycle.run_once(self.engine, transport, data_dir=self.data_dir, clock=self.clock)

    def state(self) -> SyncState:
        with self.sessions() as session:
            found = session.get(SyncState, "portal")
            assert found is not None
            return found

    def bundles(self, state: str | None = None) -> list[SyncInboundBundle]:
        with self.sessions() as session:
            stmt = select(SyncInboundBundle).order_by(SyncInboundBundle.id)
            if state is not None:
                stmt = stmt.where(SyncInboundBundle.state == state)
            return list(session.scalars(stmt))

    def outbox(self) -> list[SyncOutboxRecord]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(SyncOutboxRecord)
                    .where(SyncOutboxRecord.seq.is_not(None))
                    .order_by(SyncOutboxRecord.seq)
                )
            )


def sync_folders(root: Path) -> Path:
    for sub in ("in", "out"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def unpacked(data: bytes) -> bytes:
    """The raw bytes and every member inflated (as far as it inflates): what a scan for
    forbidden text must look at, since members are deflated."""
    parts = [data]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                try:
                    parts.append(archive.read(info))
                except Exception:  # a damaged member: its raw bytes are above
                    continue
    except zipfile.BadZipFile:
        pass
    return b"\x00".join(parts)


def leaks(texts: Iterable[str], bundles: Iterable[bytes]) -> list[str]:
    """Every text found in any bundle, as UTF-8 or as JSON's ``\\u`` escapes."""
    forms = {
        text: (text.encode("utf-8"), json.dumps(text).strip('"').encode("ascii")) for text in texts
    }
    found = []
    for data in bundles:
        content = unpacked(data)
        found += [text for text, ways in forms.items() if any(w in content for w in ways)]
    return found


def canonical(record: Record) -> tuple[int, str, str, str]:
    """(seq, id, type, canonical data): what a digest of a crossed record covers."""
    data = json.dumps(record.data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return record.seq, str(record.id), record.type, data


def send_back(
    world: World,
    application_id: int,
    internal: tuple[str, str],
    reason: str,
    corrections: list[str],
) -> None:
    """The county clerk agrees at the first step with an internal opinion, the step after is
    sent back with an internal reason, and the first step then disagrees with the external
    reason and the corrections."""
    api = world.apis["xh_clerk"]
    path = f"/applications/{application_id}"
    api.post(f"{path}/screening")
    detail = api.get(path).json()
    api.post(f"{path}/approve", json={"version": detail["version"], "opinion": internal[0]})
    second = world.apis["xh_clerk"] if _can_act(world, "xh_clerk", path) else _actor(world, path)
    detail = second.get(path).json()
    second.post(f"{path}/return", json={"version": detail["version"], "reason": internal[1]})
    detail = api.get(path).json()
    if not detail["gate"]["approve_allowed"]:
        api.post(f"{path}/screening")
        detail = api.get(path).json()
    api.post(
        f"{path}/reject",
        json={"version": detail["version"], "reason": reason, "corrections": corrections},
    )


def _can_act(world: World, name: str, path: str) -> bool:
    detail = world.apis[name].get(path).json()
    return bool(detail.get("can_act"))


def _actor(world: World, path: str) -> Any:
    for name in ("hz_clerk", "prov_clerk"):
        if _can_act(world, name, path):
            return world.apis[name]
    raise AssertionError("nobody can act on the second step")
