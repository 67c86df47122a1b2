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
from typing import Any

from server.config import Settings
from server.db.approval_models import Application, IssuedDocument

KEY_FILE = "document-secret.key"
_VERSION = "sgss-document-v1"


def canonical_fields(document: IssuedDocument, application: Application) -> dict[str, Any]:
    """Everything the document states about whom and what; the form and the people of the
    approved round are included because the printed particulars come from them."""
    persons = sorted(
        [p.role, p.name, p.id_number] for p in application.persons if p.round == application.round
    )
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
        self._key: bytes | None = self._secret

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = _load_or_create(self._key_file)
        return self._key

    def digest(self, document: IssuedDocument, application: Application) -> str:
        fields = _canonical_bytes(canonical_fields(document, application))
        return hmac.new(self.key, fields, hashlib.sha256).hexdigest()

    def intact(self, document: IssuedDocument, application: Application) -> bool:
        return hmac.compare_digest(self.digest(document, application), document.digest)


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
