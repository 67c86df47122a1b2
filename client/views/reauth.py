"""登录已过期: the dialog the session shows when the server says the session has ended."""

from typing import Any

from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QWidget

from client.api import ApiError
from client.jobs.api_jobs import Reauthenticate
from client.session import Session
from client.views.widgets import ok_cancel


class ReauthDialog(QDialog):
    """Re-enter the password; the form underneath stays as it was."""

    def __init__(self, session: Session, parent: QWidget | None, reason: str) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("重新验证身份")
        self.setModal(True)
        layout = QFormLayout(self)
        layout.addRow(QLabel(f"{reason}。请重新输入密码，未保存的内容不会丢失。"))
        self.username = QLabel(session.me.username if session.me else "")
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
        self.session.run(
            Reauthenticate(username, password),
            lambda _result: self.accept(),
            lambda err: self.error.setText(err.message if isinstance(err, ApiError) else str(err)),
            reauth=False,
        )


def ask_password(session: Session, parent: Any, reason: str) -> bool:
    """The session's ``reauthenticate``: a modal dialog over ``parent``."""
    return bool(ReauthDialog(session, parent, reason).exec())
