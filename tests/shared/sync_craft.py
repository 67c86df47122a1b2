"""Keys, sample records and a bundle surgeon for the sync codec tests.

``KEY`` is RFC 8032's first Ed25519 test vector, so its public key, and from it the key id,
come from outside this code base. ``repack`` rebuilds a bundle from its members after a change,
re-signing the manifest with any key, which is how each refusal is reached on its own.
"""

import base64
import hashlib
import io
import json
import struct
import warnings
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.sync.bundle import BuiltBundle, Record, build_bundle
from shared.sync.keys import Node, PeerKey, keys_by_id

KEY = Ed25519PrivateKey.from_private_bytes(
    bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
)
KEY_PUBLIC_HEX = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
KEY_ID = "21fe31dfa154a261"  # sha256sum of the 32 bytes above, first 16 digits
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEYS = keys_by_id([PeerKey(bytes.fromhex(KEY_PUBLIC_HEX))])

CREATED = datetime(2026, 11, 30, 8, 0, 0, tzinfo=UTC)
HELLO = b"hello"
HELLO_SHA = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
PDF = b"%PDF-1.7 not really a PDF, but bytes all the same\n" * 3
PDF_SHA = hashlib.sha256(PDF).hexdigest()


def uuid4(n: int) -> UUID:
    """The n-th fixed uuid4 of the tests (version and variant bits set by hand)."""
    return UUID(f"00000000-0000-4000-8000-{n:012x}")


def sample_records(first_seq: int = 41) -> list[Record]:
    return [
        Record(
            seq=first_seq,
            id=uuid4(first_seq),
            type="application.submitted",
            at=datetime(2026, 11, 30, 7, 59, 12, tzinfo=UTC),
            data={"external_ref": "WB-2026-0001", "applicant_name": "杭州平安保安服务有限公司"},
            files=(HELLO_SHA, PDF_SHA),
        ),
        Record(
            seq=first_seq + 1,
            id=uuid4(first_seq + 1),
            type="payment.confirmed",
            at=datetime(2026, 11, 30, 7, 59, 40, tzinfo=UTC),
            data={"external_ref": "WB-2026-0001", "amount_fen": 5000, "receipt_no": "R-1"},
        ),
    ]


def portal_bundle(
    records: list[Record] | None = None,
    *,
    first_seq: int = 41,
    files: tuple[bytes, ...] = (HELLO, PDF),
    key: Ed25519PrivateKey = KEY,
) -> BuiltBundle:
    """A valid bundle the portal sends the intranet."""
    return build_bundle(
        source=Node.portal,
        target=Node.intranet,
        first_seq=first_seq,
        records=sample_records(first_seq) if records is None else records,
        files=files,
        ack=1203,
        private_key=key,
        bundle_id=uuid4(7),
        created_at=CREATED,
    )


def unpack(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def pack(
    members: dict[str, bytes] | list[tuple[str, bytes]],
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    items = members.items() if isinstance(members, dict) else members
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a repeated name, which one test wants
        with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
            for name, content in items:
                archive.writestr(name, content)
    return buffer.getvalue()


def sign(manifest: bytes, key: Ed25519PrivateKey = KEY) -> bytes:
    return base64.b64encode(key.sign(manifest))


def repack(
    data: bytes,
    *,
    manifest: Callable[[dict[str, Any]], None] | None = None,
    members: Callable[[dict[str, bytes]], None] | None = None,
    key: Ed25519PrivateKey = KEY,
) -> bytes:
    """``data`` with its members changed by ``members`` and then its manifest fields by
    ``manifest`` (re-signed with ``key``; records_sha256 follows records.ndjson)."""
    parts = unpack(data)
    if members is not None:
        members(parts)
    if manifest is not None:
        fields = json.loads(parts["manifest.json"])
        fields["records_sha256"] = hashlib.sha256(parts.get("records.ndjson", b"")).hexdigest()
        manifest(fields)
        parts["manifest.json"] = json.dumps(fields, ensure_ascii=False).encode("utf-8")
        parts["signature"] = sign(parts["manifest.json"], key)
    return pack(parts)


def resign_raw(
    data: bytes, change: Callable[[bytes], bytes], key: Ed25519PrivateKey = KEY
) -> bytes:
    """``data`` with the manifest's bytes changed by ``change`` and signed again as they are."""
    parts = unpack(data)
    parts["manifest.json"] = change(parts["manifest.json"])
    parts["signature"] = sign(parts["manifest.json"], key)
    return pack(parts)


def _central_entry(data: bytes, name: str) -> int:
    """The offset of ``name``'s entry in the central directory."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        position = archive.start_dir
    while data[position : position + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46 : position + 46 + name_length] == name.encode():
            return position
        position += 46 + name_length + extra_length + comment_length
    raise KeyError(name)


def patch_central(data: bytes, name: str, offset: int, fmt: str, value: int) -> bytes:
    """``data`` with one field of ``name``'s central directory entry overwritten (offset 8 is
    the flags, 24 the uncompressed size)."""
    out = bytearray(data)
    struct.pack_into(fmt, out, _central_entry(data, name) + offset, value)
    return bytes(out)


def payload_span(data: bytes, name: str) -> tuple[int, int]:
    """Where ``name``'s compressed bytes lie in ``data``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    return start, start + info.compress_size
