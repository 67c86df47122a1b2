"""Change-password dialog: the policy is shown and checked as the clerk types."""

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from client.api import ApiError
from client.jobs.api_jobs import ChangePassword
from client.models.password import check_new_password
from client.session import Session
from client.views.widgets import ok_cancel
from shared.password_policy import RULES_TEXT


class ChangePasswordDialog(QDialog):
    def __init__(
        self,
        session: Session,
        username: str,
        *,
        old_password: str = "",
        forced: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.username = username
        self.new_password = ""
        self.setWindowTitle("首次登录，请修改密码" if forced else "修改密码")
        layout = QFormLayout(self)
        if forced:
            layout.addRow(QLabel("您正在使用一次性密码，请设置新密码后继续。"))
        self.old = QLineEdit(
            old_password, echoMode=QLineEdit.EchoMode.Password, objectName="oldPassword"
        )
        self.new = QLineEdit(echoMode=QLineEdit.EchoMode.Password, objectName="newPassword")
        self.repeat = QLineEdit(echoMode=QLineEdit.EchoMode.Password, objectName="repeatPassword")
        layout.addRow("原密码", self.old)
        layout.addRow("新密码", self.new)
        layout.addRow("确认新密码", self.repeat)
        self.rules = QLabel(objectName="policyLabel")
        self.rules.setWordWrap(True)
        layout.addRow("密码规则", self.rules)
        self.error = QLabel(objectName="errorLabel")
        self.error.setWordWrap(True)
        layout.addRow(self.error)
        self.buttons = ok_cancel(self, "确定", self.submit)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout.addRow(self.buttons)
        for field in (self.new, self.repeat):
            field.textChanged.connect(self._recheck)
        self._recheck()

    def _recheck(self) -> None:
        check = check_new_password(self.new.text(), self.repeat.text(), username=self.username)
        broken = set(check.problems)
        lines = []
        for rule, problem_hint in zip(RULES_TEXT, ("长度", "三类", "用户名", "常见"), strict=True):
            failed = any(problem_hint in p for p in broken) or not self.new.text()
            lines.append(f"{'✗' if failed else '✓'} {rule}")
        if check.mismatch:
            lines.append("✗ 两次输入的新密码不一致")
        self.rules.setText("\n".join(lines))
        self.ok_button.setEnabled(check.ok and bool(self.repeat.text()))

    def submit(self) -> None:
        old, new = self.old.text(), self.new.text()
        self.ok_button.setEnabled(False)
        self.error.setText("正在提交…")
        self.session.run(
            ChangePassword(new, old), lambda _none: self._done(new), self._failed, reauth=False
        )

    def _done(self, new: str) -> None:
        self.new_password = new
        self.accept()

    def _failed(self, err: Exception) -> None:
        self.error.setText(err.message if isinstance(err, ApiError) else str(err))
        self._recheck()
