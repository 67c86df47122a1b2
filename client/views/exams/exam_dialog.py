"""新增考试 / 修改: name, address, start and end (Beijing time), seats, the organising bureau (the
clerk's own: the server sets it) and the pass rule chosen from the server's rules, each shown
with its subjects' full and pass marks. The rule of an existing exam is its snapshot and cannot
change. The dialog saves through the server itself, so a refusal (end before start, fewer seats
than candidates, a colleague's change) is shown here in the server's words and nothing typed is
lost. A published exam whose time or place changes notifies every candidate again: that is
confirmed first."""

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from client.jobs.exam_jobs import CreateExam, UpdateExam
from client.models.exams import rule_lines
from client.session import Session
from client.views.status import StatusLabel
from client.views.style import EXAM_DIALOG
from client.views.widgets import confirm, ok_cancel
from shared.china_time import china_time
from shared.exams import ExamStatus
from shared.schemas.exams import ExamCreate, ExamPublic, ExamUpdate, PassRulePublic

BEIJING = QTimeZone(b"Asia/Shanghai")
FORMAT = "yyyy-MM-dd HH:mm"


def _edit(value: datetime) -> QDateTimeEdit:
    """Beijing time whatever the workstation's zone, to the minute."""
    edit = QDateTimeEdit(calendarPopup=True)
    edit.setTimeZone(BEIJING)
    edit.setDisplayFormat(FORMAT)
    edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(value.timestamp()) // 60 * 60, BEIJING))
    return edit


def _value(edit: QDateTimeEdit) -> datetime:
    return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), UTC)


