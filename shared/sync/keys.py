"""Node names and the key facts SYNC.md fixes: Ed25519, the public key as standard base64 of its
32 raw bytes, the key id as the first 16 hex digits of SHA-256 over those bytes.

A node signs with one key pair and knows its peer by one or more public keys. A peer key that
has been retired keeps verifying bundles created before its retirement, so bundles already in
the ferry when the administrator rotates the key are not quarantined.
"""

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.enums import LabelledEnum

PUBLIC_KEY_BYTES = 32
KEY_ID_DIGITS = 16


class Node(LabelledEnum):
    """The two ends of the boundary; the value is the name on the wire and in file names."""

    intranet = ("intranet", "内网服务器")
    portal = ("portal", "外网门户")


def raw_public_key(private_key: Ed25519PrivateKey) -> bytes:
    """The 32 raw bytes of the public half of ``private_key``."""
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def key_id_of(public_key: bytes) -> str:
    """The key id: 16 lowercase hex digits, the same on both nodes."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError(f"an Ed25519 public key has {PUBLIC_KEY_BYTES} bytes")
    return hashlib.sha256(public_key).hexdigest()[:KEY_ID_DIGITS]


def public_key_text(public_key: bytes) -> str:
    """The public key as it travels between administrators: standard base64, 44 characters."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError(f"an Ed25519 public key has {PUBLIC_KEY_BYTES} bytes")
    return base64.b64encode(public_key).decode("ascii")


def parse_public_key(text: str) -> bytes:
    """The 32 bytes of a pasted public key. Surrounding whitespace is forgiven (it comes from a
    terminal or an e-mail); anything but canonical standard base64 of 32 bytes is refused."""
    text = text.strip()
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as err:
        raise ValueError("公钥不是标准 Base64 文本") from err
    if len(raw) != PUBLIC_KEY_BYTES or base64.b64encode(raw).decode("ascii") != text:
        raise ValueError(f"公钥应为 {PUBLIC_KEY_BYTES} 字节的标准 Base64 编码")
    return raw


@dataclass(frozen=True)
class PeerKey:
    """One public key of the peer, with the instant it was retired (None while in use)."""

    public_key: bytes
    retired_at: datetime | None = None

    def __post_init__(self) -> None:
        if len(self.public_key) != PUBLIC_KEY_BYTES:
            raise ValueError(f"an Ed25519 public key has {PUBLIC_KEY_BYTES} bytes")
        if self.retired_at is not None and self.retired_at.tzinfo is None:
            raise ValueError("retired_at must carry its time zone")

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def accepts(self, created_at: datetime) -> bool:
        """Whether a bundle created at ``created_at`` may be signed by this key: always while
        the key is in use, and only strictly before the instant of its retirement after."""
        return self.retired_at is None or created_at < self.retired_at


def keys_by_id(keys: Iterable[PeerKey]) -> dict[str, PeerKey]:
    """The lookup ``verify_bundle`` takes, keyed by key id."""
    return {key.key_id: key for key in keys}
