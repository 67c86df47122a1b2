"""The 保安员证 desk's dialogs: a card's particulars and history, and the lifecycle actions —
补发 (遗失/损毁), 更正换发 (corrected particulars), 吊销 (reason and legal basis), 注销 (reason).

Each lifecycle dialog checks what the server would refuse anyway (a reason given, something
corrected) and then asks once more in a box whose default button is 取消: a stray Enter neither
submits the dialog (``guard_enter``) nor confirms it. The page sends the request."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.formatting import local_time
from client.jobs.certificate_jobs import LoadCertificateHistory
from client.session import Session
from client.views import style
from client.views.status import StatusLabel
from client.views.widgets import confirm, guard_enter, ok_cancel, tab_leaves
from shared.certificates import CancelReason, Gender, ReissueReason
from shared.schemas.certificates import (
    CertificateCancellation,
    CertificateCorrection,
    CertificateHistory,
    CertificatePublic,
    CertificateReissue,
    CertificateRevocation,
)


def _error_label() -> QLabel:
    label = QLabel(objectName="errorLabel")
    label.setWordWrap(True)
    return label


def _who(card: CertificatePublic) -> str:
    return f"{card.holder_name}（证书编号 {card.number}）"


def _text_box(placeholder: str) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)
    box.setFixedHeight(style.REASON_BOX_HEIGHT)
    return box


class CertificateDetailDialog(QDialog):
    """A card's particulars, every edition of its number and every event with who, when and
    why (发证, 打印, 打印未完成, 补打, 补发, 更正换发, 吊销, 注销)."""

    HISTORY_COLUMNS = ("时间", "操作", "版次", "操作人", "原因", "依据")

    def __init__(
        self, session: Session, card: CertificatePublic, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session, self.card = session, card
        self.setWindowTitle(f"保安员证详情 — {card.holder_name}")
        self.resize(*style.CERTIFICATE_DETAIL_DIALOG)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        for label, value in (
            ("证书编号", f"{card.number}（第 {card.edition} 版）"),
            ("姓名", card.holder_name),
            ("性别", card.gender_label),
            ("出生日期", card.birth_date.isoformat()),
            ("身份证号", card.id_number),
            ("发证机关", card.issuing_authority),
            ("发证时间", local_time(card.issued_at)),
            ("证书状态", card.status_label),
            ("打印状态", card.print_state_label),
            ("照片", "有" if card.has_photo else "无"),
        ):
            form.addRow(label, QLabel(value))
        layout.addLayout(form)
        layout.addWidget(QLabel("证书历史"))
        self.history = QTableWidget(0, len(self.HISTORY_COLUMNS))
        self.history.setHorizontalHeaderLabels(self.HISTORY_COLUMNS)
        self.history.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        tab_leaves(self.history)
        self.history.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.history, 1)
        self.status = StatusLabel()
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        guard_enter(self)
        self.status.info("正在读取历史…")
        session.run(
            LoadCertificateHistory(card.id), self.show_history, self.status.error, parent=self
        )

    def show_history(self, history: CertificateHistory) -> None:
        self.history.setRowCount(len(history.events))
        for row, event in enumerate(history.events):
            values = (
                local_time(event.occurred_at),
                event.kind_label,
                str(event.edition),
                event.actor_name,
                event.reason,
                event.basis or "",
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                self.history.setItem(row, column, item)
        self.history.resizeColumnsToContents()
        self.status.info(f"共 {len(history.editions)} 版，{len(history.events)} 条记录")


class _LifecycleDialog(QDialog):
    """Title, the card it acts on, the inputs of one action, an error line, and a destructive
    OK that asks again (default 取消) before the dialog is accepted."""

    title = ""
    verb = ""
    question = ""

    def __init__(self, card: CertificatePublic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.card = card
        self.setWindowTitle(f"{self.title} — {card.holder_name}")
        self.resize(*style.CERTIFICATE_ACTION_DIALOG)
        self.layout_ = QVBoxLayout(self)
        intro = QLabel(f"{self.title}：{_who(card)}")
        intro.setWordWrap(True)
        self.layout_.addWidget(intro)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.error = _error_label()
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.error)
        self.buttons = ok_cancel(self, self.verb, self.submit, destructive=True)
        self.layout_.addWidget(self.buttons)

    def problem(self) -> str:
        """What the clerk must still fill in ("" when nothing)."""
        return ""

    def details(self) -> str:
        return ""

    def submit(self) -> None:
        missing = self.problem()
        if missing:
            self.error.setText(missing)
            return
        self.error.clear()
        if confirm(
            self,
            "请确认",
            self.question.format(who=_who(self.card)),
            self.verb,
            details=self.details(),
        ):
            self.accept()

    def body(self) -> Any:
        raise NotImplementedError


# abstract: only its four actions are dialogs of the desk (the dialog walk skips this one)
_LifecycleDialog.__abstractmethods__ = frozenset({"body"})


class ReissueDialog(_LifecycleDialog):
    title = "补发"
    verb = "确认补发"
    question = "确定为 {who} 补发新证？原证将作废，其二维码核验显示“已作废”。"

    def __init__(self, card: CertificatePublic, parent: QWidget | None = None) -> None:
        super().__init__(card, parent)
        self.reason = QComboBox()
        for reason in ReissueReason:
            self.reason.addItem(reason.label, reason.value)
        self.note = QLineEdit(placeholderText="补充说明（可不填）")
        self.form.addRow("补发原因", self.reason)
        self.form.addRow("说明", self.note)

    def details(self) -> str:
        return f"补发原因：{self.reason.currentText()}"

    def body(self) -> CertificateReissue:
        return CertificateReissue(
            version=self.card.version,
            reason=ReissueReason(self.reason.currentData()),
            note=self.note.text().strip(),
        )


class CorrectionDialog(_LifecycleDialog):
    """更正换发: only what is changed is sent; the ID number field is empty unless corrected
    (the list may show it masked)."""

    title = "更正换发"
    verb = "确认更正换发"
    question = "确定按更正后的信息为 {who} 换发新证？原证将作废。"

    def __init__(self, card: CertificatePublic, parent: QWidget | None = None) -> None:
        super().__init__(card, parent)
        self.name = QLineEdit(card.holder_name)
        self.gender = QComboBox()
        for gender in Gender:
            self.gender.addItem(gender.label, gender.value)
        self.gender.setCurrentIndex(max(self.gender.findData(card.gender), 0))
        self.birth = QDateEdit(QDate(card.birth_date), calendarPopup=True)
        self.birth.setDisplayFormat("yyyy-MM-dd")
        self.id_number = QLineEdit(placeholderText=f"不更正请留空（现为 {card.id_number}）")
        self.reason = _text_box("更正原因，例如：姓名录入错误")
        self.form.addRow("姓名", self.name)
        self.form.addRow("性别", self.gender)
        self.form.addRow("出生日期", self.birth)
        self.form.addRow("身份证号", self.id_number)
        self.form.addRow("更正原因", self.reason)

    def changes(self) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        name = self.name.text().strip()
        if name and name != self.card.holder_name:
            changed["holder_name"] = name
        if self.gender.currentData() != self.card.gender:
            changed["gender"] = Gender(self.gender.currentData())
        birth = self.birth.date().toPython()
        if birth != self.card.birth_date:
            changed["birth_date"] = birth
        number = self.id_number.text().strip().upper()
        if number:
            changed["id_number"] = number
        return changed

    def problem(self) -> str:
        if not self.name.text().strip():
            return "姓名不能为空"
        if not self.changes():
            return "请至少更正一项证书信息"
        if not self.reason.toPlainText().strip():
            return "请填写更正原因"
        return ""

    def details(self) -> str:
        labels = {"holder_name": "姓名", "gender": "性别", "birth_date": "出生日期"}
        lines = []
        for key, value in self.changes().items():
            shown = value.label if isinstance(value, Gender) else str(value)
            lines.append(f"{labels.get(key, '身份证号')}：{shown}")
        return "\n".join(lines)

    def body(self) -> CertificateCorrection:
        return CertificateCorrection(
            version=self.card.version, reason=self.reason.toPlainText().strip(), **self.changes()
        )


class RevokeDialog(_LifecycleDialog):
    title = "吊销"
    verb = "确认吊销"
    question = "确定吊销 {who}？吊销后该证二维码核验显示“已吊销”，此操作不可撤销。"

    def __init__(self, card: CertificatePublic, parent: QWidget | None = None) -> None:
        super().__init__(card, parent)
        self.reason = _text_box("吊销原因")
        self.basis = _text_box("法律依据，例如：《保安服务管理条例》第四十三条")
        self.form.addRow("吊销原因", self.reason)
        self.form.addRow("法律依据", self.basis)

    def problem(self) -> str:
        if not self.reason.toPlainText().strip():
            return "请填写吊销原因"
        if not self.basis.toPlainText().strip():
            return "请填写法律依据"
        return ""

    def details(self) -> str:
        return (
            f"原因：{self.reason.toPlainText().strip()}\n依据：{self.basis.toPlainText().strip()}"
        )

    def body(self) -> CertificateRevocation:
        return CertificateRevocation(
            version=self.card.version,
            reason=self.reason.toPlainText().strip(),
            basis=self.basis.toPlainText().strip(),
        )


class CancelDialog(_LifecycleDialog):
    title = "注销"
    verb = "确认注销"
    question = "确定注销 {who}？注销后该证二维码核验显示“已注销”，此操作不可撤销。"

    def __init__(self, card: CertificatePublic, parent: QWidget | None = None) -> None:
        super().__init__(card, parent)
        self.reason = QComboBox()
        for reason in CancelReason:
            self.reason.addItem(reason.label, reason.value)
        self.note = QLineEdit(placeholderText="说明（原因为“其他”时必填）")
        self.form.addRow("注销原因", self.reason)
        self.form.addRow("说明", self.note)

    def problem(self) -> str:
        if self.reason.currentData() == CancelReason.other.value and not self.note.text().strip():
            return "注销原因为“其他”时请填写说明"
        return ""

    def details(self) -> str:
        note = self.note.text().strip()
        return f"注销原因：{self.reason.currentText()}{('；' + note) if note else ''}"

    def body(self) -> CertificateCancellation:
        return CertificateCancellation(
            version=self.card.version,
            reason=CancelReason(self.reason.currentData()),
            note=self.note.text().strip(),
        )
