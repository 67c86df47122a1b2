"""The sign-in window: server address and username remembered, Enter signs in."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.api import ApiError
from client.jobs.api_jobs import LoadMe, SignIn
from client.session import Session
from client.views.change_password import ChangePasswordDialog
from client.views.style import SIGN_IN_WINDOW
from shared.errors import ErrorCode


class SignInWindow(QWidget):
    signed_in = Signal(object)  # Session with ``me`` filled

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setWindowTitle("保安服务监管信息系统 — 登录")
        self.setObjectName("signInWindow")
        outer = QVBoxLayout(self)
        title = QLabel("保安服务监管信息系统", objectName="titleLabel")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(title)
        form = QFormLayout()
        prefs = session.prefs
        self.server = QLineEdit(prefs.server_url, objectName="serverEdit")
        self.username = QLineEdit(prefs.username, objectName="usernameEdit")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password, objectName="passwordEdit")
        self.remember = QCheckBox("在此工作站记住登录状态（仅保存登录凭证，不保存密码）")
        form.addRow("服务器地址", self.server)
        form.addRow("用户名", self.username)
        form.addRow("密码", self.password)
        form.addRow("", self.remember)
        outer.addLayout(form)
        self.error = QLabel(objectName="errorLabel")
        self.error.setWordWrap(True)
        outer.addWidget(self.error)
        self.button = QPushButton("登录", objectName="signInButton")
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        outer.addWidget(self.button)
        for field in (self.server, self.username, self.password):
            field.returnPressed.connect(self.submit)
        (self.password if self.username.text() else self.username).setFocus()
        self.resize(*SIGN_IN_WINDOW)

    def try_remembered(self) -> None:
        """Resume a session remembered on this workstation, if the server still honours it."""
        server, username = self.server.text().strip(), self.username.text().strip()
        token = self.session.prefs.remembered_token(server, username) if username else None
        if not token:
            return
        api = self.session.connect(server)
        api.token = token
        self.remember.setChecked(True)
        self.error.setText("正在恢复上次的登录状态…")

        def resumed(me) -> None:  # type: ignore[no-untyped-def]
            self.session.me = me
            self.error.setText("")
            self.signed_in.emit(self.session)

        def expired(_err: Exception) -> None:
            api.token = None
            self.session.prefs.forget_token(server, username)
            self.error.setText("上次的登录状态已失效，请重新登录")

        self.session.run(LoadMe(), resumed, expired, reauth=False)

    def submit(self) -> None:
        server, username = self.server.text().strip(), self.username.text().strip()
        password = self.password.text()
        if not server or not username or not password:
            self.error.setText("请填写服务器地址、用户名和密码")
            return
        if self.session.api.base_url != server.rstrip("/"):
            self.session.connect(server)
        self.button.setEnabled(False)
        self.error.setText("正在登录…")
        self.session.run(
            SignIn(username, password),
            lambda value: self._signed_in(server, username, password, *value),
            self._failed,
            reauth=False,
        )

    def _failed(self, err: Exception) -> None:
        self.button.setEnabled(True)
        self.error.setText(err.message if isinstance(err, ApiError) else f"登录失败：{err}")
        self.password.selectAll()
        self.password.setFocus()

    def _signed_in(self, server: str, username: str, password: str, must_change: bool, me) -> None:  # type: ignore[no-untyped-def]
        prefs = self.session.prefs
        prefs.server_url, prefs.username = server, username
        if must_change:
            dialog = ChangePasswordDialog(
                self.session, username, old_password=password, forced=True, parent=self
            )
            if not dialog.exec():
                self.session.api.token = None
                self._failed(
                    ApiError(ErrorCode.PASSWORD_CHANGE_REQUIRED, "须修改密码后才能使用系统")
                )
                return
            self.password.setText(dialog.new_password)
            self.submit()
            return
        if self.remember.isChecked() and self.session.api.token:
            prefs.remember_token(server, username, self.session.api.token)
        else:
            prefs.forget_token(server, username)
        self.session.me = me
        self.button.setEnabled(True)
        self.error.setText("")
        self.signed_in.emit(self.session)
