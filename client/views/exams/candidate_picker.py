"""添加人员: the enrolments the server says may sit this exam (all approval levels done, in no
open exam, never passed), with each one's 课程学习进度, training unit, region and enrolment date;
filters, server-side sorting and paging, and multi-select. 添加人员 sends the selection, all or
none; the seats are the server's to enforce, and its refusal (考位已满 …) is shown here with the
selection kept. Enter in the list or a field adds nobody."""

from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.jobs.exam_jobs import ChangeCandidates, LoadCandidates, LoadEligible
from client.models.exams import EligibleModel
from client.session import Session
from client.views.exams.enrolment_filters import EnrolmentFilterRow
from client.views.paged_table import PagedTable
from client.views.status import StatusLabel
from client.views.style import PICKER_DIALOG
from client.views.widgets import guard_enter, not_on_enter
from shared.errors import ErrorCode
from shared.schemas.exams import ExamPublic


class CandidatePicker(QDialog):
    def __init__(self, session: Session, exam: ExamPublic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.exam = session, exam
        self.setWindowTitle(f"添加人员 · {exam.name}")
        self.resize(*PICKER_DIALOG)
        self.model = EligibleModel(exam.id)
        layout = QVBoxLayout(self)
        self.seats = QLabel(objectName="seatsLabel")
        layout.addWidget(self.seats)
        layout.addLayout(self._filters())
        self.table = PagedTable(self.model, "exam_picker", session.prefs)
        self.table.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.reload_requested.connect(self.load)
        self.table.view.selectionModel().selectionChanged.connect(self._show_seats)
        layout.addWidget(self.table, 1)
        self.status = StatusLabel()
        layout.addWidget(self.status)
        row = QHBoxLayout()
        row.addStretch(1)
        self.add_button = QPushButton("添加人员", objectName="primaryButton")
        self.add_button.setToolTip("将所选人员加入本场考试（可按住 Ctrl 或 Shift 多选）")
        self.add_button.clicked.connect(self.add_selected)
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        not_on_enter(self.add_button, close)
        row.addWidget(self.add_button)
        row.addWidget(close)
        layout.addLayout(row)
        guard_enter(self)
        self._show_seats()
        self.search()

    def _filters(self) -> QHBoxLayout:
        own = self.session.me.org_region_code if self.session.me else ""
        row = EnrolmentFilterRow(
            own, changed=self.apply_filters, search=self.search, in_dialog=True
        )
        self.filter_row = row
        self.region, self.unit, self.query = row.region, row.unit, row.query
        self.use_dates, self.date_from, self.date_to = row.use_dates, row.date_from, row.date_to
        return row.layout

    def read_filters(self) -> bool:
        return self.model.set_filters(**self.filter_row.values())

    def apply_filters(self) -> None:
        if self.read_filters():
            self.load()

    def search(self) -> None:
        self.read_filters()
        self.model.page = 1
        self.load()

    def load(self) -> None:
        job = LoadEligible(self.exam.id, **self.model.params())
        self.session.run(job, self._fill, self.status.error, parent=self)

    def _fill(self, page: Any) -> None:
        self.model.fill(page.items, page.total)
        self._show_seats()

    def selected_rows(self) -> list[Any]:
        rows = {index.row() for index in self.table.view.selectionModel().selectedRows()}
        return [self.model.row_at(r) for r in sorted(rows)]

    def _show_seats(self) -> None:
        exam = self.exam
        free = max(exam.seats - exam.candidates, 0)
        chosen = len(self.selected_rows())
        self.seats.setText(
            f"考位 {exam.seats} 个，已安排 {exam.candidates} 人，尚余 {free} 个；"
            f"可安排人员 {self.model.total} 人，已选 {chosen} 人"
        )

    def add_selected(self) -> None:
        chosen = self.selected_rows()
        if not chosen:
            self.status.error("请先选择要安排考试的人员（可按住 Ctrl 或 Shift 多选）")
            return
        ids = [row.application_id for row in chosen]
        self.add_button.setEnabled(False)
        self.status.info("正在添加…")
        job = ChangeCandidates(self.exam.id, self.exam.version, ids)
        self.session.run(job, self._added, self._refused, parent=self)

    def _added(self, exam: ExamPublic) -> None:
        self.exam = exam
        self.accept()

    def _refused(self, err: Any) -> None:
        self.add_button.setEnabled(True)
        self.status.error(err)
        if err.code is ErrorCode.STALE_VERSION:  # a colleague changed the exam: read it again
            self.session.run(LoadCandidates(self.exam.id), self._reread, parent=self)

    def _reread(self, answer: tuple[ExamPublic, list[Any]]) -> None:
        self.exam = answer[0]
        self._show_seats()
