"""A bundle's records and manifest, and building the signed ZIP (docs/sync.md "The bundle").

The builder refuses (``ValueError``) everything the verifier would refuse, so a bundle this
node writes never lands in its peer's quarantine for a reason of ours. Its output is a function
of its inputs alone: members in a fixed order, each stamped with ``created_at``, attachments in
hash order, and every record's ``data`` written with sorted keys, so a record numbered once
is the same line in every bundle that carries it, however its storage orders a JSON object.
"""

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.sync.keys import Node, key_id_of, raw_public_key

FORMAT = "sgss-bundle/1"
SUFFIX = ".sgssb"
MANIFEST = "manifest.json"
SIGNATURE = "signature"
RECORDS = "records.ndjson"
FILES_PREFIX = "files/"
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

MAX_SEQ = 2**63 - 1
"""The largest seq or ack: a signed 64-bit column holds it on both engines."""
MAX_BUNDLE_BYTES = 320 * 2**20
"""The bundle file itself, before it is opened."""
MAX_UNPACKED_BYTES = 256 * 2**20
"""All members together, as their ZIP entries declare them before anything is inflated."""
MAX_FILES = 10_000
MAX_MEMBERS = 3 + MAX_FILES
MAX_RECORDS = 10_000
MAX_RECORDS_BYTES = 64 * 2**20
MAX_MANIFEST_BYTES = 2 * 2**20
"""10,000 file entries take about 0.9 MB."""
MAX_SIGNATURE_BYTES = 1024
"""Far above the 88 characters of a signature: a longer member is refused unread."""


@dataclass(frozen=True)
class Record:
    """One record of a node's outbound stream; ``files`` are SHA-256s of the bundle's files."""

    seq: int
    id: UUID
    type: str
    at: datetime
    data: Mapping[str, Any]
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """The signed description of a bundle; ``format`` is always ``FORMAT``."""

    bundle_id: UUID
    source: Node
    target: Node
    key_id: str
    created_at: datetime
    first_seq: int
    last_seq: int
    ack: int
    records_sha256: str
    files: tuple[FileEntry, ...] = field(default=())

    @property
    def ack_only(self) -> bool:
        return self.first_seq == self.last_seq + 1

    @property
    def file_name(self) -> str:
        return bundle_file_name(self.source, self.target, self.first_seq, self.last_seq)


@dataclass(frozen=True)
class BuiltBundle:
    name: str
    data: bytes
    manifest: Manifest


def bundle_file_name(source: Node, target: Node, first_seq: int, last_seq: int) -> str:
    """``<source>-<target>-<first_seq>-<last_seq>.sgssb``, each seq at least 12 digits."""
    return f"{source.value}-{target.value}-{first_seq:012d}-{last_seq:012d}{SUFFIX}"


def stamp(moment: datetime) -> str:
    """An instant as the wire writes it: UTC, whole seconds (a fraction is dropped)."""
    if moment.tzinfo is None:
        raise ValueError("a time on the wire must carry its time zone")
    return moment.astimezone(UTC).strftime(STAMP_FORMAT)


def is_uuid4(value: UUID) -> bool:
    return value.variant == "specified in RFC 4122" and value.version == 4


def manifest_bytes(manifest: Manifest) -> bytes:
    """The exact bytes of ``manifest.json``: compact UTF-8 JSON, fields in SYNC.md's order."""
    fields = {
        "format": FORMAT,
        "bundle_id": str(manifest.bundle_id),
        "source": manifest.source.value,
        "target": manifest.target.value,
        "key_id": manifest.key_id,
        "created_at": stamp(manifest.created_at),
        "first_seq": manifest.first_seq,
        "last_seq": manifest.last_seq,
        "ack": manifest.ack,
        "records_sha256": manifest.records_sha256,
        "files": [{"sha256": f.sha256, "size": f.size} for f in manifest.files],
    }
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def record_line(record: Record) -> bytes:
    """One line of ``records.ndjson``, newline included. ``data`` must be JSON (string keys,
    finite numbers); its keys are sorted at every depth."""
    data = json.loads(json.dumps(record.data, sort_keys=True, allow_nan=False))
    if not isinstance(data, dict):
        raise ValueError(f"record {record.seq}: data must be a JSON object")
    fields = {
        "seq": record.seq,
        "id": str(record.id),
        "type": record.type,
        "at": stamp(record.at),
        "data": data,
        "files": list(record.files),
    }
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8") + b"\n"


