"""新增/编辑用户: identity, organisation, business approval roles per business type and custom
roles — at least one of the two (seed 001 §2.3.1)."""

from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.formatting import local_time
from client.views.style import USER_DIALOG
from client.views.widgets import guard_enter, ok_cancel
from shared import validation
from shared.enums import ApprovalRole, BusinessType
from shared.idnumber import IdNumberError, parse_id_number
from shared.schemas.roles import RolePublic
from shared.schemas.users import UserCreate, UserPublic, UserUpdate


class UserDialog(QDialog):
    def __init__(
        self,
        org_id: int,
        org_name: str,
        roles: list[RolePublic],
        user: UserPublic | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.org_id, self.user = org_id, user
        self.setWindowTitle("编辑用户" if user else "新增用户")
        # two columns: the approval roles (one per business type) beside the identity, so the
        # dialog fits a 1366 × 768 screen
        self.resize(*USER_DIALOG)
        outer = QVBoxLayout(self)
        columns = QHBoxLayout()
        left = QVBoxLayout()
        form = QFormLayout()
        self.username = QLineEdit(user.username if user else "", objectName="userUsername")
        self.username.setEnabled(user is None)
        self.name = QLineEdit(user.name if user else "", objectName="userName")
        self.is_police = QCheckBox("是")
        self.is_police.setChecked(user.is_police if user else True)
        self.police_number = QLineEdit(user.police_number or "" if user else "")
        self.id_number = QLineEdit("", objectName="userIdNumber")
        self.id_number.setPlaceholderText("不修改请留空" if user else "18位公民身份号码")
        self.mobile = QLineEdit("", objectName="userMobile")
        self.mobile.setPlaceholderText(user.mobile or "" if user else "11位手机号")
        form.addRow("* 用户名", self.username)
        form.addRow("* 姓名", self.name)
        form.addRow("* 是否民警", self.is_police)
        form.addRow("警号", self.police_number)
        form.addRow("证件号", self.id_number)
        form.addRow("* 联系手机" if user is None else "联系手机", self.mobile)
        form.addRow("所属单位", QLabel(org_name))
        if user is not None:
            form.addRow("登录次数", QLabel(f"{user.login_count}次"))
            last = local_time(user.last_login_at) or "—"
            form.addRow("最后登录时间", QLabel(last))
        left.addLayout(form)
        left.addWidget(QLabel("自定义角色"))
        self.roles = self._role_list(roles, user)
        left.addWidget(self.roles, 1)
        columns.addLayout(left, 1)
        columns.addWidget(self._approval_box(user), 1)
        outer.addLayout(columns, 1)
        self.error = QLabel(objectName="errorLabel")
        self.error.setWordWrap(True)
        outer.addWidget(self.error)
        buttons = ok_cancel(self, "保存", self._check_and_accept)
        outer.addWidget(buttons)

    def _approval_box(self, user: UserPublic | None) -> QGroupBox:
        box = QGroupBox("业务审批角色（业务审批角色和自定义角色至少选一个）")
        form = QFormLayout(box)
        self.approval: dict[BusinessType, QComboBox] = {}
        held = user.approval_roles if user else {}
        for business in BusinessType:
            combo = QComboBox()
            combo.addItem("请选择", None)
            for role in ApprovalRole:
                combo.addItem(role.label, role)
            current = held.get(business) or []
            if current:
                combo.setCurrentIndex(combo.findData(current[0]))
            form.addRow(f"{business.label}：", combo)
            self.approval[business] = combo
        return box

    def _role_list(self, roles: list[RolePublic], user: UserPublic | None) -> QListWidget:
        listing = QListWidget(objectName="userRoles")
        mine = {r.id for r in user.roles} if user else set()
        for role in roles:
            item = QListWidgetItem(f"{role.name}（{role.org_name}）")
            item.setData(Qt.ItemDataRole.UserRole, role.id)
            item.setCheckState(
                Qt.CheckState.Checked if role.id in mine else Qt.CheckState.Unchecked
            )
            listing.addItem(item)
        return listing

    def role_ids(self) -> list[int]:
        return [
            int(self.roles.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.roles.count())
            if self.roles.item(i).checkState() == Qt.CheckState.Checked
        ]

    def approval_roles(self) -> dict[BusinessType, list[ApprovalRole]]:
        return {
            bt: [combo.currentData()] for bt, combo in self.approval.items() if combo.currentData()
        }

    def _check_and_accept(self) -> None:
        problems = []
        if not self.name.text().strip() or (self.user is None and not self.username.text().strip()):
            problems.append("请填写用户名和姓名")
        if self.id_number.text().strip():
            try:
                parse_id_number(self.id_number.text())
            except IdNumberError as err:
                problems.append(str(err))
        if self.user is None and not self.mobile.text().strip():
            problems.append("请填写联系手机")
        if not self.role_ids() and not self.approval_roles():
            problems.append("业务审批角色和自定义角色至少选一个")
        if not problems:  # the server's own schemas, so what they refuse is said here
            try:
                self.create_body() if self.user is None else self.update_body()
            except ValidationError as err:
                problems.append(validation.summary(err.errors(), {"name": "姓名"}))
        if problems:
            self.error.setText("；".join(problems))
            return
        self.accept()

    def create_body(self) -> UserCreate:
        return UserCreate(
            username=self.username.text().strip(),
            name=self.name.text().strip(),
            org_id=self.org_id,
            mobile=self.mobile.text().strip(),
            id_number=self.id_number.text().strip() or None,
            is_police=self.is_police.isChecked(),
            police_number=self.police_number.text().strip() or None,
            role_ids=self.role_ids(),
            approval_roles=self.approval_roles(),
        )

    def update_body(self) -> UserUpdate:
        assert self.user is not None
        changes: dict[str, object] = {
            "name": self.name.text().strip(),
            "is_police": self.is_police.isChecked(),
            "police_number": self.police_number.text().strip() or None,
            "role_ids": self.role_ids(),
            "approval_roles": self.approval_roles(),
            "version": self.user.version,
        }
        if self.id_number.text().strip():
            changes["id_number"] = self.id_number.text().strip()
        if self.mobile.text().strip():
            changes["mobile"] = self.mobile.text().strip()
        return UserUpdate(**changes)  # type: ignore[arg-type]


class OneTimePasswordDialog(QDialog):
    """Shows a one-time password exactly once, with a copy button."""

    def __init__(self, username: str, password: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtWidgets import QApplication, QPushButton

        self.setWindowTitle("一次性密码")
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(f"用户 {username} 的一次性密码（仅显示这一次，首次登录后须修改）：")
        )
        self.password = QLineEdit(password, objectName="oneTimePassword")
        self.password.setReadOnly(True)
        layout.addWidget(self.password)
        copy = QPushButton("复制")
        copy.clicked.connect(lambda: QApplication.clipboard().setText(password))
        layout.addWidget(copy)
        close = QPushButton("我已记下，关闭")
        close.clicked.connect(self.accept)
        layout.addWidget(close)
        guard_enter(self)  # Enter is not "I have written it down"
