"""Plain data the PDF renderers draw: built from the database by ``content``, drawn by ``render``.

Keeping the renderers on these dataclasses (strings and dates, no rows, no session) lets them be
tested and previewed without a database, and keeps every visibility decision (masking, internal
opinions) in ``content``, where the caller's permissions are known.
"""

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Certificate:
    """A licence or certificate as printed."""

    title: str  # 保安服务许可证, 备案证明 …
    number: str
    holder_name: str
    matter: str  # the business type's name: what was approved or filed
    particulars: list[tuple[str, str]]  # (title, value) from the form and the people
    authority: str  # 发证机关: the organisation that acted on the final step
    issued_on: date  # in Beijing time
    qr_payload: str
    verification_code: str


@dataclass(frozen=True)
class SheetLogRow:
    at: datetime
    actor: str  # 姓名[角色]
    step_name: str
    action: str
    opinion: str  # already emptied or marked when the caller may not read it


@dataclass(frozen=True)
class SheetPerson:
    role: str
    name: str
    id_number: str  # masked unless the caller may see it in full
    mobile: str


@dataclass(frozen=True)
class SheetMaterial:
    round: int
    title: str
    filename: str
    uploaded_at: datetime


@dataclass(frozen=True)
class ApplicationSheet:
    """申请材料及审批进度: an application's particulars with its whole approval history."""

    number: str
    business_type: str
    status: str
    header: list[tuple[str, str]]  # applicant, region, dates, document number …
    persons: list[SheetPerson]
    form: list[tuple[str, str]]
    materials: list[SheetMaterial]
    log: list[SheetLogRow]
    pending: list[str]  # 姓名[角色]（机构） of whoever may act on the pending step now
    printed_by: str
    printed_at: datetime
    notes: list[str] = field(default_factory=list)
