"""Change-password dialog: the policy is shown and checked as the clerk types.

修改密码 from the main window verifies the clerk's mobile (操作手册 1.2): 获取验证码 sends an SMS
code (the button then counts down as long as the server asks before another), and the change is
sent with that code. The first sign-in's forced change is proven by the one-time password just
typed instead."""

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from client.api import ApiError
from client.jobs.api_jobs import ChangePassword, SendVerificationCode
from client.models.password import ResendCountdown, check_new_password
from client.session import Session
from client.views.widgets import not_on_enter, ok_cancel
from shared.errors import ErrorCode
from shared.password_policy import RULES_TEXT

SMS_NOTE = "修改密码需验证您的手机号：点击【获取验证码】，验证码将以短信发送到您登记的手机。"
TICK_MS = 1000


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
        self.forced = forced
        self.new_password = ""
        self.countdown = ResendCountdown()
        self.setWindowTitle("首次登录，请修改密码" if forced else "修改密码")
        layout = QFormLayout(self)
        self.old = QLineEdit(
            old_password, echoMode=QLineEdit.EchoMode.Password, objectName="oldPassword"
        )
        self.code = QLineEdit(objectName="verificationCode", placeholderText="6 位数字")
        self.code.setMaxLength(6)
        self.send_button = QPushButton(self.countdown.label)
        self.send_button.clicked.connect(self.send_code)
        not_on_enter(self.send_button)
        self.sent_note = QLabel(objectName="policyLabel")
        self.sent_note.setWordWrap(True)
        # precise: a coarse timer may end the countdown a little before the server's interval
        self.timer = QTimer(self, interval=TICK_MS, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        if forced:
            layout.addRow(QLabel("您正在使用一次性密码，请设置新密码后继续。"))
            layout.addRow("原密码", self.old)
        else:
            note = QLabel(SMS_NOTE)
            note.setWordWrap(True)
            layout.addRow(note)
            row = QHBoxLayout()
            row.addWidget(self.code, 1)
            row.addWidget(self.send_button)
            layout.addRow("手机验证码", row)
            layout.addRow("", self.sent_note)
        self.new = QLineEdit(echoMode=QLineEdit.EchoMode.Password, objectName="newPassword")
        self.repeat = QLineEdit(echoMode=QLineEdit.EchoMode.Password, objectName="repeatPassword")
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
        for field in (self.new, self.repeat, self.code):
            field.textChanged.connect(self._recheck)
        self._recheck()

    # -- the SMS code ------------------------------------------------------------------------
    def send_code(self) -> None:
        if not self.countdown.ready:
            return
        self.send_button.setEnabled(False)
        self.sent_note.setText("正在发送验证码…")
        self.session.run(SendVerificationCode(), self._sent, self._send_failed, parent=self)

    def _sent(self, sent) -> None:  # type: ignore[no-untyped-def]
        minutes = max(1, sent.expires_in_seconds // 60)
        self.sent_note.setText(f"验证码已发送至 {sent.sent_to}，{minutes} 分钟内有效")
        self._count_down(sent.resend_after_seconds)
        self.code.setFocus()

    def _send_failed(self, err: Exception) -> None:
        self.sent_note.setText("")
        self.error.setText(err.message if isinstance(err, ApiError) else str(err))
        details = getattr(err, "details", None)
        left = details.get("seconds_left") if isinstance(details, dict) else None
        self._count_down(int(left) if isinstance(left, int | float) else 0)

    def _count_down(self, seconds: int) -> None:
        self.countdown.start(seconds)
        self._tick(advance=False)
        if not self.countdown.ready:
            self.timer.start()

    def _tick(self, advance: bool = True) -> None:
        if advance:
            self.countdown.tick()
        if self.countdown.ready:
            self.timer.stop()
        self.send_button.setText(self.countdown.label)
        self.send_button.setEnabled(self.countdown.ready)

    # -- the new password --------------------------------------------------------------------
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
        proven = self.forced or bool(self.code.text().strip())
        self.ok_button.setEnabled(check.ok and bool(self.repeat.text()) and proven)

    def submit(self) -> None:
        new = self.new.text()
        if self.forced:
            job = ChangePassword(new, self.old.text())
        else:
            job = ChangePassword(new, code=self.code.text().strip())
        self.ok_button.setEnabled(False)
        self.error.setText("正在提交…")
        self.session.run(job, lambda _none: self._done(new), self._failed, reauth=False)

    def _done(self, new: str) -> None:
        self.timer.stop()
        self.new_password = new
        self.accept()

    def _failed(self, err: Exception) -> None:
        self.error.setText(err.message if isinstance(err, ApiError) else str(err))
        self._recheck()
        if isinstance(err, ApiError) and err.code == ErrorCode.VERIFICATION_CODE_INVALID:
            self.code.selectAll()
            self.code.setFocus()
