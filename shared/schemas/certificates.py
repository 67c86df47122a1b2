"""保安员证 as the API and the desk see it: cards, history, lifecycle requests, verification,
the public lookup, and the files handed to offline verifiers."""

from datetime import date, datetime
from typing import Any

from pydantic import Field, field_validator

from shared.certificates import CancelReason, Gender, PrintChannel, ReissueReason
from shared.schemas.common import Input, Schema, Version
from shared.schemas.users import id_number_field

REASON_MAX = 500


class CertificatePublic(Schema):
    id: int
    number: str
    edition: int
    holder_name: str
    gender: str
    gender_label: str
    birth_date: date
    id_number: str = Field(description="完整身份证号，或无权查看时的部分隐藏号码")
    photo_ref: str | None
    has_photo: bool
    issuing_authority: str
    org_id: int
    region_code: str
    application_id: int | None
    issued_at: datetime
    expires_on: date | None
    status: str
    status_label: str
    status_changed_at: datetime | None
    key_id: str
    payload: str = Field(description="二维码内容（已签名）")
    supersedes_id: int | None
    version: int
    print_state: str = Field(
        description="not_printed 未打印 / printed 已打印 / print_failed 打印未完成"
    )
    print_state_label: str
    printed: bool
    printed_at: datetime | None


class CertificateEventPublic(Schema):
    id: int
    certificate_id: int
    edition: int
    kind: str
    kind_label: str
    reason_code: str | None
    reason: str
    basis: str | None
    details: dict[str, Any] | None
    new_certificate_id: int | None
    occurred_at: datetime
    actor_name: str


class CertificateHistory(Schema):
    number: str
    editions: list[CertificatePublic]
    events: list[CertificateEventPublic]


class CertificateReissue(Input):
    version: Version
    reason: ReissueReason
    note: str = Field(default="", max_length=REASON_MAX)


class CertificateCorrection(Input):
    version: Version
    reason: str = Field(min_length=1, max_length=REASON_MAX)
    holder_name: str | None = Field(default=None, min_length=1, max_length=20)
    gender: Gender | None = None
    birth_date: date | None = Field(default=None, ge=date(1900, 1, 1), le=date(2100, 1, 1))
    id_number: str | None = Field(default=None, max_length=32)
    photo_ref: str | None = Field(default=None, min_length=1, max_length=200)

    _check_id = field_validator("id_number")(id_number_field)


class CertificateRevocation(Input):
    version: Version
    reason: str = Field(min_length=1, max_length=REASON_MAX)
    basis: str = Field(min_length=1, max_length=REASON_MAX, description="法律依据")


class CertificateCancellation(Input):
    version: Version
    reason: CancelReason
    note: str = Field(default="", max_length=REASON_MAX)


class VerifyRequest(Input):
    payload: str = Field(min_length=1, max_length=1000, description="二维码内容")


class Finding(Schema):
    result: str
    label: str


class VerifiedClaims(Schema):
    number: str
    name: str
    id_number_masked: str
    issued_on: date
    expires_on: date | None
    key_id: str


class VerificationPublic(Schema):
    valid: bool
    summary: str
    integrity: Finding
    key: Finding
    status: Finding
    expiry: Finding
    status_note: str
    certificate: VerifiedClaims | None


class LookupItem(Schema):
    """What anyone may learn of a certificate: no full ID number, no internal data."""

    number: str
    holder_name: str
    id_number_masked: str
    gender_label: str
    issued_on: date
    expires_on: date | None
    issuing_authority: str
    status: str
    status_label: str


class LookupResult(Schema):
    items: list[LookupItem]


class StatusListFile(Schema):
    format: str
    issued_at: str
    ttl_seconds: int
    size: int
    bits: int
    key_id: str
    algorithm: str
    list: str
    signature: str


class PublicKeyEntry(Schema):
    key_id: str
    algorithm: str
    public_key: str
    valid_from: str
    valid_until: str | None


class PublicKeysFile(Schema):
    format: str
    keys: list[PublicKeyEntry]


class CertificatePrinted(Input):
    """The first print of a card went through ``channel``."""

    channel: PrintChannel


class CertificateReprint(Input):
    """补打: printed again through ``channel``, and why."""

    channel: PrintChannel
    reason: str = Field(min_length=1, max_length=REASON_MAX, description="补打原因")


class CertificatePrintFailed(Input):
    """A print through ``channel`` did not complete (printer fault, cancelled), and why."""

    channel: PrintChannel
    reason: str = Field(min_length=1, max_length=REASON_MAX, description="未完成原因")


class CardFacePublic(Schema):
    """What the card shows, for the desk's preview and its printers (the photo is fetched on
    its own, ``/certificates/{id}/photo``). ``printable`` False: ``not_printable`` says why."""

    certificate_id: int
    name: str
    gender_label: str
    birth_date: date
    id_number: str
    certificate_number: str
    issuing_authority: str
    issue_date: date
    qr_text: str
    has_photo: bool
    printable: bool
    not_printable: str
