"""许可管理 → 保安员资格许可 → 保安员资格证: every card in the clerk's scope, filtered by
证书状态, 打印状态, 辖区, 考试, 发证日期, 是否有照片 and a search (姓名、身份证号或证书编号),
sorted and paged by the server, exported to xlsx.

For the selected card: 详情 (particulars and history), 预览 (front and back), 打印 / 补打 (to PDF,
the system printer or the card printer; ``printing.PrintFlow``), and the lifecycle actions 补发,
更正换发, 吊销, 注销, each confirmed in a box whose default is 取消. Buttons the server would refuse
are greyed with the reason as their tooltip (``client.models.certificate_list``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.devices.settings import DeviceSettings
from client.jobs.certificate_jobs import (
    CancelCertificate,
    CorrectCertificate,
    ExportCertificates,
    LoadCertificates,
    LoadExamChoices,
    PrepareCard,
    ReissueCertificate,
    RevokeCertificate,
)
from client.jobs.job import Job
from client.models.certificate_list import ACTIONS, NO_RIGHT, CertificateRows, availability
from client.session import Session
from client.views.card_preview import CardPreviewDialog
from client.views.certificates.dialogs import (
    CancelDialog,
    CertificateDetailDialog,
    CorrectionDialog,
    ReissueDialog,
    RevokeDialog,
    _LifecycleDialog,
)
from client.views.certificates.printing import PrintDialog, PrintFlow
from client.views.exporting import run_export
from client.views.paged_table import PagedTable
from client.views.status import StatusLabel
from client.views.style import FILTER_COMBO_WIDTH, SEARCH_FIELD_WIDTH
from client.views.widgets import DateRange, open_dialog
from shared.certificates import CertificateStatus, PrintChannel, PrintState
from shared.regions import region_table
from shared.schemas.certificates import CertificatePublic

BUTTONS = {
    "detail": "详情",
    "preview": "预览",
    "print": "打印",
    "reprint": "补打",
    "reissue": "补发",
    "correct": "更正换发",
    "revoke": "吊销",
    "cancel": "注销",
}
LIFECYCLE: dict[str, tuple[type[_LifecycleDialog], type[Job], str]] = {
    "reissue": (ReissueDialog, ReissueCertificate, "已补发新证"),
    "correct": (CorrectionDialog, CorrectCertificate, "已更正换发新证"),
    "revoke": (RevokeDialog, RevokeCertificate, "已吊销"),
    "cancel": (CancelDialog, CancelCertificate, "已注销"),
}


class CertificatePage(QWidget):
    loaded = Signal()
    exported = Signal(object)
    printed = Signal(bool, str)  # a print ended: (went through, message)
    acted = Signal(str)  # a lifecycle action went through: its message

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.flow: PrintFlow | None = None
        self._outcome: tuple[bool, str] | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("保安员资格证", objectName="pageTitle"))
        layout.addLayout(self._filters())
        self.model = CertificateRows()
        self.table = PagedTable(self.model, "certificates", session.prefs)
        self.table.reload_requested.connect(self.load)
        self.table.on_activated(lambda _row: self.show_detail())
        layout.addWidget(self.table, 1)
        layout.addLayout(self._actions())
        self.status = StatusLabel()
        layout.addWidget(self.status)
        self.table.view.selectionModel().selectionChanged.connect(self.show_allowed)
        self.model.reset.connect(self.show_allowed)
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self.load)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.query.setFocus)
        self.show_allowed()
        if session.may("exams:view"):
            session.run(LoadExamChoices(), self._fill_exams, None, parent=self)
        self.search()

    # -- filters -------------------------------------------------------------------------------
    def _filters(self) -> QVBoxLayout:
        self.state = QComboBox()
        self.state.addItem("全部证书状态", None)
        for status in CertificateStatus:
            self.state.addItem(status.label, status.value)
        self.print_state = QComboBox()
        self.print_state.addItem("全部打印状态", None)
        for state in PrintState:
            self.print_state.addItem(state.label, state.value)
        self.photo = QComboBox()
        for label, value in (("照片：全部", None), ("有照片", True), ("无照片", False)):
            self.photo.addItem(label, value)
        self.region = QComboBox()
        self.region.setMinimumWidth(FILTER_COMBO_WIDTH)
        self._fill_regions()
        self.exam = QComboBox()
        self.exam.setMinimumWidth(FILTER_COMBO_WIDTH)
        self.exam.addItem("全部考试", None)
        if not self.session.may("exams:view"):
            self.exam.hide()  # (never show() a widget before it has a parent: a window)
        for combo in (self.state, self.print_state, self.photo, self.region, self.exam):
            combo.currentIndexChanged.connect(self.apply_filters)
        self.dates = DateRange("发证日期", 12, self.apply_filters)
        self.use_dates, self.date_from, self.date_to = (
            self.dates.check,
            self.dates.start,
            self.dates.end,
        )
        self.query = QLineEdit(placeholderText="姓名、身份证号或证书编号", objectName="certSearch")
        self.query.setMinimumWidth(SEARCH_FIELD_WIDTH)
        self.query.returnPressed.connect(self.search)
        search = QPushButton("查询")
        search.clicked.connect(self.search)
        bar = QVBoxLayout()
        first, second = QHBoxLayout(), QHBoxLayout()
        for widget in (self.state, self.print_state, self.photo, self.region, self.exam):
            first.addWidget(widget)
        first.addStretch(1)
        for widget in (
            self.use_dates,
            self.date_from,
            QLabel("至"),
            self.date_to,
            self.query,
            search,
        ):
            second.addWidget(widget)
        second.addStretch(1)
        bar.addLayout(first)
        bar.addLayout(second)
        return bar

    def _fill_regions(self) -> None:
        """The clerk's own region and everything under it (the server limits the rows to the
        clerk's data scope whatever is chosen)."""
        self.region.addItem("全部辖区", None)
        me = self.session.me
        code = getattr(me, "org_region_code", None)
        table = region_table()
        if not code or code not in table:
            return
        self.region.addItem(table.full_name(code), code)
        for region in table.descendants(code):
            indent = "　" * (2 if region.level == "county" else 1)
            self.region.addItem(indent + region.name, region.code)

    def _fill_exams(self, exams: list[Any]) -> None:
        self.exam.blockSignals(True)
        for exam in exams:
            self.exam.addItem(f"{exam.name}（{exam.starts_at:%Y-%m-%d}）", exam.id)
        self.exam.blockSignals(False)

    def read_filters(self) -> bool:
        issued_from, issued_to = self.dates.values()
        return self.model.set_filters(
            status=self.state.currentData(),
            print_state=self.print_state.currentData(),
            has_photo=self.photo.currentData(),
            region_code=self.region.currentData(),
            exam_id=self.exam.currentData(),
            issued_from=issued_from,
            issued_to=issued_to,
            q=self.query.text(),
        )

    def search(self) -> None:
        self.read_filters()
        self.model.page = 1
        self.load()

    def apply_filters(self) -> None:
        if self.read_filters():
            self.load()

    def load(self) -> None:
        if self._outcome is None:
            self.status.info("正在查询…")
        job = LoadCertificates(**self.model.params())
        self.session.run(job, self._fill, self.status.error, parent=self)

    def _fill(self, page: Any) -> None:
        self.model.fill(page.items, page.total)
        self._show_outcome()
        self.loaded.emit()

    def _show_outcome(self) -> None:
        """What the last print or action came to stays in the status line over the reload."""
        outcome, self._outcome = self._outcome, None
        if outcome is None:
            self.status.info("")
        elif outcome[0]:
            self.status.info(outcome[1])
        else:
            self.status.error(outcome[1])

    # -- actions -------------------------------------------------------------------------------
    def _actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        handlers = {
            "detail": self.show_detail,
            "preview": self.preview,
            "print": lambda: self.print_card(reprint=False),
            "reprint": lambda: self.print_card(reprint=True),
            **{key: (lambda _checked=False, key=key: self.lifecycle(key)) for key in LIFECYCLE},
        }
        for key, text in BUTTONS.items():
            button = QPushButton(text, objectName=f"cert_{key}")
            button.setAutoDefault(False)
            button.clicked.connect(handlers[key])
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        self.export_button = QPushButton("导出")
        self.export_button.setToolTip("将符合当前筛选条件的全部证书导出为 Excel 文件")
        self.export_button.clicked.connect(self.export)
        if not self.session.may("certificates:export"):
            self.export_button.hide()
        row.addWidget(self.export_button)
        return row

    def current(self) -> CertificatePublic | None:
        return self.table.selected()  # type: ignore[no-any-return]

    def select(self, certificate_id: int) -> None:
        for index, row in enumerate(self.model.rows):
            if row.id == certificate_id:
                self.table.view.selectRow(index)
                return

    def show_allowed(self) -> None:
        card = self.current()
        permissions = self.session.permissions
        for key in ACTIONS:
            state = availability(card, key, permissions)
            button = self.buttons[key]
            button.setEnabled(state.allowed)
            button.setToolTip(state.reason)
            button.setVisible(state.reason != NO_RIGHT)
        self.buttons["detail"].setEnabled(card is not None)

    def _may(self, action: str) -> CertificatePublic | None:
        card = self.current()
        state = availability(card, action, self.session.permissions)
        if not state.allowed:
            self.status.error(state.reason)
            return None
        return card

    def show_detail(self) -> CertificateDetailDialog | None:
        card = self.current()
        if card is None:
            return None
        dialog = CertificateDetailDialog(self.session, card, self)
        open_dialog(dialog)
        return dialog

    def preview(self) -> None:
        card = self._may("preview")
        if card is None:
            return

        def show(prepared: tuple[Any, Any, Any]) -> None:
            _card, shown, face = prepared
            dialog = CardPreviewDialog(face, self)
            if not shown.printable and face.photo is not None:
                dialog.setWindowTitle(f"{dialog.windowTitle()}（{shown.not_printable}）")
            self.status.info("")
            open_dialog(dialog)

        self.status.info("正在读取证件…")
        self.session.run(PrepareCard(card.id), show, self.status.error, parent=self)

    def device_settings(self) -> DeviceSettings:
        assert self.session.prefs is not None
        return DeviceSettings.load(self.session.prefs.qsettings)

    def print_card(self, *, reprint: bool) -> PrintFlow | None:
        """Ask where to (and why, for 补打), then print; the flow reports back."""
        card = self._may("reprint" if reprint else "print")
        if card is None:
            return None
        settings = self.device_settings()
        dialog = PrintDialog(card, settings, reprint=reprint, parent=self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        channel, reason = dialog.channel(), dialog.reason_text()
        pdf_path: Path | None = None
        printer = None
        if channel == PrintChannel.pdf:
            name, _ = QFileDialog.getSaveFileName(
                self, "打印到PDF", f"保安员证-{card.number}.pdf", "PDF 文件 (*.pdf)"
            )
            if not name:
                return None
            pdf_path = Path(name)
        elif channel == PrintChannel.os:
            printer = self.ask_system_printer(settings)
            if printer is None:
                return None
        return self.start_print(
            card, channel, reason, reprint=reprint, pdf_path=pdf_path, printer=printer
        )

    def ask_system_printer(self, settings: DeviceSettings) -> Any:
        from PySide6.QtPrintSupport import QPrintDialog

        from client.devices.system_printing import cr80_printer

        printer = cr80_printer()
        if settings.system_printer:
            printer.setPrinterName(settings.system_printer)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("选择打印机")
        return printer if dialog.exec() == QDialog.DialogCode.Accepted else None

    def start_print(
        self,
        card: CertificatePublic,
        channel: PrintChannel,
        reason: str = "",
        *,
        reprint: bool = False,
        pdf_path: Path | None = None,
        printer: Any = None,
    ) -> PrintFlow:
        """The print itself, once the clerk has chosen (tests start here)."""
        flow = PrintFlow(self.session, card, self.device_settings(), reprint=reprint, parent=self)
        self.flow = flow
        flow.finished.connect(self._print_ended)
        self.status.info(f"正在{'补打' if reprint else '打印'}：{card.holder_name}")
        flow.start(channel, reason, pdf_path=pdf_path, printer=printer)
        return flow

    def _print_ended(self, ok: bool, message: str) -> None:
        self._outcome = (ok, message)
        self._show_outcome()
        self._outcome = (ok, message)
        self.load()
        self.printed.emit(ok, message)

    def lifecycle(self, key: str) -> None:
        card = self._may(key)
        if card is None:
            return
        dialog_class, job_class, done = LIFECYCLE[key]
        dialog = dialog_class(card, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        job = job_class(card.id, dialog.body())  # type: ignore[call-arg]

        def finished(result: CertificatePublic) -> None:
            message = (
                f"{done}：{result.holder_name}（证书编号 {result.number}，第 {result.edition} 版）"
            )
            self._outcome = (True, message)
            self._show_outcome()
            self._outcome = (True, message)
            self.load()
            self.acted.emit(message)

        self.session.run(job, finished, self.status.error, parent=self)

    # -- 导出 ------------------------------------------------------------------------------------
    def export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "导出保安员资格证", "保安员资格证.xlsx", "Excel 文件 (*.xlsx)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        job = ExportCertificates(path, list(self.model.columns), self.model.query())

        run_export(self.session, self.status, self, job, path, self.exported.emit)
