"""考试安排: the exams organised in the clerk's scope (status, time, place, seats used / total,
organiser, pass rule) filtered by status, and under them the chosen exam's candidates with their
准考证号 once published. 新增考试 / 修改 open ``ExamDialog``; 添加人员 the ``CandidatePicker``;
移除人员 takes the selected candidates out of a draft; 发布考试安排 freezes the list, numbers the
seats and sends the notices, after a confirmation whose default is 取消; 取消考试 asks for the
reason, then confirms. Every refusal is the server's Chinese message in the status line."""

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from client.jobs.exam_jobs import (
    CancelExam,
    ChangeCandidates,
    LoadCandidates,
    LoadExams,
    LoadPassRules,
    PublishExam,
)
from client.models.exams import CANDIDATE_COLUMNS, ExamListModel, exam_time, rule_lines
from client.models.table import PagedRows
from client.qt.table_model import TableAdapter
from client.session import Session
from client.views.approvals.action_dialogs import ReasonDialog
from client.views.exams.candidate_picker import CandidatePicker
from client.views.exams.exam_dialog import ExamDialog
from client.views.paged_table import PagedTable
from client.views.status import StatusLabel
from client.views.style import EXAM_SPLIT
from client.views.widgets import confirm, not_on_enter, open_dialog, tab_leaves
from shared.errors import ErrorCode
from shared.exams import ExamStatus
from shared.schemas.exams import ExamPublic


