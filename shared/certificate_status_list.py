"""The signed status list: one nibble per certificate, at a random index, for offline checks.

A verifier that holds this list learns the status of any card it scans without asking the
server, and the list says nothing about whom an index belongs to (indices are drawn at random,
so neither the order of issue nor a neighbour's number can be read from it).

File (UTF-8 JSON, docs/certificates.md)::

    {"format": "sgss-status-list/1", "issued_at": "2026-03-02T01:00:00Z", "ttl_seconds": 86400,
     "size": 131072, "bits": 4, "key_id": "1a2b3c4d", "algorithm": "ed25519",
     "list": "<base64 of zlib(size/2 bytes)>", "signature": "<base64>"}

Entry ``i`` is the high nibble of byte ``i // 2`` when ``i`` is even, the low one otherwise;
values are ``STATUS_VALUES``. The signature covers ``DOMAIN`` and the canonical JSON (sorted
keys, no spaces) of every other field. A list older than ``ttl_seconds`` is *stale*: a verifier
then answers "status unknown", never "valid".
"""

import base64
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.certificate_payload import ALGORITHMS, PrivateKey, PublicKeyInfo
from shared.enums import LabelledEnum

FORMAT = "sgss-status-list/1"
DOMAIN = b"SGSS-STATUS-LIST\x00"
MIN_SIZE = 131_072
MAX_SIZE = 1 << 24
BITS = 4


class StatusResult(LabelledEnum):
    valid = ("valid", "有效")
    revoked = ("revoked", "已吊销")
    suspended = ("suspended", "已暂停")
    replaced = ("replaced", "已作废")
    cancelled = ("cancelled", "已注销")
    unknown = ("unknown", "状态未知")


STATUS_VALUES: dict[StatusResult, int] = {
    StatusResult.valid: 0,
    StatusResult.revoked: 1,
    StatusResult.suspended: 2,
    StatusResult.replaced: 3,
    StatusResult.cancelled: 4,
}
_BY_VALUE = {v: k for k, v in STATUS_VALUES.items()}


class StatusListError(ValueError):
    """The file is not a status list, or its signature does not verify."""


def pack(entries: Mapping[int, StatusResult], size: int) -> bytes:
    data = bytearray(size // 2)
    for index, status in entries.items():
        value = STATUS_VALUES[status]
        if value:
            shift = 4 if index % 2 == 0 else 0
            data[index // 2] |= value << shift
    return bytes(data)


def _signed_bytes(fields: Mapping[str, Any]) -> bytes:
    text = json.dumps(
        {k: v for k, v in fields.items() if k != "signature"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return DOMAIN + text.encode("utf-8")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build(
    entries: Mapping[int, StatusResult],
    *,
    size: int,
    issued_at: datetime,
    ttl_seconds: int,
    key_id: str,
    algorithm: str,
    private_key: PrivateKey,
) -> str:
    """The signed list as the text of its file."""
    if size < MIN_SIZE or size > MAX_SIZE or size % 2:
        raise ValueError(f"status list size {size} out of range")
    fields: dict[str, Any] = {
        "format": FORMAT,
        "issued_at": _stamp(issued_at),
        "ttl_seconds": ttl_seconds,
        "size": size,
        "bits": BITS,
        "key_id": key_id,
        "algorithm": algorithm,
        "list": base64.b64encode(zlib.compress(pack(entries, size), 9)).decode("ascii"),
    }
    fields["signature"] = base64.b64encode(private_key.sign(_signed_bytes(fields))).decode("ascii")
    return json.dumps(fields, ensure_ascii=False, indent=1)


@dataclass(frozen=True)
class StatusList:
    issued_at: datetime
    ttl_seconds: int
    size: int
    key_id: str
    data: bytes

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + timedelta(seconds=self.ttl_seconds)

    def is_fresh(self, now: datetime) -> bool:
        return self.issued_at - timedelta(minutes=5) <= now < self.expires_at

    def value(self, index: int) -> int | None:
        if not 0 <= index < self.size:
            return None
        byte = self.data[index // 2]
        return byte >> 4 if index % 2 == 0 else byte & 0x0F

    def status_of(self, index: int, now: datetime) -> StatusResult:
        """``unknown`` for a stale list, an index beyond it or a value this build does not
        know; never ``valid`` unless the list is fresh and says so."""
        if not self.is_fresh(now):
            return StatusResult.unknown
        value = self.value(index)
        return (
            _BY_VALUE.get(value, StatusResult.unknown)
            if value is not None
            else StatusResult.unknown
        )


def read(text: str, keys: Mapping[str, PublicKeyInfo]) -> StatusList:
    """Parse and verify a list file against the published keys."""
    try:
        fields = json.loads(text)
        if not isinstance(fields, dict) or fields.get("format") != FORMAT:
            raise StatusListError("不是状态列表文件")
        key = keys.get(fields["key_id"])
        if key is None or key.algorithm != fields["algorithm"]:
            raise StatusListError("状态列表的签名密钥未知")
        signature = base64.b64decode(fields["signature"], validate=True)
        if not ALGORITHMS[key.algorithm].verify(key.public_key, signature, _signed_bytes(fields)):
            raise StatusListError("状态列表签名不符")
        size, bits = int(fields["size"]), int(fields["bits"])
        data = zlib.decompress(base64.b64decode(fields["list"], validate=True), bufsize=size // 2)
        if bits != BITS or len(data) != size // 2:
            raise StatusListError("状态列表内容不完整")
        issued_at = datetime.strptime(fields["issued_at"], "%Y-%m-%dT%H:%M:%SZ")
        return StatusList(
            issued_at=issued_at.replace(tzinfo=UTC),
            ttl_seconds=int(fields["ttl_seconds"]),
            size=size,
            key_id=key.key_id,
            data=data,
        )
    except StatusListError:
        raise
    except (ValueError, KeyError, TypeError, zlib.error) as err:
        raise StatusListError(f"状态列表文件格式错误：{err}") from err
