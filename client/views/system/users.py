"""用户管理: users of the selected organisation with search and paging; add, edit, reset
password (one-time password shown once), unlock, disable/enable.

The server says per user what the clerk may do to it (``allowed_actions``): for the selected
user, 编辑/重置密码/停用(启用)/解锁 are greyed when not allowed, with the reason as the button's
tooltip and in the status line, and an action the server would refuse is not even confirmed."""

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
)

from client.formatting import local_time
from client.jobs.api_jobs import (
    CreateUser,
    ExportUsers,
    LoadAllRoles,
    LoadUsers,
    ResetPassword,
    UnlockUser,
    UpdateUser,
)
from client.jobs.job import ApiJob
from client.models.table import Column, PagedRows
from client.models.user_actions import (
    NO_SELECTION,
    action_label,
    availability,
    unavailable_note,
)
from client.session import Session
from client.views.exporting import run_export
from client.views.system.org_list_page import OrgListPage
from client.views.system.user_dialog import OneTimePasswordDialog, UserDialog
from client.views.widgets import confirm
from shared.schemas.orgs import OrgPublic
from shared.schemas.users import UserAction, UserPublic, UserUpdate

# the buttons that act on the selected user, by key (``OrgListPage`` actions)
ACTION_BUTTONS = {
    "edit": UserAction.edit,
    "reset": UserAction.reset_password,
    "toggle": UserAction.set_enabled,
    "unlock": UserAction.unlock,
}


def _state(user: UserPublic) -> str:
    if not user.enabled:
        return "已停用"
    return "已锁定" if user.locked else "正常"


class _StateColumn(Column):
    def text(self, row: UserPublic) -> str:
        return _state(row)


COLUMNS = [
    _StateColumn("enabled", "状态"),
    Column("username", "用户名", "username"),
    Column("name", "姓名", "name"),
    Column("police_number", "警号"),
    Column("org_name", "所属机构"),
    Column("id_number", "证件号", whole=True),
    Column("mobile", "联系手机"),
    Column("roles", "角色", render=lambda roles: "、".join(r.name for r in roles)),
    Column("login_count", "登录次数", "login_count"),
    Column(
        "last_login_at",
        "最后登录",
        "last_login_at",
        render=local_time,
    ),
]


