"""录入指纹: guided enrolment at the level-two gate of a guard-exam enrolment.

The dialog shows the five steps, the live instruction in large type (read aloud to the
applicant), what went wrong in words a clerk can act on, and the result: the card number, or the
refusal when the finger is already enrolled under someone else (flagged on the application by the
server). Esc or 取消 stops the device between polls; nothing is recorded until the last step.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.devices.enrolment import STEP_LABELS, Prompt, Step
from client.models.fingerprint_enrolment import EnrolmentModel
from client.views.style import ENROL_DIALOG, ENROL_PROMPT_HEIGHT, ENROL_STEPS_WIDTH, set_state
from client.views.widgets import guard_enter, not_on_enter
from shared.schemas.applications import ApplicationDetail, FingerprintMatch

# what a clerk should do when the device says so (the driver's message says what happened)
ADVICE = {
    "TIMEOUT": "请确认采集仪已连接并通电，端口和波特率与【设备设置】一致。",
    "DISCONNECTED": "采集仪连接已断开：请插好数据线后点【重新采集】。报名信息未作更改。",
    "PORT_NOT_FOUND": "请在【设备设置】中选择正确的端口。",
    "PORT_BUSY": "请关闭占用采集仪端口的其他程序。",
}


class FingerprintEnrolDialog(QDialog):
    def __init__(
        self, model: EnrolmentModel, detail: ApplicationDetail, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.detail = detail
        self.result_detail: ApplicationDetail | None = None
        self.wants_manual = False  # closed with 手工输入指纹卡号: the caller asks for the number
        self.setWindowTitle("录入指纹")
        applicant = next((p for p in detail.persons if p.role == "applicant"), None)
        who = QLabel(
            f"报名号 {detail.number}　申请人 {detail.applicant_name}"
            + (f"　身份证号 {applicant.id_number}" if applicant and applicant.id_number else ""),
            objectName="enrolWho",
        )
        self.steps = QListWidget(objectName="enrolSteps")
        self.steps.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for step in Step:
            self.steps.addItem(QListWidgetItem(f"{step.value}. {STEP_LABELS[step]}"))
        self.steps.setFixedWidth(ENROL_STEPS_WIDTH)
        self.prompt = QLabel(
            "点击【开始采集】后，请申请人将手指平放在采集窗口", objectName="enrolPrompt"
        )
        self.prompt.setWordWrap(True)
        self.prompt.setMinimumHeight(ENROL_PROMPT_HEIGHT)
        self.detail_label = QLabel(objectName="enrolDetail")
        self.detail_label.setWordWrap(True)
        buttons = self._buttons()
        right = QVBoxLayout()
        right.addWidget(self.prompt)
        right.addWidget(self.detail_label)
        right.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.steps)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(who)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)
        self.resize(*ENROL_DIALOG)

        model.prompted.connect(self._prompted)
        model.enrolled.connect(self._enrolled)
        model.refused.connect(self._refused)
        model.failed.connect(self._failed)
        model.running_changed.connect(self._running)
        self._running(False)

    def _buttons(self) -> QHBoxLayout:
        self.start_button = QPushButton("开始采集", objectName="enrolStart")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("取消", objectName="enrolCancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.manual_button = QPushButton("手工输入指纹卡号…", objectName="enrolManual")
        self.manual_button.setToolTip("在其他系统录入指纹的派出所，输入该系统发放的指纹卡号")
        self.manual_button.clicked.connect(self._manual)
        self.close_button = QPushButton("关闭", objectName="enrolClose")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.manual_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        # starting ends in a registration: clicked, not a stray Enter
        not_on_enter(self.start_button, self.manual_button)
        guard_enter(self)
        return buttons

    # -- the model talks ----------------------------------------------------------------------
    def _mark(self, current: Step | None, *, failed: bool = False, done: bool = False) -> None:
        for step in Step:
            item = self.steps.item(step.value - 1)
            mark = ""
            if current is not None and (step < current or (done and step == current)):
                mark = "✓ "
            elif current is not None and step == current:
                mark = "✗ " if failed else "→ "
            item.setText(f"{mark}{step.value}. {STEP_LABELS[step]}")

    def _prompted(self, prompt: Prompt) -> None:
        self._mark(prompt.step)
        set_state(self.prompt, "outcome", "")
        self.prompt.setText(prompt.text)
        self.detail_label.clear()

    def _enrolled(self, detail: ApplicationDetail) -> None:
        self.result_detail = detail
        self._mark(Step.register, done=True)
        set_state(self.prompt, "outcome", "enrolled")
        self.prompt.setText(f"指纹录入成功，指纹卡号 {detail.fingerprint_card_no}")
        self.detail_label.setText("可以关闭本窗口，继续二级审批。")
        self.start_button.setVisible(False)
        self.manual_button.setVisible(False)
        self.close_button.setFocus()

    def _refused(self, match: FingerprintMatch) -> None:
        self._mark(Step.search, failed=True)
        set_state(self.prompt, "outcome", "failed")
        self.prompt.setText("该指纹已在他人名下登记，拒绝录入")
        self.detail_label.setText(
            f"{match.message}\n对方：{match.person_name or ''}　{match.id_number or ''}"
            f"　报名号 {match.application_number or ''}"
        )
        self.start_button.setText("重新采集")

    def _failed(self, message: str, code: str) -> None:
        self._mark(self.model.step, failed=True)
        set_state(self.prompt, "outcome", "failed")
        self.prompt.setText(message)
        self.detail_label.setText(ADVICE.get(code, "请按提示处理后点【重新采集】。"))
        self.start_button.setText("重新采集")

    def _running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.manual_button.setEnabled(not running)
        self.cancel_button.setVisible(running)
        self.close_button.setVisible(not running)

    # -- the clerk acts -----------------------------------------------------------------------
    def start(self) -> None:
        version = self.detail.version
        self._mark(Step.connect)
        self.model.start(version)

    def cancel(self) -> None:
        self.model.cancel()

    def _manual(self) -> None:
        self.wants_manual = True
        self.reject()

    def reject(self) -> None:
        if self.model.running:  # Esc while waiting for a finger: stop the device first
            self.model.cancel()
            return
        if self.result_detail is not None:
            self.accept()
            return
        super().reject()