class ExamsPage(QWidget):
    loaded = Signal()
    candidates_loaded = Signal()

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.rules: list[Any] = []
        self.exam: ExamPublic | None = None  # the chosen exam as last answered
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("考试安排", objectName="pageTitle"))
        layout.addLayout(self._bar(session))
        self.model = ExamListModel()
        self.table = PagedTable(self.model, "exams", session.prefs)
        self.table.reload_requested.connect(self.load)
        self.table.on_activated(lambda _row: self.edit())
        self.table.view.selectionModel().selectionChanged.connect(self._chosen)
        self.model.reset.connect(self._chosen)  # a reload may have dropped the selection
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self._candidates_box())
        split.setSizes(list(EXAM_SPLIT))
        layout.addWidget(split, 1)
        self.status = StatusLabel()
        layout.addWidget(self.status)
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self.load)
        self._show_allowed()
        self.session.run(LoadPassRules(), self._rules, self.status.error, parent=self)
        self.load()

    def _bar(self, session: Session) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.state = QComboBox(objectName="examStatus")
        self.state.addItem("全部状态", None)
        for status in ExamStatus:
            self.state.addItem(status.label, status.value)
        self.state.currentIndexChanged.connect(self._status_changed)
        bar.addWidget(QLabel("状态"))
        bar.addWidget(self.state)
        bar.addStretch(1)
        self.buttons: dict[str, QPushButton] = {}
        for key, label, permission, slot in (
            ("add", "新增考试", "exams:create", self.add),
            ("edit", "修改", "exams:update", self.edit),
            ("pick", "添加人员", "exams:update", self.pick),
            ("remove", "移除人员", "exams:update", self.remove_candidates),
            ("publish", "发布考试安排", "exams:publish", self.publish),
            ("cancel", "取消考试", "exams:delete", self.cancel),
        ):
            button = QPushButton(label)
            button.clicked.connect(slot)
            button.setVisible(session.may(permission))
            bar.addWidget(button)
            self.buttons[key] = button
        not_on_enter(self.buttons["publish"], self.buttons["cancel"], self.buttons["remove"])
        return bar

    def _candidates_box(self) -> QWidget:
        below = QWidget()
        inner = QVBoxLayout(below)
        inner.setContentsMargins(0, 0, 0, 0)
        self.detail = QLabel(objectName="examDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        inner.addWidget(self.detail)
        self.candidates = PagedRows(CANDIDATE_COLUMNS)
        self.candidate_view = QTableView(objectName="candidates")
        self.candidate_view.setModel(TableAdapter(self.candidates))
        self.candidate_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.candidate_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.candidate_view.setAlternatingRowColors(True)
        tab_leaves(self.candidate_view)
        header = self.candidate_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        inner.addWidget(self.candidate_view, 1)
        return below

    # -- loading -----------------------------------------------------------------------------
    def _rules(self, rules: list[Any]) -> None:
        self.rules = rules

    def _status_changed(self) -> None:
        self.model.status = self.state.currentData()
        self.model.page = 1
        self.load()

    def load(self) -> None:
        job = LoadExams(**self.model.params())
        self.session.run(job, self._fill, self.status.error, parent=self)

    def _fill(self, page: Any) -> None:
        self.model.fill(page.items, page.total)
        if self.model.rows and self.table.selected() is None:
            self.table.view.selectRow(0)
        self.loaded.emit()

    def _chosen(self, *_args: Any) -> None:
        """Another exam selected (or none): show it and fetch its candidates; the same exam
        answered again (a row replaced after a change) fetches nothing."""
        exam = self.table.selected()
        same = exam is not None and self.exam is not None and exam.id == self.exam.id
        self.exam = exam
        if same:
            self._show_exam()
            return
        self._show_exam()
        if exam is None:
            self.candidates.fill([], 0)
            return
        self.load_candidates()

    def load_candidates(self) -> None:
        if self.exam is not None:
            job = LoadCandidates(self.exam.id)
            self.session.run(job, self._show_candidates, self.status.error, parent=self)

    def _show_candidates(self, answer: tuple[ExamPublic, list[Any]]) -> None:
        exam, seats = answer
        if self.exam is None or exam.id != self.exam.id:
            return  # another exam was chosen meanwhile
        self.exam = exam
        self.model.replace(exam)
        self.candidates.fill(seats, len(seats))
        self.candidate_view.resizeColumnsToContents()
        self._show_exam()
        self.candidates_loaded.emit()

    def _show_exam(self) -> None:
        exam = self.exam
        if exam is None:
            self.detail.setText("")
        else:
            rule = "；".join(rule_lines(exam.pass_rule))
            lines = [
                f"{exam.name}（{exam.status_label}）  {exam_time(exam)}  {exam.address}",
                f"考生名单：已安排 {exam.candidates} 人 / 考位 {exam.seats} 个    "
                f"成绩合格标准：{exam.pass_rule.name}（{rule}）",
            ]
            if exam.status == ExamStatus.cancelled and exam.cancel_reason:
                lines.append(f"取消原因：{exam.cancel_reason}")
            self.detail.setText("\n".join(lines))
        self._show_allowed()

    def _show_allowed(self) -> None:
        """What may be done to the chosen exam in its state (the server decides again)."""
        exam = self.exam
        draft = exam is not None and exam.status == ExamStatus.draft
        open_ = exam is not None and exam.status != ExamStatus.cancelled
        for key, enabled in (
            ("edit", open_),
            ("pick", draft),
            ("remove", draft),
            ("publish", draft and exam is not None and exam.candidates > 0),
            ("cancel", open_),
        ):
            self.buttons[key].setEnabled(enabled)

    def _refused(self, err: Any) -> None:
        """The server's message; a colleague's change (stale version) is read again."""
        self.status.error(err)
        if err.code is ErrorCode.STALE_VERSION:
            self.load_candidates()

    def _changed(self, exam: ExamPublic, message: str) -> None:
        self.status.info(message)
        self.exam = exam
        self.model.replace(exam)
        self._show_exam()
        self.load_candidates()

    # -- actions -----------------------------------------------------------------------------
    def _org_name(self) -> str:
        return self.session.me.org_name if self.session.me else ""

    def add(self) -> ExamDialog | None:
        if not self.rules:
            self.status.error("尚未取得成绩合格标准，请稍后重试（F5 刷新）")
            return None
        dialog = ExamDialog(self.session, self.rules, self._org_name(), parent=self)
        dialog.accepted.connect(lambda: self._created(dialog))
        open_dialog(dialog)
        return dialog

    def _created(self, dialog: ExamDialog) -> None:
        exam = dialog.saved
        if exam is None:
            return
        self.status.info(f"已新增考试“{exam.name}”，请点击【添加人员】安排考生")
        self.model.page = 1
        self.state.blockSignals(True)
        self.state.setCurrentIndex(0)
        self.state.blockSignals(False)
        self.model.status = None

        def select_new(page: Any) -> None:
            self._fill(page)
            for index, row in enumerate(self.model.rows):
                if row.id == exam.id:
                    self.table.view.selectRow(index)

        job = LoadExams(**self.model.params())
        self.session.run(job, select_new, self.status.error, parent=self)

    def edit(self) -> ExamDialog | None:
        exam = self.exam
        if exam is None or exam.status == ExamStatus.cancelled:
            self.status.error("请先选择未取消的考试")
            return None
        dialog = ExamDialog(self.session, self.rules, self._org_name(), exam, parent=self)

        def saved() -> None:
            if dialog.saved is not None:
                self._changed(dialog.saved, f"已保存考试“{dialog.saved.name}”")

        dialog.accepted.connect(saved)
        open_dialog(dialog)
        return dialog

    def pick(self) -> CandidatePicker | None:
        exam = self.exam
        if exam is None or exam.status != ExamStatus.draft:
            self.status.error("只能为未发布的考试添加人员")
            return None
        picker = CandidatePicker(self.session, exam, self)

        def added() -> None:
            self._changed(picker.exam, f"已添加考生，现有 {picker.exam.candidates} 人")

        picker.accepted.connect(added)
        open_dialog(picker)
        return picker

    def selected_candidates(self) -> list[Any]:
        rows = {i.row() for i in self.candidate_view.selectionModel().selectedRows()}
        return [self.candidates.row_at(r) for r in sorted(rows)]

    def remove_candidates(self) -> None:
        exam, chosen = self.exam, self.selected_candidates()
        if exam is None or not chosen:
            self.status.error("请先在考生名单中选择要移除的人员")
            return
        names = "、".join(c.name for c in chosen[:10]) + ("等" if len(chosen) > 10 else "")
        if not confirm(
            self, "移除人员", f"确定从本场考试中移除 {len(chosen)} 名考生？", "移除", details=names
        ):
            return
        job = ChangeCandidates(
            exam.id, exam.version, [c.application_id for c in chosen], remove=True
        )
        self.session.run(
            job,
            lambda e: self._changed(e, f"已移除 {len(chosen)} 名考生"),
            self._refused,
            parent=self,
        )

    def publish(self) -> None:
        exam = self.exam
        if exam is None or exam.status != ExamStatus.draft:
            self.status.error("请先选择未发布的考试")
            return
        if not confirm(
            self,
            "发布考试安排",
            f"确定发布“{exam.name}”？",
            "发布",
            details=(
                f"发布后考生名单不能再更改，系统将为 {exam.candidates} 名考生编排准考证号，"
                "并以短信和 App 通知考试时间和地点。"
            ),
        ):
            return
        self.session.run(
            PublishExam(exam.id, exam.version),
            lambda e: self._changed(e, f"已发布考试安排，已通知 {e.candidates} 名考生"),
            self._refused,
            parent=self,
        )

    def cancel(self) -> None:
        exam = self.exam
        if exam is None or exam.status == ExamStatus.cancelled:
            self.status.error("请先选择未取消的考试")
            return
        ask = ReasonDialog("取消考试", "取消原因（已发布的考试将通知考生）", self)
        if ask.exec() != QDialog.DialogCode.Accepted:
            return
        reason = ask.value()
        notice = (
            f"已发布的考试取消后，系统将通知全部 {exam.candidates} 名考生。"
            if exam.status == ExamStatus.published
            else ""
        )
        if not confirm(
            self,
            "取消考试",
            f"确定取消“{exam.name}”？考生可另行安排考试。",
            "确定取消考试",
            details=f"{notice}取消原因：{reason}",
        ):
            return
        self.session.run(
            CancelExam(exam.id, exam.version, reason),
            lambda e: self._changed(e, f"已取消考试“{e.name}”"),
            self._refused,
            parent=self,
        )
