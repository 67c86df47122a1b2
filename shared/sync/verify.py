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
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.enums import LabelledEnum
from shared.sync.bundle import (
    FILES_PREFIX,
    FORMAT,
    MANIFEST,
    MAX_BUNDLE_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_MEMBERS,
    MAX_RECORDS,
    MAX_RECORDS_BYTES,
    MAX_SEQ,
    MAX_SIGNATURE_BYTES,
    MAX_UNPACKED_BYTES,
    RECORDS,
    SIGNATURE,
    STAMP_FORMAT,
    FileEntry,
    Manifest,
    Record,
    is_uuid4,
)
from shared.sync.keys import Node, PeerKey


class RefusalReason(LabelledEnum):
    """Why a bundle was quarantined; the value is stable and may be stored and compared."""

    not_zip = ("not_zip", "文件不是完整的 ZIP 压缩包，可能仍在传输中或已损坏")
    too_large = ("too_large", "同步包超出接收限制")
    bad_zip = ("bad_zip", "压缩包内的成员无法读取（数据损坏、校验不符、已加密或压缩方式不受支持）")
    missing_member = ("missing_member", "同步包缺少必需的成员")
    extra_member = ("extra_member", "同步包含有协议之外的成员")
    bad_manifest = ("bad_manifest", "清单 manifest.json 无法解析或字段不符合协议")
    bad_format = ("bad_format", "不是本协议版本的同步包")
    unknown_key = ("unknown_key", "签名密钥未登记，无法核验签名")
    bad_signature = ("bad_signature", "签名无效，清单可能被篡改")
    wrong_source = ("wrong_source", "同步包不是对端节点发出的")
    wrong_target = ("wrong_target", "同步包不是发给本节点的")
    retired_key = ("retired_key", "签名密钥已停用，而同步包生成于停用之后")
    bad_ack_only = ("bad_ack_only", "仅含确认号的同步包不应带有记录或附件")
    records_hash_mismatch = ("records_hash_mismatch", "记录内容与清单中的摘要不符")
    file_missing = ("file_missing", "清单列出的附件不在同步包中")
    file_unlisted = ("file_unlisted", "同步包中有清单未列出的附件")
    file_size_mismatch = ("file_size_mismatch", "附件大小与清单不符")
    file_hash_mismatch = ("file_hash_mismatch", "附件内容与其 SHA-256 摘要不符")
    bad_records = ("bad_records", "记录无法解析或字段不符合协议")
    seq_mismatch = ("seq_mismatch", "记录序号不连续，或与清单的起止序号不符")
    record_file_unlisted = ("record_file_unlisted", "记录引用的附件不在本同步包中")


@dataclass(frozen=True)
class Refusal:
    reason: RefusalReason
    detail: str = ""

    @property
    def message(self) -> str:
        """The sentence for the quarantine's ``.reason.txt`` and the desk."""
        return f"{self.reason.label}：{self.detail}" if self.detail else self.reason.label


@dataclass(frozen=True)
class VerifiedBundle:
    manifest: Manifest
    records: tuple[Record, ...]
    files: Mapping[str, bytes]


class _RefusedError(Exception):
    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.refusal = Refusal(reason, detail)


_SHA256 = re.compile(r"[0-9a-f]{64}")
_STAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_MANIFEST_FIELDS = {
    "format",
    "bundle_id",
    "source",
    "target",
    "key_id",
    "created_at",
    "first_seq",
    "last_seq",
    "ack",
    "records_sha256",
    "files",
}
_RECORD_FIELDS = {"seq", "id", "type", "at", "data", "files"}
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
    except _RefusedError as refused:
        return refused.refusal


