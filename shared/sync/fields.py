"""Reading the manifest and a record strictly: exactly the fields of the contract, each of its
type, and JSON that means one thing to every parser (no repeated key, no NaN).

Each reader raises ``RefusedError`` with the reason the caller names, so one set of rules
serves the manifest (``bad_manifest``) and the records (``bad_records``).
"""

import json
import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from shared.sync.bundle import MAX_SEQ, STAMP_FORMAT, FileEntry, Manifest, Record, is_uuid4
from shared.sync.keys import Node
from shared.sync.refusals import RefusalReason, RefusedError

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
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


def strict_json(text: bytes) -> Any:
    """Strict JSON: UTF-8, no repeated key, no NaN or Infinity (the peer's parser may differ
    from ours on each, and a bundle must mean one thing)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(items)
        if len(result) != len(items):
            raise ValueError("对象中有重复的键")
        return result

    def constant(name: str) -> Any:
        raise ValueError(f"{name} 不是合法的 JSON 值")

    return json.loads(text.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)


def json_problem(err: ValueError) -> str:
    """What ``strict_json`` refused, in Chinese (the reason the desk shows an administrator):
    Python's own messages are English."""
    if isinstance(err, UnicodeDecodeError):
        return f"不是 UTF-8 文本（第 {err.start + 1} 个字节）"
    if isinstance(err, json.JSONDecodeError):
        return f"JSON 格式错误（第 {err.lineno} 行第 {err.colno} 列）"
    return str(err)


def _int(value: Any, low: int, what: str, reason: RefusalReason) -> int:
    if type(value) is not int or not low <= value <= MAX_SEQ:
        raise RefusedError(reason, f"{what} 应为 {low}…{MAX_SEQ} 的整数")
    return value


def _uuid4(value: Any, what: str, reason: RefusalReason) -> UUID:
    try:
        parsed = UUID(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != value or not is_uuid4(parsed):
        raise RefusedError(reason, f"{what} 应为小写的 uuid4")
    return parsed


def _instant(value: Any, what: str, reason: RefusalReason) -> datetime:
    try:
        if isinstance(value, str) and _STAMP.fullmatch(value):
            return datetime.strptime(value, STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        pass
    raise RefusedError(reason, f"{what} 应为 YYYY-MM-DDTHH:MM:SSZ")


def _sha256(value: Any, what: str, reason: RefusalReason) -> str:
    if not isinstance(value, str) or not SHA256_HEX.fullmatch(value):
        raise RefusedError(reason, f"{what} 应为 64 位小写十六进制")
    return value


def read_manifest(fields: dict[str, Any]) -> Manifest:
    """The manifest's fields once its signature has verified (``key_id`` was read then)."""
    bad = RefusalReason.bad_manifest
    if fields.keys() != _MANIFEST_FIELDS:
        raise RefusedError(bad, f"字段应恰为 {', '.join(sorted(_MANIFEST_FIELDS))}")
    nodes = {node.value: node for node in Node}
    if fields["source"] not in nodes or fields["target"] not in nodes:
        raise RefusedError(bad, "source、target 应为 intranet 或 portal")
    first_seq = _int(fields["first_seq"], 1, "first_seq", bad)
    last_seq = _int(fields["last_seq"], first_seq - 1, "last_seq", bad)
    if not isinstance(fields["files"], list):
        raise RefusedError(bad, "files 应为数组")
    entries = []
    for item in fields["files"]:
        if not isinstance(item, dict) or item.keys() != {"sha256", "size"}:
            raise RefusedError(bad, "files 的每一项应恰有 sha256、size")
        size = item["size"]
        if type(size) is not int or size < 0:
            raise RefusedError(bad, "files 的 size 应为非负整数")
        entries.append(FileEntry(_sha256(item["sha256"], "files 的 sha256", bad), size))
    if len({e.sha256 for e in entries}) != len(entries):
        raise RefusedError(bad, "files 中有重复的附件")
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


def read_record(line: bytes, number: int) -> Record:
    """Line ``number`` (from 1) of records.ndjson, its newline removed."""
    bad, where = RefusalReason.bad_records, f"第 {number} 行"
    try:
        fields = strict_json(line)
    except ValueError as err:
        raise RefusedError(bad, f"{where}：{json_problem(err)}") from err
    if not isinstance(fields, dict):
        raise RefusedError(bad, f"{where}：不是 JSON 对象")
    if fields.keys() != _RECORD_FIELDS:
        raise RefusedError(bad, f"{where}：字段应恰为 {', '.join(sorted(_RECORD_FIELDS))}")
    if not isinstance(fields["type"], str) or not fields["type"]:
        raise RefusedError(bad, f"{where}：type 应为非空字符串")
    if not isinstance(fields["data"], dict):
        raise RefusedError(bad, f"{where}：data 应为 JSON 对象")
    files = fields["files"]
    if not isinstance(files, list):
        raise RefusedError(bad, f"{where}：files 应为数组")
    hashes = tuple(_sha256(h, f"{where} files", bad) for h in files)
    if len(set(hashes)) != len(hashes):
        raise RefusedError(bad, f"{where}：files 中有重复的附件")
    return Record(
        seq=_int(fields["seq"], 1, f"{where} seq", bad),
        id=_uuid4(fields["id"], f"{where} id", bad),
        type=fields["type"],
        at=_instant(fields["at"], f"{where} at", bad),
        data=fields["data"],
        files=hashes,
    )
