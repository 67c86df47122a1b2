"""Verifying a 保安员证's QR text: four separate answers, never folded into one too early.

- integrity: are these the bytes a published key signed (``IntegrityResult``);
- key: was that key the signing key on the day the card says it was issued (``KeyResult``);
- status: what the status source says now — the server's records, or a fresh signed status
  list; a stale list or none gives ``unknown`` (``StatusResult``);
- expiry: whether the card's own validity has run out (``ExpiryResult``).

The card is valid only when all four say so (``Verification.valid``). The same function runs
offline (CLI, with a public-key file and a status-list file) and on the server.
"""

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from shared.certificate_payload import (
    ALGORITHMS,
    Claims,
    IntegrityResult,
    PayloadError,
    PublicKeyInfo,
    check_signature,
    decode,
)
from shared.certificate_status_list import StatusResult
from shared.china_time import china_day
from shared.enums import LabelledEnum

KEYS_FORMAT = "sgss-certificate-keys/1"


class KeyResult(LabelledEnum):
    valid = ("valid", "发证时签名密钥有效")
    not_yet_valid = ("not_yet_valid", "发证日期早于签名密钥启用日期")
    retired = ("retired", "发证日期晚于签名密钥停用日期")
    unknown = ("unknown", "无法判断签名密钥")


class ExpiryResult(LabelledEnum):
    long_term = ("long_term", "长期有效")
    within = ("within", "在有效期内")
    expired = ("expired", "已超过有效期")
    unknown = ("unknown", "无法判断有效期")


@dataclass(frozen=True)
class Verification:
    integrity: IntegrityResult
    key: KeyResult
    status: StatusResult
    expiry: ExpiryResult
    claims: Claims | None = None
    status_note: str = ""

    @property
    def valid(self) -> bool:
        return (
            self.integrity == IntegrityResult.intact
            and self.key == KeyResult.valid
            and self.status == StatusResult.valid
            and self.expiry in (ExpiryResult.long_term, ExpiryResult.within)
        )

    @property
    def summary(self) -> str:
        if self.valid:
            return "证书有效"
        if self.integrity != IntegrityResult.intact:
            return f"核验失败：{self.integrity.label}"
        if self.key != KeyResult.valid:
            return f"核验失败：{self.key.label}"
        if self.status == StatusResult.unknown:
            return f"证书状态未知{('：' + self.status_note) if self.status_note else ''}"
        if self.status != StatusResult.valid:
            return f"证书{self.status.label}"
        return f"证书{self.expiry.label}"


def key_valid_on(key: PublicKeyInfo, day: date) -> KeyResult:
    """Whether ``key`` was the signing key on Beijing day ``day``."""
    if day < china_day(key.valid_from):
        return KeyResult.not_yet_valid
    if key.valid_until is not None and day > china_day(key.valid_until):
        return KeyResult.retired
    return KeyResult.valid


def expiry_on(claims: Claims, today: date) -> ExpiryResult:
    if claims.expires_on is None:
        return ExpiryResult.long_term
    return ExpiryResult.within if today <= claims.expires_on else ExpiryResult.expired


StatusSource = Callable[[Claims], tuple[StatusResult, str]]
"""Given verified claims, their status now and a note (why unknown, for instance)."""


def verify(
    text: str,
    keys: Mapping[str, PublicKeyInfo],
    *,
    today: date,
    status: StatusSource | None,
) -> Verification:
    unknown = (KeyResult.unknown, StatusResult.unknown, ExpiryResult.unknown)
    try:
        decoded = decode(text)
    except PayloadError as err:
        return Verification(err.reason, *unknown)
    claims = decoded.claims
    integrity = check_signature(decoded, keys)
    if integrity != IntegrityResult.intact:
        return Verification(integrity, *unknown, claims=claims)
    key = key_valid_on(keys[claims.key_id], claims.issued_on)
    state, note = status(claims) if status is not None else (StatusResult.unknown, "未提供状态列表")
    return Verification(integrity, key, state, expiry_on(claims, today), claims, note)


def dump_public_keys(keys: list[PublicKeyInfo]) -> str:
    """The public-key file a verifier is given (``sgss-server certificate keys export-public``)."""

    def stamp(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(UTC).isoformat()

    content: dict[str, Any] = {
        "format": KEYS_FORMAT,
        "keys": [
            {
                "key_id": k.key_id,
                "algorithm": k.algorithm,
                "public_key": base64.b64encode(k.public_key).decode("ascii"),
                "valid_from": stamp(k.valid_from),
                "valid_until": stamp(k.valid_until),
            }
            for k in keys
        ],
    }
    return json.dumps(content, ensure_ascii=False, indent=1)


def load_public_keys(text: str) -> dict[str, PublicKeyInfo]:
    """``ValueError`` for a file that is not a key file."""
    try:
        content = json.loads(text)
        if content.get("format") != KEYS_FORMAT:
            raise ValueError("不是证书公钥文件")
        keys = {}
        for item in content["keys"]:
            if item["algorithm"] not in ALGORITHMS:
                continue  # a key of an algorithm this build cannot check: as if unknown
            until = item.get("valid_until")
            keys[item["key_id"]] = PublicKeyInfo(
                key_id=item["key_id"],
                algorithm=item["algorithm"],
                public_key=base64.b64decode(item["public_key"], validate=True),
                valid_from=datetime.fromisoformat(item["valid_from"]),
                valid_until=datetime.fromisoformat(until) if until else None,
            )
        return keys
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as err:
        raise ValueError(f"证书公钥文件格式错误：{err}") from err