def _verify(data: bytes, me: Node, peer: Node, keys: Mapping[str, PeerKey]) -> VerifiedBundle:
    if len(data) > MAX_BUNDLE_BYTES:
        raise _RefusedError(
            RefusalReason.too_large, f"文件 {len(data)} 字节，上限 {MAX_BUNDLE_BYTES}"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _UNREADABLE as err:
        raise _RefusedError(RefusalReason.not_zip) from err
    with archive:
        members = _members(archive)
        manifest_text = _read(archive, members[MANIFEST])
        manifest = _manifest(manifest_text, _read(archive, members[SIGNATURE]), me, peer, keys)
        records_text = _read(archive, members[RECORDS])
        if hashlib.sha256(records_text).hexdigest() != manifest.records_sha256:
            raise _RefusedError(RefusalReason.records_hash_mismatch)
        if manifest.ack_only and records_text:
            raise _RefusedError(RefusalReason.bad_ack_only, "records.ndjson 不为空")
        files = _files(archive, members, manifest.files)
        records = _records(records_text, manifest)
    return VerifiedBundle(manifest, records, files)


def _members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The members by name: only the four kinds, each name once, sizes within the limits."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _RefusedError(RefusalReason.too_large, f"{len(infos)} 个成员，上限 {MAX_MEMBERS}")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        known = name in (MANIFEST, SIGNATURE, RECORDS) or (
            name.startswith(FILES_PREFIX) and _SHA256.fullmatch(name[len(FILES_PREFIX) :])
        )
        if not known:
            raise _RefusedError(RefusalReason.extra_member, repr(name))
        if name in members:
            raise _RefusedError(RefusalReason.extra_member, f"{name!r} 出现两次")
        if info.flag_bits & 0x1:
            raise _RefusedError(RefusalReason.bad_zip, f"{name} 已加密")
        if info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
            raise _RefusedError(RefusalReason.bad_zip, f"{name} 的压缩方式为 {info.compress_type}")
        members[name] = info
    missing = [n for n in (MANIFEST, SIGNATURE, RECORDS) if n not in members]
    if missing:
        raise _RefusedError(RefusalReason.missing_member, "、".join(missing))
    total = sum(info.file_size for info in infos)
    if total > MAX_UNPACKED_BYTES:
        raise _RefusedError(
            RefusalReason.too_large, f"解压后 {total} 字节，上限 {MAX_UNPACKED_BYTES}"
        )
    for name, cap in (
        (MANIFEST, MAX_MANIFEST_BYTES),
        (SIGNATURE, MAX_SIGNATURE_BYTES),
        (RECORDS, MAX_RECORDS_BYTES),
    ):
        if members[name].file_size > cap:
            raise _RefusedError(RefusalReason.too_large, f"{name} 超过 {cap} 字节")
    return members


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, never more than it declares; a member that inflates to another size
    than declared, or fails its CRC, is unreadable."""
    try:
        with archive.open(info) as member:
            content = member.read(info.file_size + 1)
    except _UNREADABLE as err:
        raise _RefusedError(RefusalReason.bad_zip, f"{info.filename}：{err}") from err
    if len(content) != info.file_size:
        raise _RefusedError(RefusalReason.bad_zip, f"{info.filename}：实际大小与声明不符")
    return content


def _json(text: bytes) -> Any:
    """Strict JSON: UTF-8, no repeated key, no NaN or Infinity (the peer's parser may differ
    from ours on each, and a bundle must mean one thing)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(items)
        if len(result) != len(items):
            raise ValueError("repeated key")
        return result

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)


def _manifest(
    text: bytes, signature_text: bytes, me: Node, peer: Node, keys: Mapping[str, PeerKey]
) -> Manifest:
    try:
        fields = _json(text)
    except ValueError as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _RefusedError(RefusalReason.bad_manifest, str(err)) from err
    if not isinstance(fields, dict):
        raise _RefusedError(RefusalReason.bad_manifest, "不是 JSON 对象")
    if fields.get("format") != FORMAT:
        raise _RefusedError(RefusalReason.bad_format, f"format 为 {fields.get('format')!r}")
    key_id = fields.get("key_id")
    key = keys.get(key_id) if isinstance(key_id, str) else None
    if key is None:
        raise _RefusedError(RefusalReason.unknown_key, f"key_id {key_id!r}")
    _check_signature(key, signature_text, text)
    manifest = _manifest_fields(fields)
    if manifest.source != peer:
        raise _RefusedError(RefusalReason.wrong_source, f"source 为 {manifest.source.value}")
    if manifest.target != me:
        raise _RefusedError(RefusalReason.wrong_target, f"target 为 {manifest.target.value}")
    if not key.accepts(manifest.created_at):
        raise _RefusedError(RefusalReason.retired_key, f"key_id {key_id}")
    if manifest.ack_only and manifest.files:
        raise _RefusedError(RefusalReason.bad_ack_only, "清单列有附件")
    return manifest