class ExamDialog(QDialog):
    def __init__(
        self,
        session: Session,
        rules: list[PassRulePublic],
        org_name: str,
        exam: ExamPublic | None = None,
        parent: QWidget | None = None,
        *,
        now: datetime | None = None,
    ) -> None:
        super().__init__(parent)
        self.session, self.exam, self.rules = session, exam, rules
        self.saved: ExamPublic | None = None
        self.setWindowTitle("修改考试" if exam else "新增考试")
        self.resize(*EXAM_DIALOG)
        layout = QVBoxLayout(self)
        layout.addLayout(self._form(org_name, now))
        self.note = QLabel(objectName="examNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.status = StatusLabel()
        layout.addWidget(self.status)
        self.buttons = ok_cancel(self, "保存", self.save)
        layout.addWidget(self.buttons)
        if exam is not None:
            self.name.setText(exam.name)
            self.address.setText(exam.address)
            self.rule.addItem(exam.pass_rule.name, exam.pass_rule_id)  # the exam's snapshot
            self.rule.setCurrentIndex(self.rule.count() - 1)
            self.rule.setEnabled(False)
            self.rule.setToolTip("考试创建后成绩合格标准不能更改")
            if exam.status == ExamStatus.published:
                self.note.setText("该考试已发布：修改考试时间或地点后，系统将重新通知全部考生。")
        self._show_rule()

    def _form(self, org_name: str, now: datetime | None) -> QFormLayout:
        exam = self.exam
        form = QFormLayout()
        self.name = QLineEdit(objectName="examName")
        self.name.setMaxLength(100)
        self.name.setPlaceholderText("如：2026年第三期保安员资格考试")
        self.address = QLineEdit(objectName="examAddress")
        self.address.setMaxLength(200)
        start = (now or datetime.now(UTC)) + timedelta(days=14)
        start = china_time(start).replace(hour=9, minute=0, second=0, microsecond=0)
        self.starts = _edit(exam.starts_at if exam else start)
        self.ends = _edit(exam.ends_at if exam else start + timedelta(hours=2))
        self.starts.dateTimeChanged.connect(self._keep_order)
        self.seats = QSpinBox(objectName="examSeats")
        self.seats.setRange(1, 10000)
        self.seats.setSuffix(" 个")
        self.seats.setValue(exam.seats if exam else 50)
        self.rule = QComboBox(objectName="passRule")
        for rule in self.rules:
            self.rule.addItem(rule.name, rule.id)
        self.rule_detail = QLabel(objectName="ruleDetail")
        self.rule_detail.setWordWrap(True)
        self.rule.currentIndexChanged.connect(self._show_rule)
        form.addRow("考试名称", self.name)
        form.addRow("考试地址", self.address)
        form.addRow("开始时间", self.starts)
        form.addRow("结束时间", self.ends)
        form.addRow("考位数", self.seats)
        form.addRow("组织单位", QLabel(exam.org_name if exam else org_name))
        form.addRow("成绩合格标准", self.rule)
        form.addRow("", self.rule_detail)
        return form

    def _keep_order(self) -> None:
        """The end follows a start moved past it, two hours later."""
        if self.ends.dateTime() <= self.starts.dateTime():
            self.ends.setDateTime(self.starts.dateTime().addSecs(2 * 3600))

    def _show_rule(self) -> None:
        rule = self._rule()
        self.rule_detail.setText("\n".join(rule_lines(rule)) if rule is not None else "")

    def _rule(self) -> Any:
        if self.exam is not None:
            return self.exam.pass_rule
        chosen = self.rule.currentData()
        found = next((r for r in self.rules if r.id == chosen), None)
        return found.rule if found is not None else None

    # -- saving ------------------------------------------------------------------------------
    def _problem(self) -> str | None:
        if len(self.name.text().strip()) < 2:
            self.name.setFocus()
            return "请填写考试名称（至少 2 个字）"
        if len(self.address.text().strip()) < 2:
            self.address.setFocus()
            return "请填写考试地址"
        if self.ends.dateTime() <= self.starts.dateTime():
            self.ends.setFocus()
            return "结束时间须晚于开始时间"
        if self.exam is None and self.rule.currentData() is None:
            return "请选择成绩合格标准"
        return None

    def create_body(self) -> ExamCreate:
        return ExamCreate(
            name=self.name.text().strip(),
            address=self.address.text().strip(),
            starts_at=_value(self.starts),
            ends_at=_value(self.ends),
            seats=self.seats.value(),
            pass_rule_id=self.rule.currentData(),
        )

    def update_body(self) -> ExamUpdate:
        """Only what changed, with the version the clerk saw."""
        exam = self.exam
        assert exam is not None
        changes: dict[str, Any] = {}
        values = {
            "name": self.name.text().strip(),
            "address": self.address.text().strip(),
            "starts_at": _value(self.starts),
            "ends_at": _value(self.ends),
            "seats": self.seats.value(),
        }
        for key, value in values.items():
            if value != getattr(exam, key):
                changes[key] = value
        return ExamUpdate(version=exam.version, **changes)

    def renotifies(self, body: ExamUpdate) -> bool:
        fields = body.model_fields_set & {"address", "starts_at", "ends_at"}
        return self.exam is not None and self.exam.status == ExamStatus.published and bool(fields)

    def save(self) -> None:
        problem = self._problem()
        if problem:
            self.status.error(problem)
            return
        if self.exam is None:
            job: Any = CreateExam(self.create_body())
        else:
            body = self.update_body()
            if body.model_fields_set == {"version"}:
                self.reject()  # nothing changed
                return
            if self.renotifies(body) and not confirm(
                self,
                "修改考试",
                f"考试时间或地点已改动，将重新通知全部 {self.exam.candidates} 名考生。确定保存？",
                "保存并通知",
            ):
                return
            job = UpdateExam(self.exam.id, body)
        self.buttons.setEnabled(False)
        self.status.info("正在保存…")
        self.session.run(job, self._saved, self._refused, parent=self)

    def _saved(self, exam: ExamPublic) -> None:
        self.saved = exam
        self.accept()

    def _refused(self, err: Any) -> None:
        self.buttons.setEnabled(True)
        self.status.error(err)