def _check_records(first_seq: int, records: Sequence[Record], files: Mapping[str, bytes]) -> None:
    if not 1 <= first_seq <= MAX_SEQ or first_seq + len(records) - 1 > MAX_SEQ:
        raise ValueError("seq out of range")
    if len(records) > MAX_RECORDS:
        raise ValueError(f"at most {MAX_RECORDS} records a bundle: split it")
    ids: set[UUID] = set()
    named: set[str] = set()
    for offset, record in enumerate(records):
        if record.seq != first_seq + offset:
            raise ValueError(f"record seq {record.seq} where {first_seq + offset} belongs")
        if not is_uuid4(record.id) or record.id in ids:
            raise ValueError(f"record {record.seq}: id must be a fresh uuid4")
        if not isinstance(record.type, str) or not record.type:
            raise ValueError(f"record {record.seq}: type must be a non-empty string")
        if len(set(record.files)) != len(record.files):
            raise ValueError(f"record {record.seq}: a file named twice")
        missing = set(record.files) - files.keys()
        if missing:
            raise ValueError(f"record {record.seq} names files not in the bundle: {missing}")
        ids.add(record.id)
        named.update(record.files)
    unnamed = files.keys() - named
    if unnamed:
        raise ValueError(f"files no record names: {sorted(unnamed)}")


def _zip(members: Iterable[tuple[str, bytes]], created_at: datetime) -> bytes:
    """Deflate every member, stamped with ``created_at`` and Unix attributes, so the bytes do
    not depend on the machine that writes them."""
    moment = created_at.astimezone(UTC)
    date_time = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            out.writestr(info, content)
    return buffer.getvalue()


def build_bundle(
    *,
    source: Node,
    target: Node,
    first_seq: int,
    records: Sequence[Record],
    files: Iterable[bytes],
    ack: int,
    private_key: Ed25519PrivateKey,
    bundle_id: UUID,
    created_at: datetime,
) -> BuiltBundle:
    """A signed bundle carrying ``records`` (seqs ``first_seq`` on, contiguous) and the files
    they name. With no records it is an ack-only bundle and ``first_seq`` is the sender's next
    seq. ``bundle_id`` (a fresh uuid4) and ``created_at`` are the caller's, so the same inputs
    give the same bytes."""
    if source == target:
        raise ValueError("a bundle goes from one node to the other")
    if not is_uuid4(bundle_id):
        raise ValueError("bundle_id must be a uuid4")
    if not 0 <= ack <= MAX_SEQ:
        raise ValueError("ack out of range")
    by_hash = {hashlib.sha256(content).hexdigest(): content for content in files}
    if len(by_hash) > MAX_FILES:
        raise ValueError(f"at most {MAX_FILES} files a bundle: split it")
    _check_records(first_seq, records, by_hash)
    records_bytes = b"".join(record_line(r) for r in records)
    if len(records_bytes) > MAX_RECORDS_BYTES:
        raise ValueError(f"records.ndjson over {MAX_RECORDS_BYTES} bytes: split the bundle")
    hashes = sorted(by_hash)
    manifest = Manifest(
        bundle_id=bundle_id,
        source=source,
        target=target,
        key_id=key_id_of(raw_public_key(private_key)),
        created_at=datetime.strptime(stamp(created_at), STAMP_FORMAT).replace(tzinfo=UTC),
        first_seq=first_seq,
        last_seq=first_seq + len(records) - 1,
        ack=ack,
        records_sha256=hashlib.sha256(records_bytes).hexdigest(),
        files=tuple(FileEntry(h, len(by_hash[h])) for h in hashes),
    )
    manifest_text = manifest_bytes(manifest)
    signature = base64.b64encode(private_key.sign(manifest_text))
    members = [
        (MANIFEST, manifest_text),
        (SIGNATURE, signature),
        (RECORDS, records_bytes),
        *((FILES_PREFIX + h, by_hash[h]) for h in hashes),
    ]
    total = sum(len(content) for _, content in members)
    if len(manifest_text) > MAX_MANIFEST_BYTES or total > MAX_UNPACKED_BYTES:
        raise ValueError(f"bundle over {MAX_UNPACKED_BYTES} bytes unpacked: split it")
    data = _zip(members, manifest.created_at)
    if len(data) > MAX_BUNDLE_BYTES:
        raise ValueError(f"bundle over {MAX_BUNDLE_BYTES} bytes: split it")
    return BuiltBundle(manifest.file_name, data, manifest)
