"""The signed QR payload of a 保安员证: a pure codec that verifies offline.

Text: ``SGC:`` followed by the Base45 (RFC 9285) encoding of the bytes below. Base45's alphabet
is the QR code's alphanumeric set, so the whole text is encoded at 5.5 bits a character:
a version-11 symbol at error-correction level Q holds 259 such characters, ~172 bytes.

Bytes (big-endian; docs/certificates.md has the table):

====== ===== ==============================================================================
offset size  field
====== ===== ==============================================================================
0      1     high nibble: format version (1); low nibble: signature algorithm (1 = Ed25519)
1      4     key id (first 4 bytes of SHA-256 over algorithm byte + raw public key)
5      1+n   certificate number, UTF-8, preceded by its length n
.      1+m   holder's name, UTF-8, preceded by its length m (at most ``NAME_MAX_BYTES``)
.      3     ID number's first six digits (the region), as an integer
.      2     ID number's last four: first three digits × 11 + check character (X = 10)
.      2     issue date, days since 2000-01-01
.      2     expiry date, days since 2000-01-01; 0 = no expiry (长期有效)
.      4     index in the status list
.      S     signature over ``DOMAIN`` + every byte before it (Ed25519: S = 64)
====== ===== ==============================================================================

Only the masked ID number (``330102********1234``) is in the code: what the card face shows
to whoever holds it, and no more. Decoding tells apart a text that is not ours or is garbled
(``malformed``), one cut short (``truncated``), an unknown version or algorithm
(``unsupported``); signature checking tells a key nobody published (``unknown_key``) from a
signature that does not match (``tampered``).
"""

import hashlib
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.enums import LabelledEnum

PREFIX = "SGC:"
FORMAT_VERSION = 1
DOMAIN = b"SGSS-CERT-QR\x00"
NAME_MAX_BYTES = 60  # 20 Chinese characters
NUMBER_MAX_BYTES = 60
EPOCH = date(2000, 1, 1)
MAX_TEXT = 259  # alphanumeric characters in a version-11 QR code at level Q
_MASKED = re.compile(r"^(\d{6})\*{8}(\d{3})([\dX])$")

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_INDEX = {c: i for i, c in enumerate(B45)}


class IntegrityResult(LabelledEnum):
    """What the payload's bytes and signature say, before any question of status."""

    intact = ("intact", "内容完整，签名有效")
    tampered = ("tampered", "签名不符，内容可能被篡改")
    unknown_key = ("unknown_key", "签名密钥未知，无法核验")
    truncated = ("truncated", "二维码内容不完整（被截断）")
    malformed = ("malformed", "不是本系统的证书二维码或内容已损坏")
    unsupported = ("unsupported", "二维码格式版本或签名算法不受支持")


class PayloadError(ValueError):
    def __init__(self, reason: IntegrityResult, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason.value}: {detail or reason.label}")


# --- signature algorithms -------------------------------------------------------------------


class PrivateKey(Protocol):
    def sign(self, message: bytes) -> bytes: ...


class Algorithm(Protocol):
    """One signature scheme; SM2 can be added beside Ed25519 under a new code."""

    code: int
    name: str
    signature_length: int

    def generate(self) -> tuple[bytes, bytes]:
        """A new key pair: (private key as unencrypted PKCS#8 PEM, raw public key)."""
        ...

    def load_private(self, pem: bytes) -> tuple[PrivateKey, bytes]:
        """The private key of a PEM file and its raw public key."""
        ...

    def verify(self, public_key: bytes, signature: bytes, message: bytes) -> bool: ...


