"""The sync fault harness (issue 17, docs/sync.md "Tests"), on SQLite and PostgreSQL.

A seeded random run of a few hundred records each way between the real server (its cycle, the
folder and gateway transports, and ``sgss-server sync run-once`` in a subprocess killed with
SIGKILL mid-apply) and the portal stand-in, with a fault at well over 30 % of the exchanges:
bundles dropped, duplicated, reordered, truncated, with a flipped byte, signed by a wrong key,
with an extra member, a file appearing half-copied, HTTP 5xx answers and timeouts.

Records each way: the portal files real applications (and resubmits the ones sent back) and, for
volume, records of a test-only type ``test.portal``, which the intranet answers with
``record.rejected`` (an unknown type: applied exactly once, as the answer); the intranet sends
what its business makes (accepted, progress, decided, the rejections) and records of a
test-only type ``test.intranet`` emitted through the outbox, some with a file.

At the end, after the faults stop and the ten minutes a half-copied file is given have passed:
every record applied exactly once on each side, equal digests of what crossed each way, every
bad bundle quarantined with the codec's own reason (on disk with its ``.reason.txt`` and in the
database on the intranet; in the stand-in's quarantine on the portal), and no internal opinion
in any byte of any bundle the intranet wrote or POSTed. ``SGSS_SYNC_FAULT_SEED`` replays a run.
"""

import hashlib
import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import Application, ApprovalLogEntry
from server.db.sync_models import SyncAppliedRecord, SyncInboundBundle, SyncOutboxRecord
from server.services.materials.store import MaterialStore
from server.services.sync import outbox
from server.services.sync.transports.files import FolderTransport
from server.services.sync.transports.http import GatewayTransport
from shared.sync.bundle import BuiltBundle, Record, build_bundle
from shared.sync.keys import Node, PeerKey, keys_by_id, parse_public_key
from shared.sync.refusals import RECHECKABLE, Refusal
from shared.sync.verify import VerifiedBundle, verify_bundle
from tests.server.approval_world import World, build
from tests.server.sync_peers import (
    Intranet,
    Recording,
    ShiftedClock,
    canonical,
    leaks,
    send_back,
    sync_folders,
)
from tools.sync_portal import Interference, Outcome, Portal

pytestmark = pytest.mark.sync_faults

