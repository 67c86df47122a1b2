from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from shared.enums import ApprovalRole, BusinessType, DataScopeKind
from shared.idnumber import IdNumberError, normalise_id_number
from shared.schemas.common import ActionState, Id, Input, Name, Schema, Version

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{2,31}$"
MOBILE_PATTERN = r"^1[3-9]\d{9}$"

ROLE_IDS_MAX = 50
RoleList = Annotated[list[ApprovalRole], Field(max_length=len(ApprovalRole))]
ApprovalRoles = dict[BusinessType, RoleList]


def id_number_field(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return normalise_id_number(value)
    except IdNumberError as err:
        raise ValueError(str(err)) from None


def _approval_roles(value: ApprovalRoles | None) -> ApprovalRoles | None:
    if value is None:
        return None
    return {bt: sorted(set(roles)) for bt, roles in value.items() if roles}


class UserCreate(Input):
    username: str = Field(max_length=32, pattern=USERNAME_PATTERN)
    name: Name = Field(min_length=1, max_length=50)
    org_id: Id
    mobile: str = Field(max_length=11, pattern=MOBILE_PATTERN)
    id_number: str | None = Field(default=None, max_length=32)
    is_police: bool = True
    police_number: str | None = Field(default=None, max_length=16)
    role_ids: list[Id] = Field(default_factory=list, max_length=ROLE_IDS_MAX)
    approval_roles: ApprovalRoles = Field(default_factory=dict)

    _check_id = field_validator("id_number")(id_number_field)
    _check_approval = field_validator("approval_roles")(_approval_roles)


class UserUpdate(Input):
    name: Name | None = Field(default=None, min_length=1, max_length=50)
    org_id: Id | None = None
    mobile: str | None = Field(default=None, max_length=11, pattern=MOBILE_PATTERN)
    id_number: str | None = Field(default=None, max_length=32)
    is_police: bool | None = None
    police_number: str | None = Field(default=None, max_length=16)
    role_ids: list[Id] | None = Field(default=None, max_length=ROLE_IDS_MAX)
    approval_roles: ApprovalRoles | None = None
    enabled: bool | None = None
    version: Version | None = None

    _check_id = field_validator("id_number")(id_number_field)
    _check_approval = field_validator("approval_roles")(_approval_roles)


class UserAction(StrEnum):
    """What an administrator does to an account (用户管理). ``set_enabled`` is 停用 for an
    enabled account and 启用 for a disabled one."""

    edit = "edit"
    reset_password = "reset_password"
    set_enabled = "set_enabled"
    unlock = "unlock"


class RoleRef(Schema):
    id: int
    name: str


class UserPublic(Schema):
    id: int
    username: str
    name: str
    org_id: int
    org_name: str = ""
    is_police: bool
    police_number: str | None
    id_number: str | None
    mobile: str | None
    roles: list[RoleRef]
    approval_roles: ApprovalRoles
    enabled: bool
    locked_until: datetime | None
    # the sign-in lock holds now (a lock whose time has run out is not one)
    locked: bool = False
    must_change_password: bool
    login_count: int
    last_login_at: datetime | None
    version: int
    created_at: datetime
    # what the caller may do to this account now, and why not (every ``UserAction``)
    allowed_actions: dict[UserAction, ActionState] = {}


class UserCreated(UserPublic):
    initial_password: str


class PasswordReset(Schema):
    user_id: int
    initial_password: str


class EffectiveScope(Schema):
    """What the signed-in user sees: everything, or the listed organisations."""

    all: bool
    org_ids: list[int]
    kinds: list[DataScopeKind]


class Me(UserPublic):
    org_name: str
    org_region_code: str
    permissions: list[str]
    scope: EffectiveScope