class Ed25519:
    code = 1
    name = "ed25519"
    signature_length = 64

    def generate(self) -> tuple[bytes, bytes]:
        key = Ed25519PrivateKey.generate()
        return _pem(key), _raw_public(key)

    def load_private(self, pem: bytes) -> tuple[PrivateKey, bytes]:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return key, _raw_public(key)

    def verify(self, public_key: bytes, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


ALGORITHMS: dict[str, Algorithm] = {"ed25519": Ed25519()}
_BY_CODE = {a.code: a for a in ALGORITHMS.values()}


def key_id_of(algorithm: str, public_key: bytes) -> str:
    """Eight hex digits naming a public key; the same on every machine."""
    code = ALGORITHMS[algorithm].code
    return hashlib.sha256(bytes([code]) + public_key).digest()[:4].hex()


@dataclass(frozen=True)
class PublicKeyInfo:
    """A published public key and when it was the signing key (``valid_until`` None: still)."""

    key_id: str
    algorithm: str
    public_key: bytes
    valid_from: datetime
    valid_until: datetime | None = None


# --- Base45 ---------------------------------------------------------------------------------


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        value = data[i] * 256 + data[i + 1]
        value, c = divmod(value, 45)
        e, d = divmod(value, 45)
        out += [B45[c], B45[d], B45[e]]
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += [B45[c], B45[d]]
    return "".join(out)


def b45decode(text: str) -> tuple[bytes, bool]:
    """The bytes of ``text`` and whether it ended cleanly; a dangling last chunk (one character,
    or two worth more than a byte) is dropped and reported, a foreign character raises."""
    try:
        values = [_B45_INDEX[c] for c in text]
    except KeyError as err:
        raise PayloadError(IntegrityResult.malformed, "non-Base45 character") from err
    out = bytearray()
    whole = len(values) - len(values) % 3
    for i in range(0, whole, 3):
        value = values[i] + values[i + 1] * 45 + values[i + 2] * 45 * 45
        if value > 0xFFFF:
            raise PayloadError(IntegrityResult.malformed, "Base45 chunk out of range")
        out += value.to_bytes(2, "big")
    rest = values[whole:]
    if len(rest) == 2 and rest[0] + rest[1] * 45 <= 0xFF:
        out.append(rest[0] + rest[1] * 45)
        return bytes(out), True
    return bytes(out), not rest


# --- claims ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claims:
    number: str
    name: str
    id_masked: str  # 330102********1234
    issued_on: date
    expires_on: date | None
    status_index: int
    key_id: str
    algorithm: str = "ed25519"


@dataclass(frozen=True)
class Decoded:
    claims: Claims
    message: bytes  # what the signature covers
    signature: bytes


def _days(day: date) -> int:
    days = (day - EPOCH).days
    if not 0 < days <= 0xFFFF:
        raise ValueError(f"date out of range: {day}")
    return days


def _text_field(value: str, limit: int, what: str) -> bytes:
    raw = value.encode("utf-8")
    if not raw or len(raw) > limit:
        raise ValueError(f"{what} must be 1..{limit} UTF-8 bytes")
    return bytes([len(raw)]) + raw


def body(claims: Claims) -> bytes:
    """The signed part of the payload."""
    algorithm = ALGORITHMS[claims.algorithm]
    masked = _MASKED.match(claims.id_masked)
    if masked is None:
        raise ValueError(f"not a masked 18-character ID number: {claims.id_masked}")
    region, middle, check = masked.groups()
    tail = int(middle) * 11 + (10 if check == "X" else int(check))
    if not 0 <= claims.status_index <= 0xFFFFFFFF:
        raise ValueError("status index out of range")
    return b"".join(
        (
            bytes([FORMAT_VERSION << 4 | algorithm.code]),
            bytes.fromhex(claims.key_id),
            _text_field(claims.number, NUMBER_MAX_BYTES, "number"),
            _text_field(claims.name, NAME_MAX_BYTES, "name"),
            int(region).to_bytes(3, "big"),
            struct.pack(
                ">HHHI",
                tail,
                _days(claims.issued_on),
                _days(claims.expires_on) if claims.expires_on else 0,
                claims.status_index,
            ),
        )
    )


def encode(claims: Claims, private_key: PrivateKey) -> str:
    """The QR text of ``claims`` signed by ``private_key`` (the key ``claims.key_id`` names)."""
    signed = body(claims)
    signature = private_key.sign(DOMAIN + signed)
    text = PREFIX + b45encode(signed + signature)
    if len(text) > MAX_TEXT:
        raise ValueError(f"payload of {len(text)} characters exceeds a version-11 QR code")
    return text


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise PayloadError(IntegrityResult.truncated)
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def text(self) -> str:
        size = self.take(1)[0]
        try:
            return self.take(size).decode("utf-8")
        except UnicodeDecodeError as err:
            raise PayloadError(IntegrityResult.malformed, "bad UTF-8") from err


def decode(text: str) -> Decoded:
    """Parse a QR text without checking its signature; ``PayloadError`` says what is wrong."""
    text = text.strip()
    if not text.startswith(PREFIX):
        if PREFIX.startswith(text):  # a code cut before its first byte
            raise PayloadError(IntegrityResult.truncated)
        raise PayloadError(IntegrityResult.malformed, "missing SGC: prefix")
    data, clean = b45decode(text[len(PREFIX) :])
    reader = _Reader(data)
    header = reader.take(1)[0]
    algorithm = _BY_CODE.get(header & 0x0F)
    if header >> 4 != FORMAT_VERSION or algorithm is None:
        raise PayloadError(IntegrityResult.unsupported, f"header {header:#04x}")
    key_id = reader.take(4).hex()
    number, name = reader.text(), reader.text()
    region = int.from_bytes(reader.take(3), "big")
    tail, issued, expires, index = struct.unpack(">HHHI", reader.take(10))
    signed_end = reader.at
    signature = reader.take(algorithm.signature_length)
    if reader.at != len(data):
        raise PayloadError(IntegrityResult.malformed, "trailing bytes")
    if not clean:
        raise PayloadError(IntegrityResult.truncated, "dangling Base45 character")
    middle, check = divmod(tail, 11)
    if region > 999999 or middle > 999 or issued == 0:
        raise PayloadError(IntegrityResult.malformed, "field out of range")
    claims = Claims(
        number=number,
        name=name,
        id_masked=f"{region:06d}{'*' * 8}{middle:03d}{'X' if check == 10 else check}",
        issued_on=EPOCH + timedelta(days=issued),
        expires_on=EPOCH + timedelta(days=expires) if expires else None,
        status_index=index,
        key_id=key_id,
        algorithm=algorithm.name,
    )
    return Decoded(claims, DOMAIN + data[:signed_end], signature)


def check_signature(decoded: Decoded, keys: Mapping[str, PublicKeyInfo]) -> IntegrityResult:
    """``intact``, ``unknown_key`` (no published key has this id and algorithm) or
    ``tampered``."""
    key = keys.get(decoded.claims.key_id)
    if key is None or key.algorithm != decoded.claims.algorithm:
        return IntegrityResult.unknown_key
    algorithm = ALGORITHMS[key.algorithm]
    if algorithm.verify(key.public_key, decoded.signature, decoded.message):
        return IntegrityResult.intact
    return IntegrityResult.tampered