SEED = int(os.environ.get("SGSS_SYNC_FAULT_SEED", "20261130"))
ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 26
HTTP_ROUNDS = {3, 8, 12, 17, 22}
KILL_ROUNDS = {5, 14, 20, 24}
BLIND_KILL = 24  # killed at a random time, whatever it was doing (the others: mid-apply)
FERRY_OUT = [n for n in range(ROUNDS) if n not in HTTP_ROUNDS]  # intranet → portal by files
FERRY_IN = [n for n in FERRY_OUT if n not in KILL_ROUNDS]  # and portal → intranet, faulted
FAULT_RATE = 0.4
MAX_TIMEOUTS = 6  # each costs the client's timeout in wall time
TIMEOUT = 0.25
INTERNAL = ("内部意见：法人曾有投诉记录，请重点核查", "内部退回：请补查股东背景")
REASON = "营业执照已过期，不符合设立条件"
CORRECTIONS = ["提供有效期内的营业执照"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Tally:
    exchanges: int = 0
    faulted: int = 0
    kinds: Counter[str] = field(default_factory=Counter)

    def note(self, kind: str | None) -> None:
        self.exchanges += 1
        if kind is not None:
            self.faulted += 1
            self.kinds[kind] += 1


class Harness:
    def __init__(self, world: World, engine: Engine, settings: Settings, tmp_path: Path) -> None:
        self.rng = random.Random(SEED)
        self.world, self.settings = world, settings
        self.portal = Portal(tmp_path / "portal")
        self.clock = ShiftedClock()
        self.intranet = Intranet(engine, settings.data_dir, self.portal, self.clock)
        self.folder = sync_folders(tmp_path / "sync")
        self.files = Recording(FolderTransport(self.folder, self.clock))
        self.tally = Tally()
        self.decks: dict[str, list[str]] = {}
        self.unseen: dict[str, set[str]] = {}
        self.http_left = 0  # HTTP rounds still to come, this one included
        self.http_requests = 0  # requests of this HTTP round so far
        self.copies = 0
        # what each side produced and what the other was given
        self.portal_built: list[bytes] = []  # every bundle the portal made (ferry and GET)
        self.into_in: dict[str, bytes] = {}  # every byte string put into in/, by SHA-256
        self.intranet_out: list[bytes] = []  # every bundle the intranet wrote or POSTed
        self.expected_in: dict[str, Refusal] = {}  # refused copies written into in/, by hash
        self.refused_copies_in = 0
        self.expected_portal: Counter[str] = Counter()  # the portal's quarantine reasons
        self.late_in: list[BuiltBundle] = []  # reordered: delivered a round later
        self.late_out: list[bytes] = []
        self.half_copied: list[tuple[Path, bytes]] = []
        self.submitted: list[str] = []
        self.resubmitted: set[str] = set()
        self.decided: set[int] = set()
        self.kills: list[int] = []
        self.interrupted = 0  # kills that left records of the bundle unapplied
        self.left = 0  # arrivals the cycle left for later (a file still copying)
        self.damaged_in_transit = 0
        self.rogue = Ed25519PrivateKey.generate()
        self.keys_at_intranet = keys_by_id([PeerKey(parse_public_key(self.portal.public_key))])
        self.keys_at_portal = keys_by_id([PeerKey(self.intranet.key.public_key)])
        self._tap_portal()

    # --- the portal, watched ---------------------------------------------------------------

    def _tap_portal(self) -> None:
        portal = self.portal
        write, after, receive = portal.write_bundle, portal.bundle_after, portal.receive_bundle
        self.slow: set[int] = set()
        self.quiet = threading.Condition()

        def served() -> None:
            with self.quiet:
                self.slow.discard(threading.get_ident())
                self.quiet.notify_all()

        def write_bundle() -> BuiltBundle | None:
            built = write()
            if built is not None:
                self.portal_built.append(built.data)
            return built

        def bundle_after(n: int) -> BuiltBundle | None:
            try:
                built = after(n)
                if built is not None:
                    self.portal_built.append(built.data)
                return built
            finally:
                served()

        def receive_bundle(data: bytes, name: str | None = None) -> Outcome:
            try:
                self.intranet_out.append(data)
                return receive(data, name)
            finally:
                served()

        portal.write_bundle = write_bundle  # type: ignore[method-assign]
        portal.bundle_after = bundle_after  # type: ignore[method-assign,assignment]
        portal.receive_bundle = receive_bundle  # type: ignore[method-assign]

    # --- business on both sides ------------------------------------------------------------

    def portal_business(self, count: int, applications: int) -> None:
        for _ in range(applications):
            self.submitted.append(self.portal.submit_application())
        for ref in self._sent_back():
            self.portal.resubmit(ref)
            self.resubmitted.add(ref)
        for _ in range(count):
            self.portal.emit("test.portal", {"n": self.rng.randrange(10**6), "note": "外网"})

    def _sent_back(self) -> list[str]:
        decided = self.portal.received("application.decided")
        return [r.data["external_ref"] for r in decided if r.data["external_ref"] not in
                self.resubmitted]  # fmt: skip

    def intranet_business(self) -> None:
        store = MaterialStore(self.settings.data_dir / "materials")
        with self.intranet.sessions() as session:
            for _ in range(self.rng.randrange(4)):
                files = []
                if self.rng.random() < 0.3:
                    content = b"%PDF-1.4\n% " + self.rng.randbytes(64) + b"\n%%EOF\n"
                    files = [store.put([content], max_bytes=2**20).sha256]
                data = {"n": self.rng.randrange(10**6), "note": "内网"}
                outbox.emit(session, "test.intranet", data, at=self.clock.now(), files=files)
            session.commit()
        if len(self.decided) < 3 and self.rng.random() < 0.4:
            with self.intranet.sessions() as session:
                waiting = session.scalars(
                    select(Application.id).where(
                        Application.source == "extranet",
                        Application.status == "in_review",
                        Application.round == 1,
                        Application.id.not_in(self.decided or {0}),
                    )
                ).first()
            if waiting is not None:
                send_back(self.world, waiting, INTERNAL, REASON, CORRECTIONS)
                self.decided.add(waiting)

    # --- portal → intranet over the file ferry ---------------------------------------------

    def _name(self, built_name: str, tag: str) -> str:
        self.copies += 1
        return f"{built_name.removesuffix('.sgssb')}.{tag}{self.copies}.sgssb"

    def _put_in(self, name: str, data: bytes, *, half: bool = False) -> None:
        path = self.folder / "in" / name
        self.into_in[sha(data)] = data
        if half:  # a copier still at work: the first part now, the rest next round
            cut = self.rng.randrange(1, len(data))
            path.write_bytes(data[:cut])
            self.half_copied.append((path, data[cut:]))
        else:
            temporary = path.with_name(f".{name}.part")
            temporary.write_bytes(data)
            temporary.replace(path)

    def _refused_copy_in(self, name: str, data: bytes) -> None:
        verdict = verify_bundle(
            data, me=Node.intranet, peer=Node.portal, keys=self.keys_at_intranet
        )
        if isinstance(verdict, Refusal):
            self.expected_in[sha(data)] = verdict
            self.refused_copies_in += 1
        self._put_in(name, data)

    def to_intranet(self, left: int) -> None:
        for path, rest in self.half_copied:
            with path.open("ab") as out:
                out.write(rest)
        self.half_copied = []
        for late in self.late_in:
            self._put_in(self._name(late.name, "late"), late.data)
        self.late_in = []
        built = self.portal.write_bundle()
        if built is None:
            return
        kind = self._fault(
            ["drop", "duplicate", "reorder", "truncate", "flip", "wrong_key", "extra", "half"],
            left,
        )
        self.tally.note(kind)
        if kind is None:
            self._put_in(built.name, built.data)
        elif kind == "duplicate":
            self._put_in(built.name, built.data)
            self._put_in(self._name(built.name, "dup"), built.data)
        elif kind == "reorder":
            self.late_in.append(built)
        elif kind == "half":
            self._put_in(built.name, built.data, half=True)
        elif kind != "drop":
            self._refused_copy_in(self._name(built.name, kind), self._damage(kind, built, "in"))
            if self.rng.random() < 0.5:
                self._put_in(built.name, built.data)

    def _fault(self, kinds: list[str], left: int) -> str | None:
        """None, or the next fault of a shuffled deck of ``kinds``: each kind comes up once
        before any comes up again, and while some kind has not come up yet and no more
        exchanges of this kind are ``left`` than kinds missing, the fault is certain, so every
        run has every kind whatever the seed."""
        key = " ".join(kinds)
        deck = self.decks.setdefault(key, self.rng.sample(kinds, len(kinds)))
        unseen = self.unseen.setdefault(key, set(kinds))
        if self.rng.random() >= FAULT_RATE and len(unseen) < left:
            return None
        if not deck:
            deck.extend(self.rng.sample(kinds, len(kinds)))
        kind = deck.pop()
        unseen.discard(kind)
        return kind

    def _damage(self, kind: str, built: BuiltBundle | bytes, direction: str) -> bytes:
        data = built if isinstance(built, bytes) else built.data
        if kind == "truncate":
            return data[: self.rng.randrange(1, len(data))]
        if kind == "flip":
            damaged = bytearray(data)
            damaged[self.rng.randrange(len(data))] ^= 1 << self.rng.randrange(8)
            return bytes(damaged)
        if kind == "extra":
            buffer = io.BytesIO(data)
            with zipfile.ZipFile(buffer, "a") as archive:
                archive.writestr("notes.txt", "额外的成员")
            return buffer.getvalue()
        assert kind == "wrong_key"
        manifest = (
            verify_bundle(data, me=Node.intranet, peer=Node.portal, keys=self.keys_at_intranet)
            if direction == "in"
            else verify_bundle(data, me=Node.portal, peer=Node.intranet, keys=self.keys_at_portal)
        )
        assert isinstance(manifest, VerifiedBundle)
        m = manifest.manifest
        return build_bundle(
            source=m.source,
            target=m.target,
            first_seq=m.first_seq,
            records=manifest.records,
            files=manifest.files.values(),
            ack=m.ack,
            private_key=self.rogue,
            bundle_id=m.bundle_id,
            created_at=m.created_at,
        ).data

    # --- intranet → portal over the file ferry ---------------------------------------------

    def to_portal(self, left: int) -> None:
        taken = []
        for path in sorted((self.folder / "out").glob("*.sgssb")):
            data = path.read_bytes()
            path.unlink()
            self.intranet_out.append(data)
            taken.append(data)
        late, self.late_out = self.late_out, []
        for data in taken:
            kind = self._fault(["drop", "duplicate", "reorder", "truncate", "flip",
                                "wrong_key", "extra"], left)  # fmt: skip
            left = ROUNDS  # the first bundle of the round is the one that counts
            self.tally.note(kind)
            if kind in (None, "duplicate"):
                self.portal.receive_bundle(data)
            if kind == "duplicate":
                self.portal.receive_bundle(data)
            elif kind == "reorder":
                self.late_out.append(data)
            elif kind not in (None, "drop"):
                damaged = self._damage(kind, data, "out")
                verdict = verify_bundle(
                    damaged, me=Node.portal, peer=Node.intranet, keys=self.keys_at_portal
                )
                if isinstance(verdict, Refusal):
                    self.expected_portal[verdict.message] += 1
                self.portal.receive_bundle(damaged, "damaged.sgssb")
                if self.rng.random() < 0.5:
                    self.portal.receive_bundle(data)
        for data in late:
            self.portal.receive_bundle(data)

    # --- the HTTP gateway -------------------------------------------------------------------

    def interfere(self, method: str, path: str) -> Interference | None:
        with self.quiet:
            # every round makes two requests at least (a fetch retried, or a fetch and a post)
            left = 2 * self.http_left - min(self.http_requests, 2)
            self.http_requests += 1
            kind = self._fault(["503", "502", "500", "timeout", "damaged"], max(left, 1))
            if kind == "timeout" and self.tally.kinds["timeout"] >= MAX_TIMEOUTS:
                kind = "503"
            self.tally.note(kind)
            if kind == "timeout":
                self.slow.add(threading.get_ident())
                return Interference(delay=TIMEOUT + 0.15)
            if kind == "damaged":
                how = self.rng.choice(["truncate", "flip", "wrong_key", "extra"])
                return Interference(damage=lambda data: self._in_transit(method, how, data))
            return None if kind is None else Interference(status=int(kind))

    def _in_transit(self, method: str, how: str, data: bytes) -> bytes:
        """A bundle damaged on the gateway: the intranet's fetch (refused → its quarantine
        table, no file) or its post (refused → the stand-in's quarantine)."""
        with self.quiet:
            if method == "GET":
                damaged = self._damage(how, data, "in")
                self.into_in[sha(damaged)] = damaged
                verdict = verify_bundle(
                    damaged, me=Node.intranet, peer=Node.portal, keys=self.keys_at_intranet
                )
                if isinstance(verdict, Refusal):
                    self.expected_in[sha(damaged)] = verdict
            else:
                damaged = self._damage(how, data, "out")
                verdict = verify_bundle(
                    damaged, me=Node.portal, peer=Node.intranet, keys=self.keys_at_portal
                )
                if isinstance(verdict, Refusal):
                    self.expected_portal[verdict.message] += 1
            self.damaged_in_transit += 1
            return damaged

    def http_round(self, url: str) -> None:
        gateway = GatewayTransport(
            url, timeout=TIMEOUT, attempts=3, sleep=lambda _: None, jitter=lambda: 0.0
        )
        summary = self.intranet.run(Recording(gateway))
        assert summary.busy is False

    def wait_for_slow_requests(self) -> None:
        """A request delayed past the client's timeout is still served (as by a slow
        gateway); wait until each has been."""
        with self.quiet:
            assert self.quiet.wait_for(lambda: not self.slow, timeout=30)

    # --- the applier killed ------------------------------------------------------------------

    def killed_run(self, blind: bool = False) -> None:
        """``sgss-server sync run-once`` in a subprocess over a large backlog, SIGKILLed once
        it has applied a random number of records (or whenever it got to, if it finished);
        ``blind``: at a random time within its first 2.5 s instead (starting, verifying,
        applying, settling files or writing its bundle)."""
        before = self.intranet.state().applied_upto
        backlog = self.portal.status()["last_seq"] - before
        threshold = before + self.rng.randrange(1, max(2, backlog - 5))
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SGSS_DATABASE_URL": self.settings.database_url,
            "SGSS_DATA_DIR": str(self.settings.data_dir),
            "SGSS_SYNC_TRANSPORT": "files",
            "SGSS_SYNC_DIR": str(self.folder),
        }
        process = subprocess.Popen(
            [sys.executable, "-c", "from server.cli.main import main; main()", "sync", "run-once"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            started = time.monotonic()
            deadline, blind_at = started + 120, started + self.rng.random() * 2.5
            while process.poll() is None and time.monotonic() < deadline:
                if blind and time.monotonic() >= blind_at:
                    process.send_signal(signal.SIGKILL)
                    break
                if not blind and self.intranet.state().applied_upto >= threshold:
                    time.sleep(self.rng.random() * 0.02)
                    process.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.002)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            self.kills.append(process.wait(timeout=60))
        if (
            self.kills[-1] == -signal.SIGKILL
            and self.intranet.state().applied_upto < before + backlog
        ):
            self.interrupted += 1

    def run_files(self) -> None:
        for _ in range(200):  # PostgreSQL drops a killed cycle's lock when it sees it gone
            summary = self.intranet.run(self.files)
            if not summary.busy:
                self.left += summary.left
                return
            time.sleep(0.01)
        raise AssertionError("the cycle lock was never released")

    # --- the run --------------------------------------------------------------------------------

    def run(self) -> None:
        url, stop = self.portal.serve_http(interfere=self.interfere)
        try:
            for number in range(ROUNDS):
                kill = number in KILL_ROUNDS
                self.portal_business(
                    count=self.rng.randrange(40, 60) if kill else self.rng.randrange(2, 10),
                    applications=3 if kill else int(self.rng.random() < 0.35),
                )
                self.intranet_business()
                if number in HTTP_ROUNDS:
                    self.http_left = len([n for n in HTTP_ROUNDS if n >= number])
                    self.http_requests = 0
                    self.http_round(url)
                    continue
                if kill:  # the backlog arrives whole; the applier dies in it
                    built = self.portal.write_bundle()
                    assert built is not None
                    self._put_in(built.name, built.data)
                    self.killed_run(blind=number == BLIND_KILL)
                else:
                    self.to_intranet(len([n for n in FERRY_IN if n >= number]))
                self.run_files()
                self.to_portal(len([n for n in FERRY_OUT if n >= number]))
        finally:
            stop()
        self.wait_for_slow_requests()

    def settle(self) -> None:
        """No more faults: finish the copies, let the ten minutes pass, exchange until both
        sides have everything and have acked it."""
        self.to_intranet_clean()
        self.clock.advance(minutes=11)
        for _ in range(20):
            self.run_files()
            self.to_portal_clean()
            self.to_intranet_clean()
            if self.caught_up():
                return
        raise AssertionError(f"not caught up: {self.portal.status()} {self.intranet.state()}")

    def to_intranet_clean(self) -> None:
        for path, rest in self.half_copied:
            with path.open("ab") as out:
                out.write(rest)
        self.half_copied = []
        for late in self.late_in:
            self._put_in(self._name(late.name, "late"), late.data)
        self.late_in = []
        built = self.portal.write_bundle()
        if built is not None:
            self._put_in(built.name, built.data)

    def to_portal_clean(self) -> None:
        for path in sorted((self.folder / "out").glob("*.sgssb")):
            data = path.read_bytes()
            path.unlink()
            self.intranet_out.append(data)
            self.portal.receive_bundle(data)
        for data in self.late_out:
            self.portal.receive_bundle(data)
        self.late_out = []

    def caught_up(self) -> bool:
        portal, state = self.portal.status(), self.intranet.state()
        return (
            state.applied_upto == portal["last_seq"] == portal["acked_upto"]
            and portal["applied_upto"] == state.last_seq == state.acked_upto
            and not list((self.folder / "in").glob("*.sgssb"))
            and not list((self.folder / "out").glob("*.sgssb"))
        )


def digests(rows: list[tuple[int, str, str, str]]) -> dict[str, str]:
    """A SHA-256 per record type over its records' (seq, id, type, canonical data), in seq
    order: what crossed, table by table."""
    by_type: dict[str, list[tuple[int, str, str, str]]] = {}
    for row in sorted(rows):
        by_type.setdefault(row[2], []).append(row)
    return {
        type_: hashlib.sha256(repr(group).encode("utf-8")).hexdigest()
        for type_, group in by_type.items()
    }


def records_of(data: bytes, me: Node, peer: Node, keys: dict[str, PeerKey]) -> tuple[Record, ...]:
    verified = verify_bundle(data, me=me, peer=peer, keys=keys)
    assert isinstance(verified, VerifiedBundle)
    return verified.records


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


def test_hundreds_of_records_each_way_through_faults_arrive_exactly_once(
    world: World, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    harness = Harness(world, engine, settings, tmp_path)
    harness.run()
    harness.settle()
    h, portal, intranet = harness, harness.portal, harness.intranet
    note = f"seed {SEED}, faults {dict(h.tally.kinds)}, kills {h.kills} ({h.interrupted} mid-apply)"

    # the run was what it claims: volume, faults, real kills
    portal_last, intranet_last = portal.status()["last_seq"], intranet.state().last_seq
    assert portal_last >= 200 and intranet_last >= 200, note
    assert h.tally.faulted >= 0.3 * h.tally.exchanges, note
    assert set(h.tally.kinds) >= {"drop", "duplicate", "reorder", "truncate", "flip",
                                  "wrong_key", "extra", "half", "timeout", "damaged", "500",
                                  "502", "503"}, note  # fmt: skip
    assert h.interrupted >= 1 and h.left >= h.tally.kinds["half"], note

    # intranet: the portal's records 1..N applied exactly once, each as the portal sent it
    sent: dict[int, tuple[int, str, str, str]] = {}
    for data in h.portal_built:
        for record in records_of(data, Node.intranet, Node.portal, h.keys_at_intranet):
            assert sent.setdefault(record.seq, canonical(record)) == canonical(record)
    assert sorted(sent) == list(range(1, portal_last + 1))
    with intranet.sessions() as session:
        applied = session.scalars(select(SyncAppliedRecord).order_by(SyncAppliedRecord.seq)).all()
        bundle_hash = {
            row_id: digest_
            for row_id, digest_ in session.execute(
                select(SyncInboundBundle.id, SyncInboundBundle.sha256)
            )
        }
        rejected_answers = session.scalars(
            select(SyncOutboxRecord.data).where(SyncOutboxRecord.type == "record.rejected")
        ).all()
        internal = {
            opinion
            for opinion in session.scalars(
                select(ApprovalLogEntry.opinion).where(
                    ApprovalLogEntry.visibility == "internal",
                    ApprovalLogEntry.opinion.is_not(None),
                )
            )
            if opinion
        }
        filed = Counter(
            session.scalars(
                select(Application.external_ref).where(Application.source == "extranet")
            )
        )
        rounds = {
            ref: round_
            for ref, round_ in session.execute(
                select(Application.external_ref, Application.round).where(
                    Application.source == "extranet"
                )
            )
        }
        assert session.scalar(select(func.count()).select_from(SyncOutboxRecord)) == (intranet_last)
    assert [row.seq for row in applied] == list(range(1, portal_last + 1))
    seen_at_intranet = []
    for row in applied:
        assert row.bundle_id is not None
        data = h.into_in.get(bundle_hash[row.bundle_id]) or _read_over_http(
            h, bundle_hash[row.bundle_id]
        )
        (record,) = [
            r
            for r in records_of(data, Node.intranet, Node.portal, h.keys_at_intranet)
            if r.seq == row.seq
        ]
        assert (str(record.id), record.type) == (row.record_id, row.type)
        seen_at_intranet.append(canonical(record))
    assert digests(seen_at_intranet) == digests(list(sent.values()))
    # the business effect exactly once too
    assert filed == Counter(h.submitted)
    assert all(rounds[ref] == 2 for ref in h.resubmitted) and h.resubmitted
    test_types = [row for row in applied if row.type == "test.portal"]
    assert {row.outcome for row in test_types} == {"rejected"}
    assert sorted(answer["seq"] for answer in rejected_answers) == [
        row.seq for row in applied if row.outcome == "rejected"
    ]

    # portal: the intranet's records 1..M applied exactly once, as the intranet numbered them
    received = portal.received()
    assert [r.seq for r in received] == list(range(1, intranet_last + 1))
    numbered = [
        canonical(Record(_seq(r.seq), uuid.UUID(r.record_id), r.type, r.at, r.data, tuple(r.files)))
        for r in intranet.outbox()
    ]
    assert digests([canonical(r) for r in received]) == digests(numbered)
    assert {r.type for r in received} >= {
        "application.accepted",
        "application.progress",
        "application.decided",
        "record.rejected",
        "test.intranet",
    }

    # every bad bundle quarantined with the codec's reason; one refused for its key whose
    # records came since in a good copy is settled as a duplicate, its bytes dropped
    key_codes = {reason.value for reason in RECHECKABLE}
    settled = [
        row
        for row in intranet.bundles("duplicate")
        if row.reason_code in key_codes and row.settled_at is not None
    ]
    assert all(row.content is None for row in settled)
    quarantined = [*intranet.bundles("quarantined"), *settled]
    assert {row.sha256: (row.reason_code, row.reason) for row in quarantined} == {
        digest_: (refusal.reason.value, refusal.message)
        for digest_, refusal in h.expected_in.items()
    }, note
    folder = h.folder / "in" / "quarantine"
    bundles = sorted(folder.glob("*.sgssb"))
    assert len(bundles) == h.refused_copies_in
    for path in bundles:
        reason = path.with_name(path.name + ".reason.txt").read_text("utf-8")
        assert reason == h.expected_in[sha(path.read_bytes())].message
    assert Counter(reason for _, reason in portal.quarantined()) == h.expected_portal
    assert h.expected_in and h.expected_portal

    # nothing internal in any byte the intranet sent
    assert INTERNAL[0] in internal and INTERNAL[1] in internal
    assert leaks(internal, h.intranet_out) == []


def _seq(seq: int | None) -> int:
    assert seq is not None
    return seq


def _read_over_http(h: Harness, digest_: str) -> bytes:
    for data in [*h.files.read, *h.portal_built]:
        if sha(data) == digest_:
            return data
    raise AssertionError(f"the intranet applied a bundle nobody gave it: {digest_}")
