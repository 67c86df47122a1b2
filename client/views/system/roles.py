"""角色管理: the roles of the selected organisation; add, edit (three-part editor), delete."""

from typing import Any

from client.models.table import Column, PagedTableModel
from client.views.context import DeskContext
from client.views.system.org_list_page import OrgListPage
from client.views.system.role_dialog import RoleDialog
from client.views.widgets import confirm
from shared.enums import DataScopeKind
from shared.schemas.orgs import OrgPublic
from shared.schemas.roles import RolePublic

COLUMNS = [
    Column("name", "角色名称", "name"),
    Column("org_name", "所属机构"),
    Column("description", "说明"),
    Column("permissions", "操作权限", render=lambda p: f"{len(p)} 项"),
    Column("data_scope", "数据范围", render=lambda s: DataScopeKind(s.kind).label),
    Column("user_count", "用户数"),
]


class RolePage(OrgListPage):
    noun = "角色"

    def __init__(self, context: DeskContext) -> None:
        super().__init__(
            context,
            "角色管理",
            PagedTableModel(COLUMNS, page_size=50),
            "roles",
            [
                ("add", "新增", "roles:create", self.add),
                ("edit", "编辑", "roles:update", self.edit),
                ("delete", "删除", "roles:delete", self.delete),
            ],
        )
        self.table.on_activated(lambda _role: self.edit())

    def fetch(self, org: OrgPublic, request: dict[str, Any]) -> Any:
        return self.context.api.roles(**request, org_id=org.id)

    def _open(self, role: RolePublic | None) -> None:
        org = self.tree.current_org()
        if org is None:
            return
        api = self.context.api

        def show(catalogue) -> None:  # type: ignore[no-untyped-def]
            dialog = RoleDialog(org, catalogue, self.orgs, role, parent=self)
            if not dialog.exec():
                return
            if role is None:
                body = dialog.create_body()
                self.run_then_reload(lambda: api.create_role(body))
            else:
                update = dialog.update_body()
                self.run_then_reload(lambda: api.update_role(role.id, update))

        self.context.call(self, api.permissions, show, self.status.error)

    def add(self) -> None:
        self._open(None)

    def edit(self) -> None:
        role = self.selected()
        if role is not None:
            self._open(role)

    def delete(self) -> None:
        role = self.selected()
        if role is not None and confirm(
            self, "删除角色", f"确定删除角色“{role.name}”？此操作不可撤销。", "删除"
        ):
            self.run_then_reload(lambda: self.context.api.delete_role(role.id, role.version))
