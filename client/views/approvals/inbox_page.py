"""待办事项 / 通用审批: what waits for me (待我审批) and what I have done (我已审批), filtered by
business type (with the pending count of each), status, submission dates, applicant and overdue.
The box, business type, status, overdue and date choices apply at once; Enter in the applicant
field (or 查询) searches with what is typed. Double-click or Enter on a row of the list opens its
review; the list and counts reload when it closes. 导出 writes every row matching the filters to
an xlsx. On the exam enrolment list, 缴费确认 confirms the payment of every selected row at
once."""

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.jobs.api_jobs import ConfirmPayments, ExportInbox, LoadInbox
from client.models.inbox_table import InboxModel
from client.session import Session
from client.views.approvals.review_dialog import ReviewDialog
from client.views.exporting import run_export
from client.views.paged_table import PagedTable
from client.views.status import StatusLabel
from client.views.style import FILTER_COMBO_WIDTH, SEARCH_FIELD_WIDTH
from client.views.widgets import DateRange, confirm, open_dialog
from shared.approvals import ApplicationStatus, InboxBox
from shared.enums import BusinessType
from shared.schemas.applications import InboxCounts, InboxPage


class InboxPage(QWidget):
    loaded = Signal()
    changed = Signal()  # something was acted on: the bell should ask again
    exported = Signal(object)  # the path written

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        permissions = set(session.me.permissions) if session.me else set()
        self.can_pay = "exam_enrolments:confirm_payment" in permissions
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("通用审批", objectName="pageTitle"))
        layout.addLayout(self._filters())
        self.model = InboxModel()
        self.table = PagedTable(self.model, "inbox", session.prefs)
        self.table.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.reload_requested.connect(self.load)
        # Enter on the list only: Enter in the applicant field searches
        self.table.on_activated(lambda _row: self._open_current())
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.review_button = QPushButton("审批 / 查看")
        self.review_button.clicked.connect(self._open_current)
        self.pay_button = QPushButton("缴费确认")
        self.pay_button.setToolTip("对所选的保安员考试报名批量确认缴费")
        self.pay_button.clicked.connect(self.confirm_payment)
        self.export_button = QPushButton("导出")
        self.export_button.setToolTip("将符合当前筛选条件的全部记录导出为 Excel 文件")
        self.export_button.clicked.connect(self.export)
        buttons.addWidget(self.review_button)
        buttons.addWidget(self.pay_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.status = StatusLabel()
        layout.addWidget(self.status)
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self.reload)
        self._box_changed()

    def _filters(self) -> QVBoxLayout:
        bar = QVBoxLayout()
        self.box = QComboBox()
        for box in InboxBox:
            self.box.addItem(box.label, box.value)
        self.box.currentIndexChanged.connect(self._box_changed)
        self.business_type = QComboBox()
        self.business_type.setMinimumWidth(FILTER_COMBO_WIDTH)
        self._fill_types(None)
        self.business_type.currentIndexChanged.connect(self.apply_filters)
        self.state = QComboBox()
        self.state.addItem("全部状态", None)
        for status in ApplicationStatus:
            self.state.addItem(status.label, status.value)
        self.state.currentIndexChanged.connect(self.apply_filters)
        self.dates = DateRange("提交日期", 1, self.apply_filters)
        self.use_dates, self.date_from, self.date_to = (
            self.dates.check,
            self.dates.start,
            self.dates.end,
        )
        self.applicant = QLineEdit(placeholderText="申请人名称或编号")
        self.applicant.returnPressed.connect(self.search)
        self.overdue = QCheckBox("只看超期")
        self.overdue.toggled.connect(self.apply_filters)
        search = QPushButton("查询")
        search.clicked.connect(self.search)
        self.applicant.setMinimumWidth(SEARCH_FIELD_WIDTH)
        first, second = QHBoxLayout(), QHBoxLayout()
        for widget in (self.box, self.business_type, self.state, self.overdue):
            first.addWidget(widget)
        first.addStretch(1)
        for widget in (
            self.use_dates,
            self.date_from,
            QLabel("至"),
            self.date_to,
            self.applicant,
            search,
        ):
            second.addWidget(widget)
        second.addStretch(1)
        bar.addLayout(first)
        bar.addLayout(second)
        return bar

    def _fill_types(self, counts: InboxCounts | None) -> None:
        current = self.business_type.currentData()
        self.business_type.blockSignals(True)
        self.business_type.clear()
        total = f"（{counts.total}）" if counts else ""
        self.business_type.addItem(f"全部业务{total}", None)
        for business_type in BusinessType:
            n = counts.by_type.get(business_type.value, 0) if counts else 0
            self.business_type.addItem(
                business_type.label + (f"（{n}）" if n else ""), business_type.value
            )
        index = self.business_type.findData(current)
        self.business_type.setCurrentIndex(max(index, 0))
        self.business_type.blockSignals(False)

    @property
    def pending(self) -> bool:
        return bool(self.box.currentData() == InboxBox.pending.value)

    def _box_changed(self) -> None:
        self.model.set_filters(box=self.box.currentData())
        self.state.setEnabled(not self.pending)
        self.overdue.setEnabled(self.pending)
        self.pay_button.setVisible(self.can_pay and self.pending)
        self.search()

    def search(self) -> None:
        """查询 (or Enter in the applicant field): fetch page 1 with the filters as they are."""
        self.read_filters()
        self.model.page = 1
        self.load()

    def apply_filters(self) -> None:
        """A choice changed: fetch again if that changed a filter (leaving a date field
        unchanged does not)."""
        if self.read_filters():
            self.load()

    def reload(self) -> None:
        self.load()
        self.changed.emit()

    def read_filters(self) -> bool:
        """The filter widgets into the model (which goes back to page 1 if one changed)."""
        date_from, date_to = self.dates.values()
        return self.model.set_filters(
            box=self.box.currentData(),
            business_type=self.business_type.currentData(),
            status=self.state.currentData(),
            overdue=self.overdue.isChecked(),
            applicant=self.applicant.text(),
            date_from=date_from,
            date_to=date_to,
        )

    def params(self) -> dict[str, Any]:
        return self.model.params(with_counts=False)

    def load(self) -> None:
        self.status.info("正在查询…")
        job = LoadInbox(**self.model.params())
        self.session.run(job, self._fill, self.status.error, parent=self)

    def _fill(self, page: InboxPage) -> None:
        self.model.fill_page(page)
        if page.counts is not None:
            self._fill_types(page.counts)
        overdue = self.model.overdue_on_page
        self.status.info(f"本页 {overdue} 件超期" if overdue else "")
        self.loaded.emit()

    def _open_current(self) -> None:
        index = self.table.view.currentIndex()
        if index.isValid():
            self.open_review(index.row())

    def open_review(self, row: int) -> ReviewDialog:
        application = self.model.row_at(row)
        dialog = ReviewDialog(self.session, application.id, self)
        dialog.model.acted.connect(lambda _message: self.reload())  # keep the list true
        dialog.finished.connect(lambda _code: self.reload())
        open_dialog(dialog)
        return dialog

    def selected_rows(self) -> list[Any]:
        rows = {index.row() for index in self.table.view.selectionModel().selectedRows()}
        return [self.model.row_at(r) for r in sorted(rows)]

    def confirm_payment(self) -> None:
        chosen = [
            row
            for row in self.selected_rows()
            if row.business_type == BusinessType.guard_exam_enrolment
        ]
        if not chosen:
            self.status.error("请先选择保安员考试报名记录（可按住 Ctrl 或 Shift 多选）")
            return
        if not confirm(
            self, "缴费确认", f"确认所选 {len(chosen)} 名报名人员已缴纳考试费用？", "确认缴费"
        ):
            return
        ids = [row.id for row in chosen]

        def done(result) -> None:  # type: ignore[no-untyped-def]
            self.status.info(f"已确认缴费 {len(result.confirmed)} 人（已缴费的不重复确认）")
            self.reload()

        self.session.run(ConfirmPayments(ids), done, self.status.error, parent=self)

    # -- 导出 ------------------------------------------------------------------------------------
    def export(self) -> None:
        name = f"{self.model.export_title}.xlsx"
        path, _ = QFileDialog.getSaveFileName(self, "导出审批列表", name, "Excel 文件 (*.xlsx)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Every row matching the filters (all pages, in the list's sort) into one xlsx, off the
        UI thread, behind the busy indicator, whose 取消 stops it between pages); the rows
        written so far show in the status line. The filters are those of the rows on screen."""
        job = ExportInbox(
            path, self.model.export_title, list(self.model.columns), self.model.export_query()
        )

        run_export(self.session, self.status, self, job, path, self.exported.emit)
