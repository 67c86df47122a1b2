"""录入成绩 (保安员资格许可): pick a published exam, type scores into the grid (Enter moves down,
Tab right; a row is saved when the cursor leaves it), or download the template and import it —
checked first (dry run): every problem is listed with a button to save the error workbook, or the
counts are confirmed before the real import. 【通知成绩】 locks the scores after a confirmation
whose default is 取消; after it, 【更正成绩】 changes one candidate with a reason.

The model (``client.models.scores``) holds the data; the server reads, checks and grades."""

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.api import ApiError
from client.jobs.api_jobs import (
    AmendScores,
    ImportScores,
    LoadScoreExams,
    LoadScoreSheet,
    NotifyScores,
    SaveCandidateScores,
    SaveScoreErrors,
    SaveScoreTemplate,
)
from client.models.scores import ScoreGrid, counts_message, problem_rows
from client.session import Session
from client.views.status import StatusLabel
from client.views.style import EXAM_COMBO_WIDTH, SCORE_PROBLEMS_DIALOG
from client.views.widgets import (
    confirm,
    guard_enter,
    not_on_enter,
    ok_cancel,
    open_dialog,
    tab_leaves,
)
from shared.errors import ErrorCode
from shared.schemas.exams import ScoresAmend

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
XLSX_FILTER = "Excel 文件 (*.xlsx)"


class ScoreTable(QTableWidget):
    """Enter moves to the row below in the same column (as in Excel); Tab moves right."""

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() in _ENTER and self.state() != QAbstractItemView.State.EditingState:
            row, column = self.currentRow(), self.currentColumn()
            if row + 1 < self.rowCount():
                self.setCurrentCell(row + 1, column)
            return
        super().keyPressEvent(event)