class UserPage(OrgListPage):
    noun = "用户"
    exported = Signal(object)

    def __init__(self, session: Session) -> None:
        super().__init__(
            session,
            "用户管理",
            PagedRows(COLUMNS),
            "users",
            [
                ("add", "新增", "users:create", self.add),
                ("edit", "编辑", "users:update", self.edit),
                ("reset", "重置密码", "users:reset_password", self.reset_password),
                ("unlock", "解锁", "users:unlock", self.unlock),
                ("toggle", "停用/启用", "users:update", self.toggle_enabled),
                ("export", "导出", "users:view", self.export),
            ],
        )
        bar = QHBoxLayout()
        self.query = QLineEdit(objectName="userSearch")
        self.query.setPlaceholderText("姓名、用户名或警号")
        self.query.returnPressed.connect(self.search)
        self.subtree = QCheckBox("含下级机构")
        self.subtree.toggled.connect(lambda _checked: self.search())
        search = QPushButton("搜索")
        search.clicked.connect(self.search)
        bar.addWidget(self.query, 1)
        bar.addWidget(self.subtree)
        bar.addWidget(search)
        self.right_layout.insertLayout(0, bar)
        self.table.on_activated(lambda _user: self.edit())
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.query.setFocus)
        self.table.view.selectionModel().selectionChanged.connect(self.show_allowed)
        self.model.reset.connect(self.show_allowed)  # a reload: new rows, new answers
        self.show_allowed()

    # -- what the server allows on the selected user ----------------------------------------
    def current_user(self) -> UserPublic | None:
        return self.table.selected()  # type: ignore[no-any-return]

    def show_allowed(self) -> None:
        """Grey the actions the server would refuse on the selected user, and say why."""
        user = self.current_user()
        for key, action in ACTION_BUTTONS.items():
            state = availability(user, action)
            button = self.buttons[key]
            button.setText(action_label(action, user))
            button.setEnabled(state.allowed)
            button.setToolTip(state.reason)
        note = unavailable_note(user, [a for k, a in ACTION_BUTTONS.items() if self._shown(k)])
        if note or user is not None:
            self.status.info(note)

    def _shown(self, key: str) -> bool:
        return not self.buttons[key].isHidden()

    def _may(self, action: UserAction) -> UserPublic | None:
        """The selected user if ``action`` may be tried on it; else says why, in red."""
        user = self.current_user()
        state = availability(user, action)
        if not state.allowed:
            self.status.error(state.reason or NO_SELECTION)
            return None
        return user

    def _query(self, org: OrgPublic) -> dict[str, Any]:
        return {
            "org_id": org.id,
            "q": self.query.text().strip() or None,
            "include_subtree": self.subtree.isChecked(),
            "sort": self.model.sort,
        }

    def page_job(self, org: OrgPublic, request: dict[str, Any]) -> ApiJob:
        return LoadUsers(**{**self._query(org), **request})

    def export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "导出用户", "用户列表.xlsx", "Excel 文件 (*.xlsx)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Every user matching the current search, page by page, into one xlsx (off the UI
        thread; progress in the status line)."""
        org = self.tree.current_org()
        if org is None:
            return
        job = ExportUsers(path, COLUMNS, self._query(org))

        run_export(self.session, self.status, self, job, path, self.exported.emit)

    def _roles_then(self, org_id: int, then) -> None:  # type: ignore[no-untyped-def]
        """Roles a user at ``org_id`` may hold: those of the organisation and those above it
        (roles of the province reach only as far as this client can see the tree)."""
        allowed = self.tree.data_tree.lineage(org_id)

        def applicable(roles) -> None:  # type: ignore[no-untyped-def]
            then(
                [
                    r
                    for r in roles
                    if r.org_id in allowed or r.org_id not in self.tree.data_tree.by_id
                ]
            )

        self.session.run(LoadAllRoles(), applicable, self.status.error, parent=self)

    def add(self) -> None:
        org = self.tree.current_org()
        if org is None:
            return

        def open_dialog(roles) -> None:  # type: ignore[no-untyped-def]
            dialog = UserDialog(org.id, org.name, roles, parent=self)
            if dialog.exec():
                body = dialog.create_body()
                job = CreateUser(body)
                self.session.run(job, self._created, self.status.error, parent=self)

        self._roles_then(org.id, open_dialog)

    def _created(self, created) -> None:  # type: ignore[no-untyped-def]
        OneTimePasswordDialog(created.username, created.initial_password, self).exec()
        self.changed.emit(created)
        self.load()

    def edit(self) -> None:
        user = self._may(UserAction.edit)
        if user is None:
            return

        def open_dialog(roles) -> None:  # type: ignore[no-untyped-def]
            dialog = UserDialog(user.org_id, user.org_name, roles, user, parent=self)
            if dialog.exec():
                body = dialog.update_body()
                self.run_then_reload(UpdateUser(user.id, body))

        self._roles_then(user.org_id, open_dialog)

    def reset_password(self) -> None:
        user = self._may(UserAction.reset_password)
        if user is None or not confirm(
            self,
            "请确认",
            f"确定重置用户 {user.name}（{user.username}）的密码？原密码和登录状态将立即失效。",
            "重置密码",
        ):
            return

        def show(reset) -> None:  # type: ignore[no-untyped-def]
            OneTimePasswordDialog(user.username, reset.initial_password, self).exec()
            self.changed.emit(reset)
            self.load()

        self.session.run(ResetPassword(user.id), show, self.status.error, parent=self)

    def unlock(self) -> None:
        user = self._may(UserAction.unlock)
        if user is not None:
            self.run_then_reload(UnlockUser(user.id))

    def toggle_enabled(self) -> None:
        user = self._may(UserAction.set_enabled)
        if user is None:
            return
        verb = "停用" if user.enabled else "启用"
        question = f"确定{verb}用户 {user.name}（{user.username}）？"
        if not confirm(self, "请确认", question, verb):
            return
        body = UserUpdate(enabled=not user.enabled, version=user.version)
        self.run_then_reload(UpdateUser(user.id, body))
