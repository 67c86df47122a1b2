"""This node's signing key (a file) and the peer's public keys (rows).

Our private key is an unencrypted PKCS#8 PEM file, ``<data_dir>/sync-keys/<key id>.pem``, made
like the certificate keys (0600 in a 0700 folder, complete before its name appears; on Windows
the data directory's ACL protects it). Every server instance must see the same folder, as for
the materials. There is exactly one current key: the one ``.pem`` file directly in the folder.
``keys init`` makes it when there is none and leaves an existing one alone; ``--replace``
moves the old file to ``sync-keys/retired/`` first and then writes the new one, so a crash in
between leaves no key (the next ``keys init`` makes one) rather than two. Two files (put there
by hand) are an error, never a guess: the portal would refuse half of our bundles.

The peer's keys are public halves in ``sync_peer_keys``, added and retired by the
administrator. A retired key keeps verifying bundles created before its retirement (docs/
sync.md, Keys), so bundles already in the ferry when the portal rotates are not quarantined.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.sync_models import SyncPeerKey
from server.services import audit
from server.services.audit import Actor
from server.services.certificates.keys import write_private_file
from server.services.errors import AppError
from shared.audit_actions import AuditAction, AuditEntity
from shared.errors import ErrorCode
from shared.sync.keys import (
    Node,
    PeerKey,
    key_id_of,
    parse_public_key,
    public_key_text,
    raw_public_key,
)

KEY_FOLDER = "sync-keys"
RETIRED_FOLDER = "retired"
_KEY_FILE = re.compile(r"[0-9a-f]{16}\.pem")


@dataclass(frozen=True)
class NodeKey:
    """This node's signing key, loaded from its file."""

    key_id: str
    private_key: Ed25519PrivateKey
    path: Path

    @property
    def public_key(self) -> bytes:
        return raw_public_key(self.private_key)

    @property
    def public_text(self) -> str:
        """Standard base64 of the 32 raw bytes: what the portal's administrator registers."""
        return public_key_text(self.public_key)


def key_folder(data_dir: Path) -> Path:
    return data_dir / KEY_FOLDER


def _key_files(data_dir: Path) -> list[Path]:
    folder = key_folder(data_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and _KEY_FILE.fullmatch(p.name))


def _load(path: Path) -> NodeKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as err:
        raise AppError(
            ErrorCode.SYNC_KEY_MISSING, f"无法读取同步签名私钥文件 {path}：{err}"
        ) from err
    if not isinstance(key, Ed25519PrivateKey):
        raise AppError(ErrorCode.SYNC_KEY_MISSING, f"同步签名私钥文件 {path} 不是 Ed25519 密钥")
    key_id = key_id_of(raw_public_key(key))
    if path.name != f"{key_id}.pem":
        raise AppError(
            ErrorCode.SYNC_KEY_MISSING, f"同步签名私钥文件 {path} 的名称与其密钥标识 {key_id} 不符"
        )
    return NodeKey(key_id, key, path)


def load_node_key(data_dir: Path) -> NodeKey:
    """The current key; ``SYNC_KEY_MISSING`` when there is none, ``SYNC_KEY_AMBIGUOUS`` when
    the folder holds several."""
    files = _key_files(data_dir)
    if not files:
        raise AppError(ErrorCode.SYNC_KEY_MISSING)
    if len(files) > 1:
        raise AppError(ErrorCode.SYNC_KEY_AMBIGUOUS, details=[str(p) for p in files])
    return _load(files[0])


def _generate(data_dir: Path) -> NodeKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_id = key_id_of(raw_public_key(key))
    return NodeKey(key_id, key, write_private_file(key_folder(data_dir), key_id, pem))


def init_node_key(
    session: Session, data_dir: Path, *, now: datetime, actor: Actor, replace: bool = False
) -> tuple[NodeKey, bool]:
    """The current key, made when there is none or when ``replace`` is asked; whether one was
    made. The audit entry goes into ``session`` (the caller commits); the file exists first."""
    files = _key_files(data_dir)
    if files and not replace:
        return load_node_key(data_dir), False
    old = [_load(path) for path in files]
    if old:
        retired = key_folder(data_dir) / RETIRED_FOLDER
        retired.mkdir(exist_ok=True)
        for key in old:
            key.path.replace(retired / key.path.name)
    made = _generate(data_dir)
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.SYNC_KEY_REPLACE if old else AuditAction.SYNC_KEY_CREATE,
        entity_type=AuditEntity.SYNC_KEY,
        entity_id=made.key_id,
        before={"key_id": ", ".join(k.key_id for k in old)} if old else None,
        after={"key_id": made.key_id, "public_key": made.public_text},
    )
    return made, True


def add_peer_key(
    session: Session, text: str, *, now: datetime, actor: Actor
) -> tuple[SyncPeerKey, bool]:
    """Register a public key of the portal (standard base64 of 32 bytes); whether it is new.
    Adding a key already known changes nothing, a retired one included (it stays retired)."""
    try:
        raw = parse_public_key(text)
    except ValueError as err:
        raise AppError(ErrorCode.SYNC_PEER_KEY_INVALID, str(err)) from err
    key_id = key_id_of(raw)
    known = session.get(SyncPeerKey, key_id)
    if known is not None:
        return known, False
    row = SyncPeerKey(
        key_id=key_id,
        peer=Node.portal.value,
        public_key=public_key_text(raw),
        added_at=now,
        added_by=actor.name[:100],
        retired_at=None,
        retired_by=None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.SYNC_PEER_KEY_ADD,
        entity_type=AuditEntity.SYNC_PEER_KEY,
        entity_id=key_id,
        after={"key_id": key_id, "public_key": row.public_key},
    )
    return row, True


def retire_peer_key(session: Session, key_id: str, *, now: datetime, actor: Actor) -> SyncPeerKey:
    """Stop accepting bundles the key signs from ``now`` on; those created earlier still
    verify. Retiring a retired key changes nothing."""
    row = session.get(SyncPeerKey, key_id.strip().lower(), with_for_update=True)
    if row is None:
        raise AppError(ErrorCode.SYNC_PEER_KEY_NOT_FOUND, details={"key_id": key_id})
    if row.retired_at is not None:
        return row
    row.retired_at = now
    row.retired_by = actor.name[:100]
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.SYNC_PEER_KEY_RETIRE,
        entity_type=AuditEntity.SYNC_PEER_KEY,
        entity_id=row.key_id,
        after={"key_id": row.key_id, "retired_at": now},
    )
    return row


def list_peer_keys(session: Session) -> list[SyncPeerKey]:
    return list(session.scalars(select(SyncPeerKey).order_by(SyncPeerKey.added_at)))


def peer_keys(session: Session) -> dict[str, PeerKey]:
    """The portal's keys by key id, as ``verify_bundle`` takes them."""
    return {
        row.key_id: PeerKey(parse_public_key(row.public_key), row.retired_at)
        for row in list_peer_keys(session)
        if row.peer == Node.portal.value
    }
