"""The small dialogs of the review: 不同意 (reason and the complete list of corrections,
一次性告知), 指派, 收回/改派, 退回上一级 and 获取指纹卡号. Each checks what the server would refuse
anyway, so the clerk learns it before sending; the server still decides.

Enter never sends (``client.views.widgets``): in the corrections field it adds the item, in a
list it does nothing; 不同意 is sent only by its button, after a confirmation listing what the
applicant will be told."""

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.views.style import PICK_PERSON_DIALOG, REASON_BOX_HEIGHT, REJECT_DIALOG
from client.views.widgets import confirm, not_on_enter, ok_cancel
from shared.approvals import FINGERPRINT_CARD_PATTERN
from shared.schemas.applications import PendingApprover


def _error_label() -> QLabel:
    label = QLabel(objectName="errorLabel")
    label.setWordWrap(True)
    return label


class RejectDialog(QDialog):
    """The reason and every correction go to the applicant (对外可见) and end this round; the
    internal opinion (内部意见, optional) stays inside: it is logged for colleagues only and
    never reaches the applicant or the extranet."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("不同意 — 退回申请人")
        self.resize(*REJECT_DIALOG)
        layout = QVBoxLayout(self)
        note = QLabel("退回原因和补正清单对申请人可见；请一次性告知全部需要补正的内容。")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(QLabel("退回原因（对外可见）"))
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("例如：申请材料不齐全")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(REASON_BOX_HEIGHT)
        layout.addWidget(self.reason)
        layout.addWidget(QLabel("需补正的内容（每项一行，可直接编辑）"))
        self.corrections = QListWidget()
        layout.addWidget(self.corrections, 2)
        row = QHBoxLayout()
        self.new_item = QLineEdit(placeholderText="输入一项补正内容后按回车添加")
        self.new_item.returnPressed.connect(self.add_correction)
        add = QPushButton("添加")
        add.clicked.connect(self.add_correction)
        remove = QPushButton("删除所选")
        remove.clicked.connect(self.remove_selected)
        not_on_enter(add, remove)
        for widget in (self.new_item, add, remove):
            row.addWidget(widget)
        layout.addLayout(row)
        layout.addWidget(QLabel("内部意见（选填，仅公安内部可见，不告知申请人）"))
        self.internal = QPlainTextEdit()
        self.internal.setAccessibleName("内部意见")
        self.internal.setTabChangesFocus(True)
        self.internal.setFixedHeight(REASON_BOX_HEIGHT)
        layout.addWidget(self.internal)
        self.error = _error_label()
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self, "确认退回", self.submit, destructive=True))

    def add_correction(self) -> None:
        text = self.new_item.text().strip()
        if text:
            item = QListWidgetItem(text)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.corrections.addItem(item)
            self.new_item.clear()

    def remove_selected(self) -> None:
        for item in self.corrections.selectedItems():
            self.corrections.takeItem(self.corrections.row(item))

    def values(self) -> tuple[str, list[str]]:
        items = [self.corrections.item(i).text().strip() for i in range(self.corrections.count())]
        return self.reason.toPlainText().strip(), [i for i in items if i]

    def internal_opinion(self) -> str:
        return self.internal.toPlainText().strip()

    def submit(self) -> None:
        self.add_correction()  # a typed but not yet added line counts
        reason, corrections = self.values()
        if len(reason) < 2:
            self.error.setText("请填写退回原因")
        elif not corrections:
            self.error.setText("请至少列出一项需补正的内容")
        elif confirm(
            self,
            "确认退回",
            "将退回申请人并结束本轮审批。申请人将看到以下退回原因和补正清单：",
            "确认退回",
            details=self.summary(reason, corrections),
        ):
            self.accept()

    @staticmethod
    def summary(reason: str, corrections: list[str]) -> str:
        """What the applicant is told, as the confirmation shows it."""
        lines = [f"退回原因：{reason}", "需补正的内容："]
        lines += [f"{n}. {item}" for n, item in enumerate(corrections, start=1)]
        return "\n".join(lines)


class AssignDialog(QDialog):
    """指派: the step goes to one colleague who could act on it (the server checks again)."""

    def __init__(self, colleagues: list[PendingApprover], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("指派")
        self.resize(*PICK_PERSON_DIALOG)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("指派给（本环节有审批权限的人员）"))
        self.people = QListWidget()
        for person in colleagues:
            item = QListWidgetItem(f"{person.name} [{person.role_label}] {person.org_name}")
            item.setData(Qt.ItemDataRole.UserRole, person.user_id)
            self.people.addItem(item)
        self.people.itemDoubleClicked.connect(lambda _item: self.submit())
        layout.addWidget(self.people, 1)
        layout.addWidget(QLabel("指派说明（内部）"))
        self.opinion = QPlainTextEdit()
        self.opinion.setTabChangesFocus(True)
        layout.addWidget(self.opinion)
        self.error = _error_label()
        if not colleagues:
            self.error.setText("本环节没有其他可指派的人员")
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self, "指派", self.submit))

    def chosen(self) -> int | None:
        item = self.people.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def submit(self) -> None:
        if self.chosen() is None:
            self.error.setText("请选择指派对象")
        else:
            self.accept()


class ReassignDialog(QDialog):
    """收回/改派 (a leader's or an administrator's): 收回 gives the step back to the bureau (only
    offered when the server allows it: the step is assigned to someone), any other line hands it
    to that person (认领 when it is oneself); the server lists who and checks again."""

    def __init__(
        self,
        people: list[PendingApprover],
        assigned: str | None,
        *,
        can_release: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("收回/改派")
        self.resize(*PICK_PERSON_DIALOG)
        layout = QVBoxLayout(self)
        now = (
            f"当前指派给：{assigned}"
            if assigned
            else "当前未指派给个人，本单位有权限的人员均可办理"
        )
        layout.addWidget(QLabel(now))
        self.people = QListWidget()
        self.can_release = can_release
        if can_release:
            back = QListWidgetItem("收回到本单位待办（不指定办理人）")
            back.setData(Qt.ItemDataRole.UserRole, None)
            self.people.addItem(back)
        for person in people:
            item = QListWidgetItem(f"改派给 {person.name} [{person.role_label}] {person.org_name}")
            item.setData(Qt.ItemDataRole.UserRole, person.user_id)
            self.people.addItem(item)
        self.people.itemDoubleClicked.connect(lambda _item: self.submit())
        layout.addWidget(self.people, 1)
        layout.addWidget(QLabel("说明（内部）"))
        self.opinion = QPlainTextEdit()
        self.opinion.setTabChangesFocus(True)
        layout.addWidget(self.opinion)
        self.error = _error_label()
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self, "确定", self.submit))

    def chosen(self) -> tuple[bool, int | None]:
        """(whether a line is chosen, the person's id or None for the bureau)."""
        item = self.people.currentItem()
        if item is None:
            return False, None
        value = item.data(Qt.ItemDataRole.UserRole)
        return True, None if value is None else int(value)

    def submit(self) -> None:
        if not self.chosen()[0]:
            what = "收回到本单位或改派对象" if self.can_release else "改派对象"
            self.error.setText(f"请选择{what}")
        else:
            self.accept()


class ReasonDialog(QDialog):
    """A required reason, for 退回上一级 (internal: the previous step sees it)."""

    def __init__(self, title: str, prompt: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt))
        self.reason = QPlainTextEdit()
        self.reason.setTabChangesFocus(True)
        layout.addWidget(self.reason)
        self.error = _error_label()
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self, "确定", self.submit))

    def value(self) -> str:
        return self.reason.toPlainText().strip()

    def submit(self) -> None:
        if len(self.value()) < 2:
            self.error.setText("请填写原因（至少 2 个字）")
        else:
            self.accept()


class FingerprintCardDialog(QDialog):
    """获取指纹卡号: the number the fingerprint desk issued (ZW + 6-digit region + 10 digits)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("获取指纹卡号")
        form = QFormLayout(self)
        self.number = QLineEdit(placeholderText="ZW3301060000000001")
        self.number.setMaxLength(18)
        form.addRow("指纹卡号", self.number)
        self.error = _error_label()
        form.addRow(self.error)
        form.addRow(ok_cancel(self, "登记", self.submit))

    def value(self) -> str:
        return self.number.text().strip().upper()

    def submit(self) -> None:
        if not re.fullmatch(FINGERPRINT_CARD_PATTERN, self.value()):
            self.error.setText("指纹卡号格式不正确：ZW + 6 位行政区划代码 + 10 位序号")
        else:
            self.accept()
