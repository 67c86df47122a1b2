from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QWidget

from client.api import ApiError
from client.views.widgets import ok_cancel


class ReauthDialog(QDialog):
    """登录已过期：re-enter the password; the form underneath stays as it was."""

    def __init__(self, context, parent: QWidget | None, reason: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("重新验证身份")
        self.setModal(True)
        layout = QFormLayout(self)
        layout.addRow(QLabel(f"{reason}。请重新输入密码，未保存的内容不会丢失。"))
        self.username = QLabel(context.me.username if context.me else "")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.password.setObjectName("reauthPassword")
        self.error = QLabel(objectName="errorLabel")
        layout.addRow("用户名", self.username)
        layout.addRow("密码", self.password)
        layout.addRow(self.error)
        buttons = ok_cancel(self, "确定", self._submit, enter_submits=True)  # signs in only
        layout.addRow(buttons)

    def _submit(self) -> None:
        username, password = self.username.text(), self.password.text()
        if not password:  # an empty try would only count towards locking the account
            self.error.setText("请输入密码")
            return
        self.error.setText("正在验证…")
        self.context.runner.submit(
            lambda: self.context.api.login(username, password),
            lambda _result: self.accept(),
            lambda err: self.error.setText(err.message if isinstance(err, ApiError) else str(err)),
        )
