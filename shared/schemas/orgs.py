from datetime import datetime

from pydantic import Field, field_validator

from shared.enums import OrgType
from shared.schemas.common import Id, Input, Name, Schema, Version

_PHONE = r"^[0-9+\-() ]{5,32}$"


def _region(value: str | None) -> str | None:
    if value is not None and (len(value) != 6 or not value.isdigit()):
        raise ValueError("区划代码应为6位数字")
    return value


class OrgCreate(Input):
    name: Name = Field(min_length=2, max_length=100)
    parent_id: Id
    type: OrgType
    region_code: str = Field(max_length=6)
    phone: str | None = Field(default=None, max_length=32, pattern=_PHONE)
    address: str | None = Field(default=None, max_length=200)

    _check_region = field_validator("region_code")(_region)


class OrgUpdate(Input):
    name: Name | None = Field(default=None, min_length=2, max_length=100)
    type: OrgType | None = None
    region_code: str | None = Field(default=None, max_length=6)
    phone: str | None = Field(default=None, max_length=32, pattern=_PHONE)
    address: str | None = Field(default=None, max_length=200)
    version: Version | None = None

    _check_region = field_validator("region_code")(_region)


class OrgPublic(Schema):
    id: int
    name: str
    parent_id: int | None
    type: OrgType
    region_code: str
    region_name: str = ""
    phone: str | None
    address: str | None
    depth: int
    child_count: int = 0
    editable: bool = False
    version: int
    created_at: datetime
    updated_at: datetime
