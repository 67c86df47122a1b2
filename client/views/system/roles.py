"""角色管理: the roles of the selected organisation; add, edit (three-part editor), delete."""

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from client.models.table import Column, PagedTableModel
from client.views.context import DeskContext
from client.views.org_tree_widget import OrgTreeWidget
from client.views.paged_table import PagedTable
from client.views.status import StatusLabel
from client.views.system.role_dialog import RoleDialog
from client.views.widgets import confirm
from shared.enums import DataScopeKind
from shared.schemas.roles import RolePublic

COLUMNS = [
    Column("name", "角色名称", "name"),
    Column("org_name", "所属机构"),
    Column("description", "说明"),
    Column("permissions", "操作权限", render=lambda p: f"{len(p)} 项"),
    Column("data_scope", "数据范围", render=lambda s: DataScopeKind(s.kind).label),
    Column("user_count", "用户数"),
]


class RolePage(QWidget):
    loaded = Signal()
    changed = Signal(object)

    def __init__(self, context: DeskContext) -> None:
        super().__init__()
        self.context = context
        perms = set(context.me.permissions) if context.me else set()
        self.orgs: list = []  # type: ignore[type-arg]
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("角色管理", objectName="pageTitle"))
        splitter = QSplitter()
        self.tree = OrgTreeWidget()
        self.tree.currentItemChanged.connect(lambda *_: self.load())
        splitter.addWidget(self.tree)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        self.model = PagedTableModel(COLUMNS, page_size=50)
        self.table = PagedTable(self.model, "roles", context.prefs)
        self.table.reload_requested.connect(self.load)
        self.table.on_activated(lambda _role: self.edit())
        right_layout.addWidget(self.table, 1)
        actions = QHBoxLayout()
        for label, permission, handler in (
            ("新增", "roles:create", self.add),
            ("编辑", "roles:update", self.edit),
            ("删除", "roles:delete", self.delete),
        ):
            button = QPushButton(label)
            button.clicked.connect(handler)
            button.setVisible(permission in perms)
            actions.addWidget(button)
        actions.addStretch(1)
        right_layout.addLayout(actions)
        self.status = StatusLabel()
        right_layout.addWidget(self.status)
        splitter.addWidget(right)
        splitter.setSizes([300, 900])
        layout.addWidget(splitter, 1)
        context.call(
            self, lambda: context.api.orgs(page_size=5000).items, self._orgs, self.status.error
        )
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self.load)

    def _orgs(self, orgs) -> None:  # type: ignore[no-untyped-def]
        self.orgs = orgs
        self.tree.fill(orgs)

    def load(self) -> None:
        org = self.tree.current_org()
        if org is None:
            return
        params = {**self.model.request(), "org_id": org.id}
        api = self.context.api
        self.context.call(self, lambda: api.roles(**params), self._fill, self.status.error)

    def _fill(self, page) -> None:  # type: ignore[no-untyped-def]
        self.model.fill(page.items, page.total)
        self.status.info()
        self.loaded.emit()

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
                self._run(lambda: api.create_role(body))
            else:
                update = dialog.update_body()
                self._run(lambda: api.update_role(role.id, update))

        self.context.call(self, api.permissions, show, self.status.error)

    def _run(self, fn) -> None:  # type: ignore[no-untyped-def]
        def done(result: object) -> None:
            self.changed.emit(result)
            self.load()

        self.context.call(self, fn, done, self.status.error)

    def add(self) -> None:
        self._open(None)

    def edit(self) -> None:
        role = self.table.selected()
        if role is None:
            self.status.error("请先在列表中选择一个角色")
            return
        self._open(role)

    def delete(self) -> None:
        role = self.table.selected()
        if role is None:
            self.status.error("请先在列表中选择一个角色")
            return
        if confirm(self, "删除角色", f"确定删除角色“{role.name}”？此操作不可撤销。"):
            self._run(lambda: self.context.api.delete_role(role.id, role.version))
