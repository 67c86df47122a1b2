"""Tables of the 保安员证: cards, their history, and the public keys that sign them.

A certificate *number* is the holder's qualification and never changes; each card made under
it is one ``Certificate`` row (``edition`` 1, 2, …). 补发 and 更正换发 make the next edition and
mark the previous one ``replaced``, so the old card's QR (its own status index) reports 已作废.
Private keys are never stored here: they live in files under the data directory
(``server.services.certificates.keys``).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


class CertificateSigningKey(Base):
    """A public key and the period it signed cards in; ``valid_until`` None: the current key."""

    __tablename__ = "certificate_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(200))  # base64 of the raw key
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class Certificate(Base):
    """One card (edition) of a certificate number, with the particulars it states."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("number", "edition"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), index=True)
    edition: Mapped[int] = mapped_column(default=1)
    holder_name: Mapped[str] = mapped_column(String(50), index=True)
    gender: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[date]
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    photo_ref: Mapped[str | None] = mapped_column(String(200))
    issuing_authority: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(index=True)
    expires_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_changed_at: Mapped[datetime | None]
    # a random index in the signed status list; unique, so two cards never share a slot
    status_index: Mapped[int] = mapped_column(unique=True)
    key_id: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)  # the QR text, signed
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    # 未打印 / 已打印 / 打印未完成 (shared.certificates.PrintState); set only by a conditional
    # UPDATE in services/certificates/printing.py, so two first prints cannot both succeed
    print_state: Mapped[str] = mapped_column(String(16), default="not_printed", index=True)
    printed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CertificateEvent(Base):
    """One step of a certificate's history: issue, 补发, 更正换发, 吊销, 注销, 补打, 打印 and
    打印未完成."""

    __tablename__ = "certificate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    number: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    basis: Mapped[str | None] = mapped_column(String(500))  # legal basis of a 吊销
    details: Mapped[dict[str, Any] | None]
    new_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    occurred_at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
