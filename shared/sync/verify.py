"""Verify a whole bundle before anything of it is applied (SYNC.md "Receiving", step 1).

The answer is data, never an exception: a ``VerifiedBundle`` or a ``Refusal`` whose reason is a
stable code with a Chinese sentence, so the receiver can quarantine the file with a reason a
person reads and the desk can show it. The checks run in the order of the contract, except that
the signature is checked as soon as the key id can be read: every later reason then describes
what the peer really signed, not what a flipped byte made of it.

Sizes are bounded before anything is inflated (docs/sync.md "Limits"): the file, the member
count, the sizes the ZIP declares, and each member is read no further than its declared size,
so a small file cannot make the receiver hold or inflate more than ``MAX_UNPACKED_BYTES``.
"""

import base64
import binascii
import hashlib
import io
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.sync.bundle import (
    FILES_PREFIX,
    FORMAT,
    MANIFEST,
    MAX_BUNDLE_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_MEMBERS,
    MAX_RECORDS,
    MAX_RECORDS_BYTES,
    MAX_SIGNATURE_BYTES,
    MAX_UNPACKED_BYTES,
    RECORDS,
    SIGNATURE,
    FileEntry,
    Manifest,
    Record,
)
from shared.sync.fields import (
    SHA256_HEX,
    json_problem,
    read_manifest,
    read_record,
    strict_json,
)
from shared.sync.keys import Node, PeerKey
from shared.sync.refusals import Refusal, RefusalReason, RefusedError


@dataclass(frozen=True)
class VerifiedBundle:
    manifest: Manifest
    records: tuple[Record, ...]
    files: Mapping[str, bytes]


_UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    OverflowError,
    struct.error,
    NotImplementedError,
    RuntimeError,
)
"""What ``zipfile`` raises on damaged structures; ValueError covers a name that is not UTF-8."""


def verify_bundle(
    data: bytes, *, me: Node, peer: Node, keys: Mapping[str, PeerKey]
) -> VerifiedBundle | Refusal:
    """Every check of the contract over the bundle ``data`` that ``peer`` sent ``me``, signed
    by one of ``keys`` (by key id)."""
    try:
        return _verify(data, me, peer, keys)
    except RefusedError as refused:
        return refused.refusal


def claimed_seqs(data: bytes) -> tuple[int, int] | None:
    """The (first_seq, last_seq) a bundle's manifest claims, its signature NOT checked (for a
    bundle refused for its key: what it would be if verified); None when unreadable."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            fields = strict_json(_read(archive, _members(archive)[MANIFEST]))
        if not isinstance(fields, dict):
            return None
        manifest = read_manifest(fields)
    except (RefusedError, ValueError, KeyError, *_UNREADABLE):
        return None
    return manifest.first_seq, manifest.last_seq


def _verify(data: bytes, me: Node, peer: Node, keys: Mapping[str, PeerKey]) -> VerifiedBundle:
    if len(data) > MAX_BUNDLE_BYTES:
        raise RefusedError(
            RefusalReason.too_large, f"文件 {len(data)} 字节，上限 {MAX_BUNDLE_BYTES}"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _UNREADABLE as err:
        raise RefusedError(RefusalReason.not_zip) from err
    with archive:
        members = _members(archive)
        manifest_text = _read(archive, members[MANIFEST])
        manifest = _manifest(manifest_text, _read(archive, members[SIGNATURE]), me, peer, keys)
        records_text = _read(archive, members[RECORDS])
        if hashlib.sha256(records_text).hexdigest() != manifest.records_sha256:
            raise RefusedError(RefusalReason.records_hash_mismatch)
        if manifest.ack_only and records_text:
            raise RefusedError(RefusalReason.bad_ack_only, "records.ndjson 不为空")
        files = _files(archive, members, manifest.files)
        records = _records(records_text, manifest)
    return VerifiedBundle(manifest, records, files)


def _members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The members by name: only the four kinds, each name once, sizes within the limits."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise RefusedError(RefusalReason.too_large, f"{len(infos)} 个成员，上限 {MAX_MEMBERS}")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        known = name in (MANIFEST, SIGNATURE, RECORDS) or (
            name.startswith(FILES_PREFIX) and SHA256_HEX.fullmatch(name[len(FILES_PREFIX) :])
        )
        if not known:
            raise RefusedError(RefusalReason.extra_member, repr(name))
        if name in members:
            raise RefusedError(RefusalReason.extra_member, f"{name!r} 出现两次")
        if info.flag_bits & 0x1:
            raise RefusedError(RefusalReason.bad_zip, f"{name} 已加密")
        if info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
            raise RefusedError(RefusalReason.bad_zip, f"{name} 的压缩方式为 {info.compress_type}")
        members[name] = info
    missing = [n for n in (MANIFEST, SIGNATURE, RECORDS) if n not in members]
    if missing:
        raise RefusedError(RefusalReason.missing_member, "、".join(missing))
    total = sum(info.file_size for info in infos)
    if total > MAX_UNPACKED_BYTES:
        raise RefusedError(
            RefusalReason.too_large, f"解压后 {total} 字节，上限 {MAX_UNPACKED_BYTES}"
        )
    for name, cap in (
        (MANIFEST, MAX_MANIFEST_BYTES),
        (SIGNATURE, MAX_SIGNATURE_BYTES),
        (RECORDS, MAX_RECORDS_BYTES),
    ):
        if members[name].file_size > cap:
            raise RefusedError(RefusalReason.too_large, f"{name} 超过 {cap} 字节")
    return members


def _zip_problem(err: Exception) -> str:
    """Why a member could not be read, in Chinese: zipfile's and zlib's messages are English
    and the reason is shown to an administrator on the desk."""
    if isinstance(err, zipfile.BadZipFile) and "CRC" in str(err):
        return "CRC 校验值不符，内容已损坏"
    if isinstance(err, zipfile.BadZipFile) and "differ" in str(err):
        return "成员的文件头与目录不一致，结构已损坏"
    if isinstance(err, zlib.error):
        return "解压失败，压缩数据已损坏"
    if isinstance(err, EOFError):
        return "数据不完整（可能尚未复制完或被截断）"
    return "结构已损坏，无法读取"


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, never more than it declares; a member that inflates to another size
    than declared, or fails its CRC, is unreadable."""
    try:
        with archive.open(info) as member:
            content = member.read(info.file_size + 1)
    except _UNREADABLE as err:
        raise RefusedError(RefusalReason.bad_zip, f"{info.filename}：{_zip_problem(err)}") from err
    if len(content) != info.file_size:
        raise RefusedError(RefusalReason.bad_zip, f"{info.filename}：实际大小与声明不符")
    return content


