"""The portal's side of SYNC.md, small and honest: its key, its outbound stream, what it applied
of the intranet's stream, and its quarantine, in one SQLite file.

Every operation is one SQLite transaction (``BEGIN IMMEDIATE``), so a crash leaves the state as
it was before or after it, two threads of the gateway or a CLI command beside ``serve`` never
interleave, and a record is applied together with the move of ``applied_upto``: exactly once.
"""

import base64
import hashlib
import json
import os
import secrets
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.sync.atomic import write_atomically
from shared.sync.bundle import (
    MAX_RECORDS,
    STAMP_FORMAT,
    SUFFIX,
    BuiltBundle,
    Record,
    build_bundle,
    stamp,
)
from shared.sync.classify import Applicable, Duplicate, Gap, classify
from shared.sync.keys import (
    Node,
    PeerKey,
    key_id_of,
    keys_by_id,
    parse_public_key,
    public_key_text,
    raw_public_key,
)
from shared.sync.refusals import Refusal
from shared.sync.verify import VerifiedBundle, verify_bundle
from tools.sync_portal.samples import DEFAULT_REGION, sample_application, sample_pdf

ME, PEER = Node.portal, Node.intranet
KEY_FILE = "portal.key"
DB_FILE = "portal.sqlite3"
QUARANTINE = "quarantine"
REASON_SUFFIX = ".reason.txt"
BUNDLE_RECORDS = 500
"""At most this many records a bundle (well under the codec's limit of 10,000)."""
BUNDLE_FILE_BYTES = 64 * 2**20
"""A bundle takes records until their files pass this; the first record always goes."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS peer_keys (
    key_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, retired_at TEXT);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL, at TEXT NOT NULL,
    data TEXT NOT NULL, files TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS received (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL, at TEXT NOT NULL,
    data TEXT NOT NULL, files TEXT NOT NULL, bundle_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (sha256 TEXT PRIMARY KEY, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS held (
    bundle_id TEXT PRIMARY KEY, first_seq INTEGER NOT NULL, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applications (external_ref TEXT PRIMARY KEY, data TEXT NOT NULL);
"""
_META = {"next_seq": 1, "acked_upto": 0, "applied_upto": 0, "ack_sent": 0, "ack_owed": 0}


@dataclass(frozen=True)
class Material:
    title: str
    filename: str
    content: bytes


@dataclass(frozen=True)
class Outcome:
    """What became of one bundle of the intranet: ``applied`` (``count`` records, then any held
    bundle the gap was waiting for), ``duplicate``, ``held`` (a gap ``missing`` from…to),
    ``ack_only`` or ``quarantined`` (``reason``)."""

    kind: str
    count: int = 0
    missing: tuple[int, int] | None = None
    reason: str = ""


@dataclass(frozen=True)
class FerryReport:
    taken: list[tuple[str, Outcome]] = field(default_factory=list)
    written: str | None = None


def _free_name(folder: Path, name: str) -> str:
    if not (folder / name).exists():
        return name
    stem = name.removesuffix(SUFFIX)
    number = 2
    while (folder / f"{stem}.{number}{SUFFIX}").exists():
        number += 1
    return f"{stem}.{number}{SUFFIX}"


def bundle_files_in(folder: Path) -> list[Path]:
    """``folder/*.sgssb`` regular files, not hidden, oldest first (what a receiver reads)."""
    found = []
    for entry in os.scandir(folder):
        name = entry.name
        if (
            name.endswith(SUFFIX)
            and not name.startswith(".")
            and entry.is_file(follow_symlinks=False)
        ):
            found.append((entry.stat().st_mtime_ns, name))
    return [folder / name for _, name in sorted(found)]


def _record_from_row(row: sqlite3.Row) -> Record:
    return Record(
        seq=row["seq"],
        id=uuid.UUID(row["id"]),
        type=row["type"],
        at=datetime.strptime(row["at"], STAMP_FORMAT).replace(tzinfo=UTC),
        data=json.loads(row["data"]),
        files=tuple(json.loads(row["files"])),
    )


