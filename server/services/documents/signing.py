"""The server's signature on an issued document: HMAC-SHA256 over its canonical fields.

The digest is stored with the document and its first 16 hex digits are printed and put in the
QR code. Verification recomputes the digest from the rows as they are now, so a document whose
holder, number, form or people were changed in the database after issue no longer verifies, and
nobody without the key can make a code that does. The key never lives in the database.

Key: ``SGSS_DOCUMENT_SECRET`` when set; otherwise 32 random bytes in
``data_dir/document-secret.key``, made once. Two processes making it at the same moment both
write a private temporary file and hard-link it into place; the link fails for the second, which
then reads the first one's key, so exactly one key ever exists.
"""

import hashlib
import hmac
import json
import os
import secrets
from datetime import UTC
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.approval_models import Application, ApplicationPerson, IssuedDocument

KEY_FILE = "document-secret.key"
_VERSION = "sgss-document-v1"


_PERSONS = cast(Table, ApplicationPerson.__table__)
_SIGNED_PERSONS = select(_PERSONS.c.role, _PERSONS.c.name, _PERSONS.c.id_number).where(
    _PERSONS.c.application_id == bindparam("application_id"),
    _PERSONS.c.round == bindparam("round"),
)


def signed_persons(session: Session, application: Application) -> list[list[str]]:
    """The people of ``application``'s current round as a document states them: role, name
    and ID number, sorted. One query of three columns, not the ORM's load of every round's
    people."""
    # through the session, so people added to it and not yet written are flushed first
    rows = session.execute(
        _SIGNED_PERSONS, {"application_id": application.id, "round": application.round}
    )
    return sorted([role, name, id_number] for role, name, id_number in rows)


def canonical_fields(
    document: IssuedDocument, application: Application, persons: list[list[str]]
) -> dict[str, Any]:
    """Everything the document states about whom and what; the form and the people of the
    approved round (``persons``, from ``signed_persons``) are included because the printed
    particulars come from them."""
    return {
        "v": _VERSION,
        "number": document.number,
        "kind": document.kind,
        "application": application.number,
        "business_type": application.business_type,
        "holder_name": document.holder_name,
        "holder_code": application.applicant_code,
        "issued_at": document.issued_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "issued_by": document.issued_by,
        "form": application.form,
        "persons": persons,
    }


def _canonical_bytes(fields: dict[str, Any]) -> bytes:
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


class DocumentSigner:
    """Signs and checks documents with the key the settings name; the key is loaded on first
    use, so an application that never issues a document never creates a key file."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.document_secret
        self._secret = secret.get_secret_value().encode("utf-8") if secret else None
        self._key_file = settings.data_dir / KEY_FILE
        self.data_dir = settings.data_dir
        """The server's data directory (its materials store holds what sync sends)."""
        self._key: bytes | None = self._secret

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = _load_or_create(self._key_file)
        return self._key

    def digest(
        self, document: IssuedDocument, application: Application, persons: list[list[str]]
    ) -> str:
        fields = _canonical_bytes(canonical_fields(document, application, persons))
        return hmac.new(self.key, fields, hashlib.sha256).hexdigest()

    def intact(
        self, document: IssuedDocument, application: Application, persons: list[list[str]]
    ) -> bool:
        return hmac.compare_digest(self.digest(document, application, persons), document.digest)


def _load_or_create(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        temporary.write_text(secrets.token_hex(32), encoding="ascii")
        temporary.chmod(0o600)
        try:
            path.hardlink_to(temporary)
        except FileExistsError:
            pass  # another process made it first; use theirs
        finally:
            temporary.unlink()
    return bytes.fromhex(path.read_text(encoding="ascii").strip())