def _manifest(
    text: bytes, signature_text: bytes, me: Node, peer: Node, keys: Mapping[str, PeerKey]
) -> Manifest:
    try:
        fields = strict_json(text)
    except ValueError as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise RefusedError(RefusalReason.bad_manifest, json_problem(err)) from err
    if not isinstance(fields, dict):
        raise RefusedError(RefusalReason.bad_manifest, "不是 JSON 对象")
    if fields.get("format") != FORMAT:
        raise RefusedError(RefusalReason.bad_format, f"format 为 {fields.get('format')!r}")
    key_id = fields.get("key_id")
    key = keys.get(key_id) if isinstance(key_id, str) else None
    if key is None:
        raise RefusedError(RefusalReason.unknown_key, f"key_id {key_id!r}")
    _check_signature(key, signature_text, text)
    manifest = read_manifest(fields)
    if manifest.source != peer:
        raise RefusedError(RefusalReason.wrong_source, f"source 为 {manifest.source.value}")
    if manifest.target != me:
        raise RefusedError(RefusalReason.wrong_target, f"target 为 {manifest.target.value}")
    if not key.accepts(manifest.created_at):
        raise RefusedError(RefusalReason.retired_key, f"key_id {key_id}")
    if manifest.ack_only and manifest.files:
        raise RefusedError(RefusalReason.bad_ack_only, "清单列有附件")
    return manifest


def _check_signature(key: PeerKey, signature_text: bytes, signed: bytes) -> None:
    """Only the canonical 88 characters are a signature: no newline, no other padding bits."""
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except binascii.Error as err:
        raise RefusedError(RefusalReason.bad_signature, "signature 不是标准 Base64") from err
    if len(signature) != 64 or base64.b64encode(signature) != signature_text:
        raise RefusedError(RefusalReason.bad_signature, "signature 不是 64 字节签名的标准 Base64")
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, signed)
    except InvalidSignature as err:
        raise RefusedError(RefusalReason.bad_signature) from err


def _files(
    archive: zipfile.ZipFile, members: Mapping[str, zipfile.ZipInfo], listed: tuple[FileEntry, ...]
) -> dict[str, bytes]:
    present = {name[len(FILES_PREFIX) :] for name in members if name.startswith(FILES_PREFIX)}
    wanted = {entry.sha256 for entry in listed}
    if wanted - present:
        raise RefusedError(RefusalReason.file_missing, "、".join(sorted(wanted - present)))
    if present - wanted:
        raise RefusedError(RefusalReason.file_unlisted, "、".join(sorted(present - wanted)))
    files: dict[str, bytes] = {}
    for entry in listed:
        info = members[FILES_PREFIX + entry.sha256]
        if info.file_size != entry.size:
            raise RefusedError(
                RefusalReason.file_size_mismatch,
                f"{entry.sha256}：清单 {entry.size} 字节，实有 {info.file_size} 字节",
            )
        content = _read(archive, info)
        if hashlib.sha256(content).hexdigest() != entry.sha256:
            raise RefusedError(RefusalReason.file_hash_mismatch, entry.sha256)
        files[entry.sha256] = content
    return files


def _records(text: bytes, manifest: Manifest) -> tuple[Record, ...]:
    """Each line one record, the last newline optional; seqs exactly first_seq…last_seq."""
    lines = text.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    expected = manifest.last_seq - manifest.first_seq + 1
    if len(lines) > MAX_RECORDS:
        raise RefusedError(RefusalReason.too_large, f"{len(lines)} 条记录，上限 {MAX_RECORDS}")
    listed = {entry.sha256 for entry in manifest.files}
    records: list[Record] = []
    ids: set[UUID] = set()
    for number, line in enumerate(lines, start=1):
        record = read_record(line, number)
        if record.seq != manifest.first_seq + len(records):
            raise RefusedError(
                RefusalReason.seq_mismatch,
                f"第 {number} 行 seq 为 {record.seq}，应为 {manifest.first_seq + len(records)}",
            )
        if record.id in ids:
            raise RefusedError(RefusalReason.bad_records, f"第 {number} 行 id 重复")
        unlisted = set(record.files) - listed
        if unlisted:
            raise RefusedError(RefusalReason.record_file_unlisted, "、".join(sorted(unlisted)))
        ids.add(record.id)
        records.append(record)
    if len(records) != expected:
        raise RefusedError(
            RefusalReason.seq_mismatch,
            f"清单为 {manifest.first_seq}…{manifest.last_seq}，应有 {expected} 条，"
            f"实有 {len(records)} 条",
        )
    return tuple(records)
