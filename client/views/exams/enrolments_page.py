"""保安员资格证考试报名: every enrolment in the caller's scope with the pipeline status the server
gives it. The status chips (with their counts, under the other filters) choose the status; region,
training unit, enrolment dates and a search of name / ID number / application number narrow the
list; columns sort on the server. Double-click or Enter opens the enrolment's materials and
progress (read-only: approving stays in 通用审批). 缴费确认 confirms the payment of the selected
rows at the payment step not yet paid, after a confirmation that says how many (the row stays
待缴费, now 已缴费, until the level-three approval: the server's status is the step); 导出
writes every matching row. 重新提交制证 opens the 制证审批 of one 不予制证 enrolment again, once its
cause is fixed: a reason is asked for, then a confirmation whose default is 取消."""

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.api import ApiError
from client.jobs.api_jobs import ConfirmPayments
from client.jobs.exam_jobs import ExportEnrolments, LoadEnrolments, ReopenCertificateReview
from client.models.exams import EnrolmentListModel
from client.session import Session
from client.views.approvals.action_dialogs import ReasonDialog
from client.views.approvals.review_dialog import ReviewDialog
from client.views.exams.enrolment_filters import EnrolmentFilterRow
from client.views.exporting import run_export
from client.views.paged_table import PagedTable
from client.views.status import StatusLabel
from client.views.style import CHIPS_PER_ROW, SEARCH_FIELD_WIDTH
from client.views.widgets import confirm, open_dialog
from shared.exams import EnrolmentStatus

PAYMENT = EnrolmentStatus.payment.value
REFUSED = EnrolmentStatus.certificate_refused.value


def refusal(err: ApiError) -> str:
    """The server's message and, for a batch it refused, what was wrong with which record."""
    details = err.details if isinstance(err.details, list) else []
    lines = [
        f"{d.get('number') or d.get('application_id')}：{d.get('message')}"
        for d in details
        if isinstance(d, dict) and d.get("message")
    ]
    return err.message + ("（" + "；".join(lines[:5]) + "）" if lines else "")


