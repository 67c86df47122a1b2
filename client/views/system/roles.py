"""角色管理: the roles of the selected organisation; add, edit (three-part editor), delete."""

from typing import Any

from client.jobs.api_jobs import CreateRole, DeleteRole, LoadPermissions, LoadRoles, UpdateRole
from client.jobs.job import ApiJob
from client.models.table import Column, PagedRows
from client.session import Session
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

    def __init__(self, session: Session) -> None:
        super().__init__(
            session,
            "角色管理",
            PagedRows(COLUMNS, page_size=50),
            "roles",
            [
                ("add", "新增", "roles:create", self.add),
                ("edit", "编辑", "roles:update", self.edit),
                ("delete", "删除", "roles:delete", self.delete),
            ],
        )
        self.table.on_activated(lambda _role: self.edit())

    def page_job(self, org: OrgPublic, request: dict[str, Any]) -> ApiJob:
        return LoadRoles(**request, org_id=org.id)

    def _open(self, role: RolePublic | None) -> None:
        org = self.tree.current_org()
        if org is None:
            return

        def show(catalogue) -> None:  # type: ignore[no-untyped-def]
            dialog = RoleDialog(org, catalogue, self.orgs, role, parent=self)
            if not dialog.exec():
                return
            if role is None:
                body = dialog.create_body()
                self.run_then_reload(CreateRole(body))
            else:
                update = dialog.update_body()
                self.run_then_reload(UpdateRole(role.id, update))

        self.session.run(LoadPermissions(), show, self.status.error, parent=self)

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
            self.run_then_reload(DeleteRole(role.id, role.version))