class ProblemsDialog(QDialog):
    """Every problem of a refused score file, and a button to save the error workbook."""

    def __init__(
        self, parent: QWidget | None, message: str, rows: list[tuple[str, str, str, str]]
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("成绩文件有误，未导入")
        self.resize(*SCORE_PROBLEMS_DIALOG)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(message, wordWrap=True))
        self.table = QTableWidget(len(rows), 4)
        self.table.setHorizontalHeaderLabels(["工作表", "行", "列", "错误说明"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        tab_leaves(self.table)
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.save_errors = QPushButton("保存错误标注文件…")
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        not_on_enter(self.save_errors, close)
        buttons.addWidget(QLabel("改正标红的单元格后，重新导入该文件。"))
        buttons.addStretch(1)
        buttons.addWidget(self.save_errors)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        guard_enter(self)


class AmendDialog(QDialog):
    """更正成绩 of one candidate: the new marks or 缺考, and the reason (required)."""

    def __init__(self, parent: QWidget | None, grid: ScoreGrid, row: int) -> None:
        super().__init__(parent)
        line = grid.lines[row]
        self.setWindowTitle(f"更正成绩 — {line.name}（{line.admission_number}）")
        self.line = line
        form = QFormLayout(self)
        self.marks: dict[str, QLineEdit] = {}
        for subject in grid.subjects:
            known = (line.scores or {}).get(subject.key)
            edit = QLineEdit("" if known is None else f"{known:g}")
            edit.setPlaceholderText(f"0至{subject.full_mark:g}")
            self.marks[subject.key] = edit
            form.addRow(f"{subject.name}（满分{subject.full_mark:g}）", edit)
        self.absent = QCheckBox("缺考")
        self.absent.setChecked(line.absent)
        form.addRow("", self.absent)
        self.reason = QLineEdit()
        self.reason.setMaxLength(200)
        self.reason.setPlaceholderText("必填，如：试卷复核，理论漏计2分")
        form.addRow("更正原因", self.reason)
        self.warning = QLabel("", objectName="statusLabel")
        form.addRow(self.warning)
        form.addRow(ok_cancel(self, "更正", self.submit, destructive=True))

    def submit(self) -> None:
        if len(self.reason.text().strip()) < 2:
            self.warning.setText("请填写更正原因")
            self.reason.setFocus()
            return
        self.accept()

    def body(self) -> ScoresAmend:
        absent = self.absent.isChecked()
        scores = {} if absent else {k: e.text().strip() or None for k, e in self.marks.items()}
        return ScoresAmend(
            candidate_id=self.line.id,
            absent=absent,
            scores=scores,
            reason=self.reason.text().strip(),
        )


class ScoresPage(QWidget):
    loaded = Signal()
    imported = Signal()

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.grid = ScoreGrid()
        self.filling = False
        self.progress: QProgressDialog | None = None
        self.problems: ProblemsDialog | None = None
        self.shown_once = False
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("录入成绩", objectName="pageTitle"))
        bar = QHBoxLayout()
        bar.addWidget(QLabel("考试"))
        self.exams = QComboBox()
        self.exams.setMinimumWidth(EXAM_COMBO_WIDTH)
        self.exams.currentIndexChanged.connect(self.load_sheet)
        bar.addWidget(self.exams)
        refresh = QPushButton("刷新")
        refresh.clicked.connect(self.load_exams)
        bar.addWidget(refresh)
        bar.addStretch(1)
        self.download = QPushButton("下载模板")
        self.download.clicked.connect(self.save_template)
        self.import_button = QPushButton("导入成绩")
        self.import_button.clicked.connect(self.import_file)
        self.save_button = QPushButton("保存修改")
        self.save_button.clicked.connect(self.save_all)
        self.notify_button = QPushButton("通知成绩")
        self.notify_button.clicked.connect(self.notify)
        self.amend_button = QPushButton("更正成绩")
        self.amend_button.clicked.connect(self.amend)
        for button in (
            self.download,
            self.import_button,
            self.save_button,
            self.notify_button,
            self.amend_button,
        ):
            bar.addWidget(button)
        not_on_enter(self.notify_button, self.amend_button, self.import_button)
        layout.addLayout(bar)
        self.rule = QLabel("", wordWrap=True)
        layout.addWidget(self.rule)
        self.table = ScoreTable(0, 0)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.itemChanged.connect(self.cell_changed)
        self.table.currentCellChanged.connect(self.cursor_moved)
        layout.addWidget(self.table, 1)
        self.status = StatusLabel()
        layout.addWidget(self.status)
        self.update_buttons()

    # -- loading ----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not self.shown_once:
            self.shown_once = True
            self.load_exams()

    @property
    def exam_id(self) -> int | None:
        data = self.exams.currentData()
        return int(data) if data is not None else None

    def load_exams(self) -> None:
        self.status.info("正在读取考试…")
        self.session.run(LoadScoreExams(), self.exams_loaded, self.status.error, parent=self)

    def exams_loaded(self, exams: list[Any]) -> None:
        keep = self.exam_id
        self.exams.blockSignals(True)
        self.exams.clear()
        for exam in exams:
            mark = "（成绩已通知）" if exam.scores_locked_at else ""
            self.exams.addItem(f"{exam.name}{mark}", exam.id)
        index = self.exams.findData(keep) if keep is not None else 0
        self.exams.setCurrentIndex(max(index, 0))
        self.exams.blockSignals(False)
        if not exams:
            self.status.info("没有已发布的考试")
            self.loaded.emit()
            return
        self.load_sheet()

    def load_sheet(self) -> None:
        if self.exam_id is None:
            return
        self.status.info("正在读取成绩…")
        self.session.run(LoadScoreSheet(self.exam_id), self.sheet_loaded, self.failed, parent=self)

    def sheet_loaded(self, sheet: Any) -> None:
        self.grid.load(sheet)
        self.fill_table()
        self.rule.setText(f"成绩合格标准：{sheet.pass_rule_description}")
        self.status.info(self.grid.counts_text())
        self.update_buttons()
        self.loaded.emit()

    def fill_table(self) -> None:
        self.filling = True
        grid, table = self.grid, self.table
        headers = grid.headers()
        table.clear()
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(grid.lines))
        for row in range(len(grid.lines)):
            self.fill_row(row)
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        self.filling = False

    def fill_row(self, row: int) -> None:
        grid, table = self.grid, self.table
        was = self.filling
        self.filling = True
        for column in range(len(grid.headers())):
            item = QTableWidgetItem(grid.text(row, column))
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            if column == grid.absent_column:
                item = QTableWidgetItem("")
                if grid.editable:
                    flags |= Qt.ItemFlag.ItemIsUserCheckable
                item.setCheckState(
                    Qt.CheckState.Checked if grid.is_absent(row) else Qt.CheckState.Unchecked
                )
            elif grid.may_edit(column):
                flags |= Qt.ItemFlag.ItemIsEditable
            if column == grid.result_column:
                item.setToolTip(grid.tip(row))
            item.setFlags(flags)
            table.setItem(row, column, item)
        self.filling = was

    # -- typing in the grid -----------------------------------------------------------------
    def cell_changed(self, item: QTableWidgetItem) -> None:
        if self.filling:
            return
        row, column = item.row(), item.column()
        if column == self.grid.absent_column:
            self.grid.tick_absent(row, item.checkState() == Qt.CheckState.Checked)
        else:
            self.grid.type_text(row, column, item.text())
        self.filling = True
        result = self.table.item(row, self.grid.result_column)
        if result is not None:
            result.setText(self.grid.text(row, self.grid.result_column))
        self.filling = False
        self.update_buttons()

    def cursor_moved(self, row: int, _column: int, previous: int, _prev_column: int) -> None:
        if previous >= 0 and previous != row and self.grid.dirty(previous):
            self.save_row(previous)

    def save_row(self, row: int) -> None:
        exam_id = self.exam_id
        line = self.grid.lines[row]
        if exam_id is None:
            return
        self.status.info(f"正在保存 {line.name} 的成绩…")

        def saved(new: Any) -> None:
            self.grid.saved(row, new)
            self.fill_row(row)
            self.status.info(f"已保存 {new.name}：{new.result_label}")
            self.update_buttons()

        def refused(err: ApiError) -> None:
            rows = problem_rows(err.details)
            text = "；".join(f"{c}：{m}" for _, _, c, m in rows) or err.message
            self.status.error(f"{line.name}（第{row + 1}行）未保存：{text}")

        self.session.run(
            SaveCandidateScores(exam_id, line.id, self.grid.entry(row)), saved, refused, parent=self
        )

    def save_all(self) -> None:
        for row in range(len(self.grid.lines)):
            if self.grid.dirty(row):
                self.save_row(row)

    # -- template and import ----------------------------------------------------------------
    def save_template(self) -> None:
        if self.exam_id is None:
            return
        name = f"{self.exams.currentText()}-成绩导入模板.xlsx"
        path, _ = QFileDialog.getSaveFileName(self, "下载成绩导入模板", name, XLSX_FILTER)
        if not path:
            return
        self.status.info("正在下载成绩导入模板…")
        self.session.run(
            SaveScoreTemplate(self.exam_id, path),
            lambda saved: self.status.info(f"成绩导入模板已保存：{saved}"),
            self.failed,
            parent=self,
        )

    def busy(self, text: str) -> None:
        self.done()
        self.progress = QProgressDialog(text, "", 0, 0, self)
        self.progress.setWindowTitle("导入成绩")
        self.progress.setCancelButton(None)  # type: ignore[arg-type]
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(0)
        self.progress.show()

    def done(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def import_file(self) -> None:
        if self.exam_id is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "导入成绩", "", XLSX_FILTER)
        if path:
            self.check_file(path)

    def check_file(self, path: str) -> None:
        """The dry run; then the problems, or the counts to confirm before the real import."""
        exam_id = self.exam_id
        assert exam_id is not None
        self.busy("正在检查成绩文件…")
        self.session.run(
            ImportScores(exam_id, path, dry_run=True),
            lambda counts: self.checked(exam_id, path, counts),
            lambda err: self.refused(exam_id, path, err),
            parent=self,
        )

    def checked(self, exam_id: int, path: str, counts: Any) -> None:
        self.done()
        if counts.written == 0:
            self.status.info(f"文件中的成绩与已录入的相同，无需导入。{counts_message(counts)}")
            self.imported.emit()
            return
        if not confirm(
            self, "导入成绩", "成绩文件检查无误，确定导入？", "导入", details=counts_message(counts)
        ):
            self.status.info("未导入")
            return
        self.busy("正在导入成绩…")
        self.session.run(
            ImportScores(exam_id, path, dry_run=False),
            self.done_importing,
            lambda err: self.refused(exam_id, path, err),
            parent=self,
        )

    def done_importing(self, counts: Any) -> None:
        self.done()
        self.status.info(f"已导入。{counts_message(counts)}")
        self.imported.emit()
        self.load_sheet()

    def refused(self, exam_id: int, path: str, err: ApiError) -> None:
        self.done()
        if err.code != ErrorCode.SCORE_IMPORT_INVALID:
            self.status.error(err)
            self.imported.emit()
            return
        self.status.error(err)
        self.problems = ProblemsDialog(self, err.message, problem_rows(err.details))
        self.problems.save_errors.clicked.connect(lambda: self.save_errors(exam_id, path))
        open_dialog(self.problems)
        self.imported.emit()

    def save_errors(self, exam_id: int, source: str) -> None:
        name = f"{Path(source).stem}-错误标注.xlsx"
        target, _ = QFileDialog.getSaveFileName(
            self.problems or self,
            "保存错误标注文件",
            str(Path(source).with_name(name)),
            XLSX_FILTER,
        )
        if not target:
            return
        self.session.run(
            SaveScoreErrors(exam_id, source, target),
            lambda saved: self.status.info(f"错误标注文件已保存：{saved}"),
            self.failed,
            parent=self,
        )

    # -- 通知成绩 and 更正成绩 ------------------------------------------------------------------
    def notify(self) -> None:
        sheet = self.grid.sheet
        if sheet is None:
            return
        c = sheet.counts
        if not confirm(
            self,
            "通知成绩",
            "确定通知成绩？通知后成绩锁定，只能逐人更正并填写原因。",
            "通知成绩",
            details=(
                f"将向 {c['candidates']} 名考生发送短信和 App 通知："
                f"合格 {c['passed']} 人，不合格 {c['failed']} 人，缺考 {c['absent']} 人。"
            ),
        ):
            return
        self.status.info("正在通知成绩…")
        self.session.run(
            NotifyScores(sheet.exam_id, sheet.exam_version), self.notified, self.failed, parent=self
        )

    def notified(self, sheet: Any) -> None:
        self.sheet_loaded(sheet)
        self.status.info(f"成绩已通知。{self.grid.counts_text()}")
        self.load_exams()

    def amend(self) -> None:
        row = self.table.currentRow()
        if self.grid.sheet is None or row < 0:
            self.status.error("请先在表格中选择要更正成绩的考生")
            return
        dialog = AmendDialog(self, self.grid, row)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        exam_id = self.grid.sheet.exam_id

        def amended(line: Any) -> None:
            self.grid.saved(row, line)
            self.fill_row(row)
            self.status.info(f"已更正 {line.name} 的成绩：{line.result_label}，已重新通知该考生")

        self.session.run(AmendScores(exam_id, dialog.body()), amended, self.failed, parent=self)

    # -- state --------------------------------------------------------------------------------
    def failed(self, err: ApiError) -> None:
        self.done()
        self.status.error(err)
        self.loaded.emit()

    def update_buttons(self) -> None:
        can = self.session.permissions
        has_sheet = self.grid.sheet is not None
        editable = self.grid.editable
        self.download.setEnabled(has_sheet and "exam_scores:import" in can)
        self.import_button.setEnabled(editable and "exam_scores:import" in can)
        self.save_button.setEnabled(
            editable and any(self.grid.dirty(r) for r in range(len(self.grid.lines)))
        )
        self.notify_button.setEnabled(editable and "exam_scores:notify" in can)
        self.amend_button.setEnabled(self.grid.locked and "exam_scores:amend" in can)