class EnrolmentsPage(QWidget):
    loaded = Signal()
    exported = Signal(object)  # the path written

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.can_pay = session.may("exam_enrolments:confirm_payment")
        self.can_export = session.may("exam_enrolments:export")
        self.can_resubmit = session.may("exam_enrolments:resubmit")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("保安员资格证考试报名", objectName="pageTitle"))
        self.model = EnrolmentListModel()
        self.chip_grid = QGridLayout()
        self.chip_grid.setHorizontalSpacing(4)
        self.chips = QButtonGroup(self)
        self.chips.setExclusive(True)
        self.chips.idClicked.connect(self._chip_clicked)
        self._chip_status: dict[int, str | None] = {}
        self._note = ""  # said once the list has reloaded after an action
        layout.addLayout(self.chip_grid)
        layout.addLayout(self._filters())
        self.table = PagedTable(self.model, "exam_enrolments", session.prefs)
        self.table.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.reload_requested.connect(self.load)
        self.table.on_activated(lambda _row: self.open_current())
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.view_button = QPushButton("查看")
        self.view_button.setToolTip("查看报名材料和审批进度（双击或回车）")
        self.view_button.clicked.connect(self.open_current)
        self.pay_button = QPushButton("缴费确认")
        self.pay_button.setToolTip("对所选的待缴费人员批量确认缴费（可按住 Ctrl 或 Shift 多选）")
        self.pay_button.clicked.connect(self.confirm_payment)
        self.pay_button.setVisible(self.can_pay)
        self.resubmit_button = QPushButton("重新提交制证")
        self.resubmit_button.setToolTip(
            "“不予制证”的原因消除后（如已更换证件照），将其制证审批重新提交市局审批"
        )
        self.resubmit_button.clicked.connect(self.resubmit_certificate)
        self.resubmit_button.setVisible(self.can_resubmit)
        self.export_button = QPushButton("导出")
        self.export_button.setToolTip("将符合当前筛选条件的全部记录导出为 Excel 文件")
        self.export_button.clicked.connect(self.export)
        self.export_button.setVisible(self.can_export)
        for button in (
            self.view_button,
            self.pay_button,
            self.resubmit_button,
            self.export_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.status = StatusLabel()
        layout.addWidget(self.status)
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self.load)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.query.setFocus)
        self._show_chips()
        self.search()

    # -- filters -----------------------------------------------------------------------------
    def _filters(self) -> QHBoxLayout:
        own = self.session.me.org_region_code if self.session.me else ""
        row = EnrolmentFilterRow(
            own, changed=self.apply_filters, search=self.search, query_width=SEARCH_FIELD_WIDTH
        )
        self.filter_row = row
        self.region, self.unit, self.query = row.region, row.unit, row.query
        self.use_dates, self.date_from, self.date_to = row.use_dates, row.date_from, row.date_to
        return row.layout

    def _show_chips(self) -> None:
        """One checkable chip per status with its count; the chosen status stays checked."""
        for button in self.chips.buttons():
            self.chips.removeButton(button)
            self.chip_grid.removeWidget(button)
            button.deleteLater()
        self._chip_status.clear()
        for index, (status, label) in enumerate(self.model.chips()):
            chip = QPushButton(label, objectName="statusChip")
            chip.setCheckable(True)
            chip.setChecked(status == self.model.filters.status)
            self.chips.addButton(chip, index)
            self._chip_status[index] = status
            self.chip_grid.addWidget(chip, index // CHIPS_PER_ROW, index % CHIPS_PER_ROW)

    def chip(self, status: str | None) -> QPushButton:
        """The chip of ``status`` (None: 全部)."""
        for index, value in self._chip_status.items():
            if value == status:
                button = self.chips.button(index)
                assert isinstance(button, QPushButton)
                return button
        raise KeyError(status)

    def _chip_clicked(self, index: int) -> None:
        self.choose_status(self._chip_status.get(index))

    def choose_status(self, status: str | None) -> None:
        if self.model.set_filters(status=status):
            self.load()

    def read_filters(self) -> bool:
        return self.model.set_filters(**self.filter_row.values())

    def apply_filters(self) -> None:
        if self.read_filters():
            self.load()

    def search(self) -> None:
        """查询 (or Enter in a text filter): page 1 with the filters as they are."""
        self.read_filters()
        self.model.page = 1
        self.load()

    def load(self) -> None:
        self.status.info("正在查询…")
        job = LoadEnrolments(**self.model.params())
        self.session.run(job, self._fill, self.status.error, parent=self)

    def _fill(self, page: Any) -> None:
        self.model.fill_page(page)
        self._show_chips()
        self.status.info(self._note)
        self._note = ""
        self.loaded.emit()

    # -- rows --------------------------------------------------------------------------------
    def selected_rows(self) -> list[Any]:
        rows = {index.row() for index in self.table.view.selectionModel().selectedRows()}
        return [self.model.row_at(r) for r in sorted(rows)]

    def open_current(self) -> ReviewDialog | None:
        index = self.table.view.currentIndex()
        if not index.isValid():
            return None
        row = self.model.row_at(index.row())
        dialog = ReviewDialog(self.session, row.application_id, self, view_only=True)
        dialog.setWindowTitle(f"查看报名 · {row.name}（{row.status_label}）")
        dialog.finished.connect(lambda _code: self.load())
        open_dialog(dialog)
        return dialog

    def confirm_payment(self) -> None:
        selected = self.selected_rows()
        chosen = [row for row in selected if row.status == PAYMENT and not row.paid]
        if not chosen:
            self.status.error(
                "请先选择流程状态为“待缴费”且尚未确认缴费的报名人员（可按住 Ctrl 或 Shift 多选）"
            )
            return
        skipped = len(selected) - len(chosen)
        names = "、".join(row.name for row in chosen[:10]) + ("等" if len(chosen) > 10 else "")
        note = f"\n所选其余 {skipped} 条不是待缴费或已确认缴费，不作处理。" if skipped else ""
        if not confirm(
            self,
            "缴费确认",
            f"确认以下 {len(chosen)} 名报名人员已缴纳考试费用？",
            "确认缴费",
            details=names + note,
        ):
            return

        def done(result: Any) -> None:
            self._note = f"已确认缴费 {len(result.confirmed)} 人"
            self.load()

        job = ConfirmPayments([row.application_id for row in chosen])
        self.session.run(job, done, lambda err: self.status.error(refusal(err)), parent=self)

    def resubmit_certificate(self) -> None:
        """重新提交制证 of the one selected 不予制证 enrolment: its reason, then a confirmation."""
        selected = self.selected_rows()
        if len(selected) != 1 or selected[0].status != REFUSED:
            self.status.error("请选择一名流程状态为“不予制证”的报名人员")
            return
        row = selected[0]
        ask = ReasonDialog(
            "重新提交制证",
            f"重新提交“{row.name}”制证审批的原因（如已更换证件照、已更正信息）",
            self,
        )
        if ask.exec() != QDialog.DialogCode.Accepted:
            return
        reason = ask.value()
        if not confirm(
            self,
            "重新提交制证",
            f"确定重新提交“{row.name}”（{row.number}）的制证审批？",
            "重新提交",
            details=(
                "制证审批将重新进入通用审批，证件信息和证件照按报名中最新的重新取得。"
                f"\n原因：{reason}"
            ),
        ):
            return

        def done(result: Any) -> None:
            self._note = f"已重新提交“{row.name}”的制证审批（{result.review_number}）"
            self.load()

        self.session.run(
            ReopenCertificateReview(row.application_id, reason),
            done,
            self.status.error,
            parent=self,
        )

    # -- 导出 ------------------------------------------------------------------------------------
    def export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "导出考试报名", "保安员资格证考试报名.xlsx", "Excel 文件 (*.xlsx)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Every row matching the filters (all pages, in the list's sort) into one xlsx, off the
        UI thread; the busy indicator's 取消 stops it between pages and writes nothing."""
        job = ExportEnrolments(path, list(self.model.columns), self.model.export_query())

        run_export(self.session, self.status, self, job, path, self.exported.emit)