class Portal:
    """The portal node in ``state_dir`` (created on first use: an Ed25519 key in
    ``portal.key``, the state in ``portal.sqlite3``, refused bundles in ``quarantine/``)."""

    def __init__(self, state_dir: Path | str, *, now: Callable[[], datetime] | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._now = now or (lambda: datetime.now(UTC))
        key_path = self.state_dir / KEY_FILE
        if not key_path.exists():
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_atomically(self.state_dir, KEY_FILE, pem)
            key_path.chmod(0o600)
        loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{key_path} is not an Ed25519 private key")
        self._key = loaded
        self.quarantine_dir = self.state_dir / QUARANTINE
        self.quarantine_dir.mkdir(exist_ok=True)
        schema = sqlite3.connect(self.state_dir / DB_FILE, timeout=60)
        try:
            schema.executescript(_SCHEMA)  # IF NOT EXISTS throughout; commits by itself
        finally:
            schema.close()
        with self._tx() as db:
            db.executemany(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", list(_META.items())
            )

    # --- keys ------------------------------------------------------------------------------

    @property
    def public_key(self) -> str:
        """This node's public key: standard base64 of its 32 raw bytes."""
        return public_key_text(raw_public_key(self._key))

    @property
    def key_id(self) -> str:
        return key_id_of(raw_public_key(self._key))

    def add_peer(self, public_key: str) -> str:
        """Trust the intranet's key (base64); returns its key id."""
        raw = parse_public_key(public_key)
        key_id = key_id_of(raw)
        with self._tx() as db:
            db.execute(
                "INSERT INTO peer_keys (key_id, public_key) VALUES (?, ?) "
                "ON CONFLICT (key_id) DO UPDATE SET retired_at = NULL",
                (key_id, public_key_text(raw)),
            )
        return key_id

    def retire_peer(self, key_id: str, at: datetime | None = None) -> None:
        """The key keeps verifying bundles created before ``at`` (now by default)."""
        with self._tx() as db:
            changed = db.execute(
                "UPDATE peer_keys SET retired_at = ? WHERE key_id = ?",
                (stamp(at or self._now()), key_id),
            ).rowcount
        if not changed:
            raise KeyError(f"no peer key {key_id}")

    # --- the outbound stream ---------------------------------------------------------------

    def emit(self, type: str, data: Mapping[str, Any], files: Sequence[bytes] = ()) -> Record:
        """Number one record of the portal's stream (kept until the intranet acks it)."""
        hashes = [hashlib.sha256(content).hexdigest() for content in files]
        with self._tx() as db:
            return self._emit(db, type, data, files, hashes)

    def _emit(
        self,
        db: sqlite3.Connection,
        type: str,
        data: Mapping[str, Any],
        files: Sequence[bytes],
        hashes: Sequence[str],
    ) -> Record:
        seq = self._get(db, "next_seq")
        record = Record(
            seq=seq,
            id=uuid.uuid4(),
            type=type,
            at=datetime.strptime(stamp(self._now()), STAMP_FORMAT).replace(tzinfo=UTC),
            data=json.loads(json.dumps(data, sort_keys=True, allow_nan=False)),
            files=tuple(dict.fromkeys(hashes)),
        )
        db.executemany(
            "INSERT OR IGNORE INTO files (sha256, content) VALUES (?, ?)",
            list(zip(hashes, files, strict=True)),
        )
        db.execute(
            "INSERT INTO outbox (seq, id, type, at, data, files) VALUES (?, ?, ?, ?, ?, ?)",
            (
                seq,
                str(record.id),
                type,
                stamp(record.at),
                json.dumps(record.data, ensure_ascii=False, sort_keys=True),
                json.dumps(list(record.files)),
            ),
        )
        self._set(db, "next_seq", seq + 1)
        return record

    def submit_application(
        self,
        *,
        region_code: str = DEFAULT_REGION,
        application: Mapping[str, Any] | None = None,
        materials: Sequence[Material] | None = None,
        external_ref: str | None = None,
    ) -> str:
        """An ``application.submitted`` record: ``application`` is what ``POST
        /api/v1/applications`` accepts (a valid company licence of ``region_code`` by default),
        ``materials`` travel as bundle files (one small PDF by default). Returns the
        ``external_ref`` (``WW-`` and 12 hex digits unless given)."""
        ref = external_ref or f"WW-{secrets.token_hex(6).upper()}"
        data = dict(application or sample_application(region_code))
        data.pop("external_ref", None)
        with self._tx() as db:
            if db.execute("SELECT 1 FROM applications WHERE external_ref = ?", (ref,)).fetchone():
                raise ValueError(f"external_ref {ref} was submitted before")
            db.execute(
                "INSERT INTO applications (external_ref, data) VALUES (?, ?)",
                (ref, json.dumps(data, ensure_ascii=False)),
            )
            self._emit_with_materials(
                db, "application.submitted", {**data, "external_ref": ref}, materials
            )
        return ref

    def resubmit(
        self,
        external_ref: str,
        *,
        form: Mapping[str, Any] | None = None,
        persons: Sequence[Mapping[str, Any]] | None = None,
        materials: Sequence[Material] | None = None,
    ) -> Record:
        """An ``application.resubmitted`` record with the corrected form and persons (those
        submitted last, by default) and new materials (one PDF by default)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT data FROM applications WHERE external_ref = ?", (external_ref,)
            ).fetchone()
            last = json.loads(row["data"]) if row else {}
            if form is not None:
                last["form"] = dict(form)
            if persons is not None:
                last["persons"] = [dict(p) for p in persons]
            db.execute(
                "INSERT OR REPLACE INTO applications (external_ref, data) VALUES (?, ?)",
                (external_ref, json.dumps(last, ensure_ascii=False)),
            )
            data = {
                "external_ref": external_ref,
                "form": last.get("form", {}),
                "persons": last.get("persons", []),
            }
            return self._emit_with_materials(db, "application.resubmitted", data, materials)

    def confirm_payment(
        self,
        external_ref: str,
        *,
        amount_fen: int = 20000,
        paid_at: datetime | None = None,
        receipt_no: str | None = None,
    ) -> Record:
        return self.emit(
            "payment.confirmed",
            {
                "external_ref": external_ref,
                "paid_at": stamp(paid_at or self._now()),
                "amount_fen": amount_fen,
                "receipt_no": receipt_no or f"RCPT-{secrets.token_hex(5).upper()}",
            },
        )

    def _emit_with_materials(
        self,
        db: sqlite3.Connection,
        type: str,
        data: dict[str, Any],
        materials: Sequence[Material] | None,
    ) -> Record:
        if materials is None:
            materials = [
                Material("申请书", "申请书.pdf", sample_pdf(f"{type} {data['external_ref']}"))
            ]
        hashes = [hashlib.sha256(m.content).hexdigest() for m in materials]
        data["materials"] = [
            {"title": m.title, "filename": m.filename, "sha256": h}
            for m, h in zip(materials, hashes, strict=True)
        ]
        return self._emit(db, type, data, [m.content for m in materials], hashes)

    def write_bundle(self) -> BuiltBundle | None:
        """The next bundle to the intranet: every record it has not acked (from the oldest,
        at most ``BUNDLE_RECORDS``), or an ack-only one when the portal owes an ack, or None."""
        with self._tx() as db:
            return self._bundle(db, self._get(db, "acked_upto"))

    def bundle_after(self, after: int) -> BuiltBundle | None:
        """What ``GET ?after=N`` answers: records from ``N + 1`` on (from the oldest still kept
        if the intranet asks below its own ack: it then sees a gap), else an ack-only bundle
        when one is owed, else None (``204``)."""
        with self._tx() as db:
            return self._bundle(db, max(after, self._get(db, "acked_upto")))

    def _bundle(self, db: sqlite3.Connection, above: int) -> BuiltBundle | None:
        rows = db.execute(
            "SELECT * FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (above, min(BUNDLE_RECORDS, MAX_RECORDS)),
        ).fetchall()
        records: list[Record] = []
        files: dict[str, bytes] = {}
        size = 0
        for row in rows:
            record = _record_from_row(row)
            wanted = {h: self._file(db, h) for h in record.files if h not in files}
            extra = sum(len(c) for c in wanted.values())
            if records and size + extra > BUNDLE_FILE_BYTES:
                break
            records.append(record)
            files.update(wanted)
            size += extra
        applied = self._get(db, "applied_upto")
        owed = self._get(db, "ack_owed") or applied > self._get(db, "ack_sent")
        if not records and not owed:
            return None
        built = build_bundle(
            source=ME,
            target=PEER,
            first_seq=records[0].seq if records else self._get(db, "next_seq"),
            records=records,
            files=files.values(),
            ack=applied,
            private_key=self._key,
            bundle_id=uuid.uuid4(),
            created_at=self._now(),
        )
        self._set(db, "ack_sent", applied)
        self._set(db, "ack_owed", 0)
        return built

    # --- receiving -------------------------------------------------------------------------

    def receive_bundle(self, data: bytes, name: str | None = None) -> Outcome:
        """SYNC.md "Receiving": verify the whole bundle (quarantine it with its reason), take
        its ack, skip what was applied, hold a bundle past a gap, apply the rest with
        ``applied_upto`` in one transaction, then whatever held bundle now follows."""
        with self._tx() as db:
            verified = verify_bundle(data, me=ME, peer=PEER, keys=self._peer_keys(db))
            if isinstance(verified, Refusal):
                self._quarantine(db, data, name, verified.message)
                return Outcome("quarantined", reason=verified.message)
            self._take_ack(db, verified.manifest.ack)
            outcome = self._settle(db, verified, data)
            if outcome.kind == "applied":
                outcome = Outcome("applied", outcome.count + self._drain_held(db))
            return outcome

    def _settle(self, db: sqlite3.Connection, bundle: VerifiedBundle, data: bytes) -> Outcome:
        manifest = bundle.manifest
        if manifest.ack_only:
            return Outcome("ack_only")
        self._set(db, "ack_owed", 1)  # a resent bundle may mean our ack was lost
        verdict = classify(bundle, self._get(db, "applied_upto"))
        if isinstance(verdict, Duplicate):
            return Outcome("duplicate")
        if isinstance(verdict, Gap):
            db.execute(
                "INSERT OR IGNORE INTO held (bundle_id, first_seq, content) VALUES (?, ?, ?)",
                (str(manifest.bundle_id), manifest.first_seq, data),
            )
            return Outcome("held", missing=(verdict.missing_from, verdict.missing_to))
        assert isinstance(verdict, Applicable)
        for record in verdict.records:
            db.execute(
                "INSERT INTO received (seq, id, type, at, data, files, bundle_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.seq,
                    str(record.id),
                    record.type,
                    stamp(record.at),
                    json.dumps(record.data, ensure_ascii=False, sort_keys=True),
                    json.dumps(list(record.files)),
                    str(manifest.bundle_id),
                ),
            )
            db.executemany(
                "INSERT OR IGNORE INTO files (sha256, content) VALUES (?, ?)",
                [(h, bundle.files[h]) for h in record.files],
            )
        self._set(db, "applied_upto", verdict.records[-1].seq)
        return Outcome("applied", len(verdict.records))

    def _drain_held(self, db: sqlite3.Connection) -> int:
        applied = 0
        progress = True
        while progress:
            progress = False
            for row in db.execute("SELECT * FROM held ORDER BY first_seq").fetchall():
                db.execute("DELETE FROM held WHERE bundle_id = ?", (row["bundle_id"],))
                verified = verify_bundle(row["content"], me=ME, peer=PEER, keys=self._peer_keys(db))
                if isinstance(verified, Refusal):  # its key was removed meanwhile
                    self._quarantine(db, row["content"], None, verified.message)
                    continue
                outcome = self._settle(db, verified, row["content"])
                if outcome.kind == "applied":
                    applied += outcome.count
                    progress = True
                    break
        return applied

    def _take_ack(self, db: sqlite3.Connection, ack: int) -> None:
        """Release the portal's records up to ``ack`` (never past what it numbered)."""
        acked = min(ack, self._get(db, "next_seq") - 1)
        if acked > self._get(db, "acked_upto"):
            db.execute("DELETE FROM outbox WHERE seq <= ?", (acked,))
            self._set(db, "acked_upto", acked)

    def _quarantine(
        self, db: sqlite3.Connection, data: bytes, name: str | None, reason: str
    ) -> None:
        given = PureWindowsPath(PurePosixPath(name).name).name if name else ""
        if not given.endswith(SUFFIX) or given.startswith("."):
            given = f"received-{self._now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}{SUFFIX}"
        final = _free_name(self.quarantine_dir, given)
        write_atomically(self.quarantine_dir, final + REASON_SUFFIX, reason.encode("utf-8"))
        write_atomically(self.quarantine_dir, final, data)
        db.execute(
            "INSERT INTO quarantine (name, reason, at) VALUES (?, ?, ?)",
            (final, reason, stamp(self._now())),
        )

    # --- looking -------------------------------------------------------------------------------

    def received(self, type: str | None = None) -> list[Record]:
        """The intranet's records the portal applied, in seq order (of one ``type``)."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT * FROM received WHERE ? IS NULL OR type = ? ORDER BY seq", (type, type)
            ).fetchall()
        return [_record_from_row(row) for row in rows]

    def file(self, sha256: str) -> bytes:
        """A file the portal holds (its own materials, or one a received record named)."""
        with self._tx() as db:
            return self._file(db, sha256)

    def quarantined(self) -> list[tuple[str, str]]:
        """``(file name in quarantine/, reason)`` of every refused bundle, oldest first."""
        with self._tx() as db:
            rows = db.execute("SELECT name, reason FROM quarantine ORDER BY id").fetchall()
        return [(row["name"], row["reason"]) for row in rows]

    def status(self) -> dict[str, Any]:
        with self._tx() as db:
            meta = {k: self._get(db, k) for k in _META}
            counts = {
                table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table in ("outbox", "received", "held", "quarantine")
            }
            held = db.execute("SELECT min(first_seq) FROM held").fetchone()[0]
            peers = db.execute("SELECT key_id, retired_at FROM peer_keys").fetchall()
        gap = f"{meta['applied_upto'] + 1}-{held - 1}" if held else ""
        return {
            "node": ME.value,
            "key_id": self.key_id,
            "peer_keys": ", ".join(
                p["key_id"] + (f" (retired {p['retired_at']})" if p["retired_at"] else "")
                for p in peers
            ),
            "last_seq": meta["next_seq"] - 1,
            "acked_upto": meta["acked_upto"],
            "waiting": counts["outbox"],
            "applied_upto": meta["applied_upto"],
            "received": counts["received"],
            "held": counts["held"],
            "gap": gap,
            "quarantined": counts["quarantine"],
            "public_key": self.public_key,
        }

    # --- the two ways to connect -----------------------------------------------------------

    def step_files(self, intranet_dir: Path | str) -> FerryReport:
        """One exchange as ferry and portal together: take every bundle of the intranet's
        ``out/`` (removing it there, as a ferry moves it), then write the portal's next
        bundle, if any, atomically into the intranet's ``in/``."""
        folder = Path(intranet_dir)
        report = FerryReport()
        for path in bundle_files_in(folder / "out"):
            outcome = self.receive_bundle(path.read_bytes(), path.name)
            path.unlink()
            report.taken.append((path.name, outcome))
        built = self.write_bundle()
        if built is not None:
            write_atomically(folder / "in", built.name, built.data)
            return FerryReport(report.taken, built.name)
        return report

    def write_into(self, folder: Path | str) -> str | None:
        """The portal's next bundle written atomically into ``folder``; its name, or None."""
        built = self.write_bundle()
        if built is None:
            return None
        write_atomically(Path(folder), built.name, built.data)
        return built.name

    def serve_http(
        self, port: int = 0, host: str = "127.0.0.1", **options: Any
    ) -> tuple[str, Callable[[], None]]:
        """The gateway on ``host:port`` in a thread: ``(base URL, stop)``. ``options`` go to
        ``tools.sync_portal.gateway.start`` (``interfere``: faults for tests)."""
        from tools.sync_portal.gateway import start

        return start(self, host, port, **options)

    # --- storage ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.state_dir / DB_FILE, timeout=60, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    @staticmethod
    def _get(db: sqlite3.Connection, key: str) -> int:
        return int(db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])

    @staticmethod
    def _set(db: sqlite3.Connection, key: str, value: int) -> None:
        db.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))

    @staticmethod
    def _file(db: sqlite3.Connection, sha256: str) -> bytes:
        row = db.execute("SELECT content FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            raise KeyError(sha256)
        return bytes(row["content"])

    @staticmethod
    def _peer_keys(db: sqlite3.Connection) -> dict[str, PeerKey]:
        keys = []
        for row in db.execute("SELECT public_key, retired_at FROM peer_keys"):
            retired = (
                datetime.strptime(row["retired_at"], STAMP_FORMAT).replace(tzinfo=UTC)
                if row["retired_at"]
                else None
            )
            keys.append(PeerKey(base64.b64decode(row["public_key"]), retired))
        return keys_by_id(keys)
