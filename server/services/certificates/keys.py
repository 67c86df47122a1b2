"""Certificate signing keys: public halves in the database, private halves in files.

A private key is an unencrypted PKCS#8 PEM file, ``<data_dir>/certificate-keys/<key id>.pem``,
created with mode 0600 in a 0700 folder on POSIX. On Windows those modes mean nothing: the
data directory must carry an ACL that lets only the service account and Administrators read it
(docs/certificates.md). Every server instance must see the same folder, as it already must for
the materials.

Exactly one key is current (``valid_until`` None). Rotation ends the current key's period and
starts a new key's; the old public key stays published, so the cards it signed while it was
current keep verifying. A key's file is written before its row, so a failed transaction leaves
at most an unused file, never a published key without its private half.
"""

import base64
import os
import secrets
import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.certificate_models import CertificateSigningKey
from server.services import audit
from server.services.audit import Actor
from server.services.errors import AppError
from shared.audit_actions import AuditAction, AuditEntity
from shared.certificate_payload import ALGORITHMS, PrivateKey, PublicKeyInfo, key_id_of
from shared.errors import ErrorCode

KEY_FOLDER = "certificate-keys"
DEFAULT_ALGORITHM = "ed25519"


def write_private_file(folder: Path, key_id: str, pem: bytes) -> Path:
    """``folder/<key_id>.pem`` created readable by this account only (0600 in a 0700 folder on
    POSIX), complete and synced before its name appears; never overwrites one (the sync keys
    use it too)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        folder.chmod(0o700)
    target = folder / f"{key_id}.pem"
    temporary = folder / f".{key_id}.{secrets.token_hex(4)}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        temporary.chmod(0o600)
        target.hardlink_to(temporary)  # fails if the key id's file exists already
    finally:
        temporary.unlink(missing_ok=True)
    return target


class CertificateKeys:
    """The folder of private keys and the keys loaded from it (each file read once)."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / KEY_FOLDER
        self._loaded: dict[str, PrivateKey] = {}
        self._lock = threading.Lock()

    def path(self, key_id: str) -> Path:
        return self.folder / f"{key_id}.pem"

    def write(self, key_id: str, pem: bytes) -> Path:
        """Create the key's file readable by this account only; never overwrite one."""
        return write_private_file(self.folder, key_id, pem)

    def private(self, row: CertificateSigningKey) -> PrivateKey:
        with self._lock:
            known = self._loaded.get(row.key_id)
            if known is not None:
                return known
            try:
                pem = self.path(row.key_id).read_bytes()
                key, public = ALGORITHMS[row.algorithm].load_private(pem)
            except (OSError, ValueError) as err:
                raise AppError(
                    ErrorCode.CERTIFICATE_KEY_MISSING,
                    details={"key_id": row.key_id, "path": str(self.path(row.key_id))},
                ) from err
            if base64.b64encode(public).decode("ascii") != row.public_key:
                raise AppError(
                    ErrorCode.CERTIFICATE_KEY_MISSING,
                    "证书签名私钥文件与数据库中的公钥不符",
                    {"key_id": row.key_id},
                )
            self._loaded[row.key_id] = key
            return key


def current_key(session: Session, *, lock: bool = False) -> CertificateSigningKey | None:
    stmt = (
        select(CertificateSigningKey)
        .where(CertificateSigningKey.valid_until.is_(None))
        .order_by(CertificateSigningKey.valid_from.desc(), CertificateSigningKey.id.desc())
        .limit(1)
    )
    return session.scalar(stmt.with_for_update() if lock else stmt)


def signing_key(
    session: Session, keys: CertificateKeys
) -> tuple[CertificateSigningKey, PrivateKey]:
    row = current_key(session)
    if row is None:
        raise AppError(ErrorCode.CERTIFICATE_KEY_MISSING)
    return row, keys.private(row)


def _create(
    session: Session, keys: CertificateKeys, *, now: datetime, actor: Actor
) -> CertificateSigningKey:
    algorithm = ALGORITHMS[DEFAULT_ALGORITHM]
    pem, public = algorithm.generate()
    key_id = key_id_of(DEFAULT_ALGORITHM, public)
    keys.write(key_id, pem)
    row = CertificateSigningKey(
        key_id=key_id,
        algorithm=DEFAULT_ALGORITHM,
        public_key=base64.b64encode(public).decode("ascii"),
        valid_from=now,
        valid_until=None,
        created_at=now,
        created_by=actor.name[:100],
    )
    session.add(row)
    session.flush()
    return row


def ensure_key(
    session: Session, keys: CertificateKeys, *, now: datetime, actor: Actor
) -> tuple[CertificateSigningKey, bool]:
    """The current key, made first if there is none (``init-db``, ``keys init``); whether it
    was made. A current key whose private file is missing here is an error, not a reason to
    make another: cards would then be signed by whichever instance came last."""
    row = current_key(session, lock=True)
    if row is not None:
        keys.private(row)
        return row, False
    row = _create(session, keys, now=now, actor=actor)
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.CERTIFICATE_KEY_CREATE,
        entity_type=AuditEntity.CERTIFICATE_KEY,
        entity_id=row.key_id,
        after={"key_id": row.key_id, "algorithm": row.algorithm},
    )
    return row, True


def rotate(
    session: Session, keys: CertificateKeys, *, now: datetime, actor: Actor
) -> CertificateSigningKey:
    """End the current key's period now and start a new key's."""
    old = current_key(session, lock=True)
    if old is not None:
        old.valid_until = now
    row = _create(session, keys, now=now, actor=actor)
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.CERTIFICATE_KEY_ROTATE,
        entity_type=AuditEntity.CERTIFICATE_KEY,
        entity_id=row.key_id,
        before={"key_id": old.key_id} if old is not None else None,
        after={"key_id": row.key_id, "algorithm": row.algorithm},
    )
    return row


def public_keys(session: Session) -> list[PublicKeyInfo]:
    rows = session.scalars(select(CertificateSigningKey).order_by(CertificateSigningKey.id))
    return [
        PublicKeyInfo(
            key_id=row.key_id,
            algorithm=row.algorithm,
            public_key=base64.b64decode(row.public_key),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
        )
        for row in rows
    ]


def key_ring(session: Session) -> dict[str, PublicKeyInfo]:
    return {key.key_id: key for key in public_keys(session)}