def _check_signature(key: PeerKey, signature_text: bytes, signed: bytes) -> None:
    """Only the canonical 88 characters are a signature: no newline, no other padding bits."""
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except binascii.Error as err:
        raise _RefusedError(RefusalReason.bad_signature, "signature 不是标准 Base64") from err
    if len(signature) != 64 or base64.b64encode(signature) != signature_text:
        raise _RefusedError(RefusalReason.bad_signature, "signature 不是 64 字节签名的标准 Base64")
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, signed)
    except InvalidSignature as err:
        raise _RefusedError(RefusalReason.bad_signature) from err


def _int(value: Any, low: int, what: str, reason: RefusalReason) -> int:
    if type(value) is not int or not low <= value <= MAX_SEQ:
        raise _RefusedError(reason, f"{what} 应为 {low}…{MAX_SEQ} 的整数")
    return value


def _uuid4(value: Any, what: str, reason: RefusalReason) -> UUID:
    try:
        parsed = UUID(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != value or not is_uuid4(parsed):
        raise _RefusedError(reason, f"{what} 应为小写的 uuid4")
    return parsed


def _instant(value: Any, what: str, reason: RefusalReason) -> datetime:
    try:
        if isinstance(value, str) and _STAMP.fullmatch(value):
            return datetime.strptime(value, STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        pass
    raise _RefusedError(reason, f"{what} 应为 YYYY-MM-DDTHH:MM:SSZ")


def _sha256(value: Any, what: str, reason: RefusalReason) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise _RefusedError(reason, f"{what} 应为 64 位小写十六进制")
    return value


def _manifest_fields(fields: dict[str, Any]) -> Manifest:
    bad = RefusalReason.bad_manifest
    if fields.keys() != _MANIFEST_FIELDS:
        raise _RefusedError(bad, f"字段应恰为 {', '.join(sorted(_MANIFEST_FIELDS))}")
    nodes = {node.value: node for node in Node}
    if fields["source"] not in nodes or fields["target"] not in nodes:
        raise _RefusedError(bad, "source、target 应为 intranet 或 portal")
    first_seq = _int(fields["first_seq"], 1, "first_seq", bad)
    last_seq = _int(fields["last_seq"], first_seq - 1, "last_seq", bad)
    if not isinstance(fields["files"], list):
        raise _RefusedError(bad, "files 应为数组")
    entries = []
    for item in fields["files"]:
        if not isinstance(item, dict) or item.keys() != {"sha256", "size"}:
            raise _RefusedError(bad, "files 的每一项应恰有 sha256、size")
        size = item["size"]
        if type(size) is not int or size < 0:
            raise _RefusedError(bad, "files 的 size 应为非负整数")
        entries.append(FileEntry(_sha256(item["sha256"], "files 的 sha256", bad), size))
    if len({e.sha256 for e in entries}) != len(entries):
        raise _RefusedError(bad, "files 中有重复的附件")
    return Manifest(
        bundle_id=_uuid4(fields["bundle_id"], "bundle_id", bad),
        source=nodes[fields["source"]],
        target=nodes[fields["target"]],
        key_id=fields["key_id"],
        created_at=_instant(fields["created_at"], "created_at", bad),
        first_seq=first_seq,
        last_seq=last_seq,
        ack=_int(fields["ack"], 0, "ack", bad),
        records_sha256=_sha256(fields["records_sha256"], "records_sha256", bad),
        files=tuple(entries),
    )


def _files(
    archive: zipfile.ZipFile, members: Mapping[str, zipfile.ZipInfo], listed: tuple[FileEntry, ...]
) -> dict[str, bytes]:
    present = {name[len(FILES_PREFIX) :] for name in members if name.startswith(FILES_PREFIX)}
    wanted = {entry.sha256 for entry in listed}
    if wanted - present:
        raise _RefusedError(RefusalReason.file_missing, "、".join(sorted(wanted - present)))
    if present - wanted:
        raise _RefusedError(RefusalReason.file_unlisted, "、".join(sorted(present - wanted)))
    files: dict[str, bytes] = {}
    for entry in listed:
        info = members[FILES_PREFIX + entry.sha256]
        if info.file_size != entry.size:
            raise _RefusedError(
                RefusalReason.file_size_mismatch,
                f"{entry.sha256}：清单 {entry.size} 字节，实有 {info.file_size} 字节",
            )
        content = _read(archive, info)
        if hashlib.sha256(content).hexdigest() != entry.sha256:
            raise _RefusedError(RefusalReason.file_hash_mismatch, entry.sha256)
        files[entry.sha256] = content
    return files


def _records(text: bytes, manifest: Manifest) -> tuple[Record, ...]:
    """Each line one record, the last newline optional; seqs exactly first_seq…last_seq."""
    lines = text.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    expected = manifest.last_seq - manifest.first_seq + 1
    if len(lines) > MAX_RECORDS:
        raise _RefusedError(RefusalReason.too_large, f"{len(lines)} 条记录，上限 {MAX_RECORDS}")
    listed = {entry.sha256 for entry in manifest.files}
    records: list[Record] = []
    ids: set[UUID] = set()
    for number, line in enumerate(lines, start=1):
        record = _record(line, number)
        if record.seq != manifest.first_seq + len(records):
            raise _RefusedError(
                RefusalReason.seq_mismatch,
                f"第 {number} 行 seq 为 {record.seq}，应为 {manifest.first_seq + len(records)}",
            )
        if record.id in ids:
            raise _RefusedError(RefusalReason.bad_records, f"第 {number} 行 id 重复")
        unlisted = set(record.files) - listed
        if unlisted:
            raise _RefusedError(RefusalReason.record_file_unlisted, "、".join(sorted(unlisted)))
        ids.add(record.id)
        records.append(record)
    if len(records) != expected:
        raise _RefusedError(
            RefusalReason.seq_mismatch,
            f"清单为 {manifest.first_seq}…{manifest.last_seq}，应有 {expected} 条，"
            f"实有 {len(records)} 条",
        )
    return tuple(records)


def _record(line: bytes, number: int) -> Record:
    bad = RefusalReason.bad_records
    try:
        fields = _json(line)
    except ValueError as err:
        raise _RefusedError(bad, f"第 {number} 行：{err}") from err
    if not isinstance(fields, dict):
        raise _RefusedError(bad, f"第 {number} 行：不是 JSON 对象")
    if fields.keys() != _RECORD_FIELDS:
        raise _RefusedError(bad, f"第 {number} 行：字段应恰为 {', '.join(sorted(_RECORD_FIELDS))}")
    where = f"第 {number} 行"
    if not isinstance(fields["type"], str) or not fields["type"]:
        raise _RefusedError(bad, f"{where}：type 应为非空字符串")
    if not isinstance(fields["data"], dict):
        raise _RefusedError(bad, f"{where}：data 应为 JSON 对象")
    files = fields["files"]
    if not isinstance(files, list):
        raise _RefusedError(bad, f"{where}：files 应为数组")
    hashes = tuple(_sha256(h, f"{where} files", bad) for h in files)
    if len(set(hashes)) != len(hashes):
        raise _RefusedError(bad, f"{where}：files 中有重复的附件")
    return Record(
        seq=_int(fields["seq"], 1, f"{where} seq", bad),
        id=_uuid4(fields["id"], f"{where} id", bad),
        type=fields["type"],
        at=_instant(fields["at"], f"{where} at", bad),
        data=fields["data"],
        files=hashes,
    )
