from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema, field_validator, model_validator

from shared.enums import DataScopeKind
from shared.permissions import ACTION_LABELS, MODULES, all_permissions, is_known
from shared.schemas.common import Id, Input, Name, Schema, Version

SCOPE_ORGS_MAX = 2000
"""Organisations one role may name (a province has some hundred bureaus and stations)."""

PermissionName = Annotated[
    str,
    Field(max_length=64),
    WithJsonSchema(
        {"type": "string", "enum": sorted(all_permissions()), "description": "module:action"},
        mode="validation",
    ),
]
"""A permission of the catalogue; the OpenAPI schema lists them (checked by ``_known``)."""
PERMISSIONS_MAX = 4 * len(all_permissions())  # duplicates are folded, not refused


class DataScope(BaseModel):
    kind: DataScopeKind
    org_ids: list[Id] = Field(default_factory=list, max_length=SCOPE_ORGS_MAX)

    @model_validator(mode="after")
    def _orgs_only_for_orgs(self) -> "DataScope":
        if self.kind == DataScopeKind.orgs and not self.org_ids:
            raise ValueError("数据范围为指定机构时须至少选择一个机构")
        if self.kind != DataScopeKind.orgs:
            self.org_ids = []
        self.org_ids = sorted(set(self.org_ids))
        return self


def _known(permissions: list[str] | None) -> list[str] | None:
    if permissions is None:
        return None
    unknown = [p for p in permissions if not is_known(p)]
    if unknown:
        raise ValueError(f"未知的权限：{', '.join(unknown)}")
    return sorted(set(permissions))


class RoleCreate(Input):
    name: Name = Field(min_length=1, max_length=50)
    org_id: Id
    description: str | None = Field(default=None, max_length=200)
    permissions: list[PermissionName] = Field(default_factory=list, max_length=PERMISSIONS_MAX)
    data_scope: DataScope

    _check_permissions = field_validator("permissions")(_known)


class RoleUpdate(Input):
    name: Name | None = Field(default=None, min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=200)
    permissions: list[PermissionName] | None = Field(default=None, max_length=PERMISSIONS_MAX)
    data_scope: DataScope | None = None
    version: Version | None = None

    _check_permissions = field_validator("permissions")(_known)


class RolePublic(Schema):
    id: int
    name: str
    org_id: int
    org_name: str = ""
    description: str | None
    permissions: list[str]
    data_scope: DataScope
    user_count: int = 0
    # the built-in administrator role: the server refuses to edit or delete it (ROLE_BUILTIN)
    builtin: bool = False
    version: int
    created_at: datetime
    updated_at: datetime


class ActionPublic(BaseModel):
    key: str
    label: str


class ModulePublic(BaseModel):
    key: str
    label: str
    group: str
    actions: list[ActionPublic]


class PermissionCatalogue(BaseModel):
    modules: list[ModulePublic]
    action_labels: dict[str, str]

    @classmethod
    def build(cls) -> "PermissionCatalogue":
        return cls(
            modules=[
                ModulePublic(
                    key=m.key,
                    label=m.label,
                    group=m.group,
                    actions=[ActionPublic(key=a, label=m.label_of(a)) for a in m.actions],
                )
                for m in MODULES
            ],
            action_labels=dict(ACTION_LABELS),
        )
