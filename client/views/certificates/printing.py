"""打印 and 补打 of a 保安员证: where to (打印到PDF, 系统打印机, 制证机), the progress with 取消,
and telling the server what came of it.

``PrintDialog`` asks where (and, for 补打, why). ``PrintFlow`` then reads the card afresh from
the server (a list row may be stale), sends it down the chosen path on a worker thread behind
``PrintProgressDialog``, and reports: a print that went through is 打印 (or 补打); one that
failed or was cancelled is 打印未完成 with the reason, which the dialog and the page show. The
server has the last word on both (a card printed meanwhile elsewhere is refused there too).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from client.devices.settings import DeviceSettings
from client.jobs.certificate_jobs import (
    PrepareCard,
    PrintOnCardPrinter,
    PrintOnSystemPrinter,
    RecordPrinted,
    RecordPrintFailed,
    RecordReprint,
    SaveCardPdf,
)
from client.session import Session
from client.views import style
from client.views.widgets import guard_enter, ok_cancel, open_dialog
from shared.certificates import PrintChannel, PrintState
from shared.schemas.certificates import CertificatePublic

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

    from client.jobs.job import Job

CANCELLED = "打印已取消"


def evolis_note(settings: DeviceSettings) -> str:
    """Why 制证机 cannot be chosen now ("" when it can)."""
    if not settings.printer_port:
        return "尚未设置证卡打印机端口：请在“设备设置”中选择制证机的串口"
    return ""


class PrintDialog(QDialog):
    """Where the card goes, and for 补打 the reason (required, audited)."""

    def __init__(
        self,
        card: CertificatePublic,
        settings: DeviceSettings,
        *,
        reprint: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.card, self.reprint = card, reprint
        verb = "补打" if reprint else "打印"
        self.setWindowTitle(f"{verb}保安员证 — {card.holder_name}")
        self.resize(*style.PRINT_DIALOG)
        layout = QVBoxLayout(self)
        intro = QLabel(f"{verb}：{card.holder_name}（证书编号 {card.number}）")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.group = QButtonGroup(self)
        self.choices: dict[PrintChannel, QRadioButton] = {}
        notes = {
            PrintChannel.pdf: "保存为 PDF 文件（CR80 正反两页）",
            PrintChannel.os: "选择系统中的打印机，彩色打印（CR80）",
            PrintChannel.evolis: f"Evolis 串口直连（{settings.printer_port or '未设置'}），"
            "黑色树脂 K 面 + 保护层",
        }
        for channel in PrintChannel:
            button = QRadioButton(f"{channel.label}：{notes[channel]}")
            self.group.addButton(button)
            self.choices[channel] = button
            layout.addWidget(button)
        blocked = evolis_note(settings)
        evolis = self.choices[PrintChannel.evolis]
        evolis.setEnabled(not blocked)
        evolis.setToolTip(blocked)
        default = PrintChannel.pdf if blocked else PrintChannel.evolis
        self.choices[default].setChecked(True)
        self.reason = QPlainTextEdit()
        self.reason.setTabChangesFocus(True)
        self.reason.setPlaceholderText("补打原因，例如：卡面污损、打印偏移")
        self.reason.setFixedHeight(style.REASON_BOX_HEIGHT)
        if reprint:
            layout.addWidget(QLabel("补打原因（必填，记入证书历史和审计日志）"))
            layout.addWidget(self.reason)
        else:
            self.reason.hide()
        self.error = QLabel(objectName="errorLabel")
        self.error.setWordWrap(True)
        layout.addStretch(1)
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self, verb, self.submit))

    def channel(self) -> PrintChannel:
        return next(c for c, b in self.choices.items() if b.isChecked())

    def reason_text(self) -> str:
        return self.reason.toPlainText().strip()

    def submit(self) -> None:
        if self.reprint and not self.reason_text():
            self.error.setText("请填写补打原因")
            return
        self.accept()


class PrintProgressDialog(QDialog):
    """What the print is doing now; 取消 asks the job to stop (a device stops at its next safe
    point, the card going to the reject box). When the print ends the outcome stays on screen
    and the button reads 关闭."""

    cancel_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(*style.PRINT_PROGRESS_DIALOG)
        layout = QVBoxLayout(self)
        self.label = QLabel("正在准备…", objectName="printProgress")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.button.setText("取消")
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        guard_enter(self)
        self.running = True

    def progress(self, label: str, fraction: float) -> None:
        self.label.setText(label)
        self.bar.setValue(round(max(0.0, min(1.0, fraction)) * 100))

    def reject(self) -> None:
        """Esc or 取消 while printing asks to stop; once ended it closes."""
        if self.running:
            self.button.setEnabled(False)
            self.label.setText("正在取消…")
            self.cancel_requested.emit()
            return
        super().reject()

    def ended(self, ok: bool, message: str) -> None:
        self.running = False
        self.label.setText(message)
        if ok:
            self.bar.setValue(100)
        self.button.setText("关闭")
        self.button.setEnabled(True)


class PrintFlow(QObject):
    """One print of one card. ``finished(ok, message)`` once the server has been told."""

    finished = Signal(bool, str)

    def __init__(
        self,
        session: Session,
        card: CertificatePublic,
        settings: DeviceSettings,
        *,
        reprint: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session, self.card, self.settings = session, card, settings
        self.reprint = reprint
        self.parent_widget = parent
        self.channel = PrintChannel.pdf
        self.reason = ""
        self.job: Job | None = None
        self.cancelled = False
        self.done = False
        verb = "补打" if reprint else "打印"
        self.progress = PrintProgressDialog(f"{verb}保安员证 — {card.holder_name}", parent)
        self.progress.cancel_requested.connect(self.cancel)

    # -- the steps ------------------------------------------------------------------------------
    def start(
        self,
        channel: PrintChannel,
        reason: str = "",
        *,
        pdf_path: Path | None = None,
        printer: QPrinter | None = None,
    ) -> None:
        """Print through ``channel``: to ``pdf_path``, on ``printer`` (the print dialog's), or
        on the configured card printer."""
        self.channel, self.reason = channel, reason
        self.pdf_path, self.printer = pdf_path, printer
        open_dialog(self.progress)  # its outcome stays on screen until the clerk closes it
        self.progress.progress("正在读取证件信息", 0.05)
        self._run(PrepareCard(self.card.id), self._prepared, self._refused)

    def _run(self, job: Job, ok: Any, err: Any) -> None:
        self.job = job
        self.session.run(job, ok, err, parent=self.parent_widget, on_progress=self._on_progress)

    def _on_progress(self, value: Any) -> None:
        if isinstance(value, tuple) and not self.cancelled:
            label, fraction = value
            self.progress.progress(str(label), float(fraction))

    def _prepared(self, prepared: tuple[Any, Any, Any]) -> None:
        card, shown, face = prepared
        if self.cancelled:
            self._failed(CANCELLED)
            return
        if not shown.printable:
            self._refused(shown.not_printable)
            return
        printed = card.print_state == PrintState.printed.value
        if printed and not self.reprint:
            self._refused("该证书已打印；再次打印请使用补打并填写原因")
            return
        if self.reprint and not printed:
            self._refused("该证书尚未打印，请直接打印")
            return
        job: Job
        if self.channel == PrintChannel.pdf:
            assert self.pdf_path is not None
            job = SaveCardPdf(self.card.id, self.pdf_path)
        elif self.channel == PrintChannel.os:
            if self.printer is None:
                from client.devices.system_printing import SystemPrintError, cr80_printer

                try:
                    self.printer = cr80_printer(printer_name=self.settings.system_printer)
                except SystemPrintError as err:
                    self._failed(err.message)
                    return
            job = PrintOnSystemPrinter(self.printer, face)
        else:
            job = PrintOnCardPrinter(self.settings, face)
        self._run(job, self._printed, self._print_error)

    def cancel(self) -> None:
        """取消: a device job stops at its next safe point and fails with its own message; a
        download or an OS print job is dropped and reported as cancelled at once."""
        if self.done or self.cancelled:
            return
        self.cancelled = True
        job = self.job
        stop = getattr(job, "stop", None)
        if isinstance(job, PrintOnCardPrinter) and stop is not None:
            stop.set()  # the driver answers with CancelledByUserError → _print_error
            return
        if job is not None:
            self.session.runner.cancel(job)
        self._failed(CANCELLED)

    def _printed(self, _result: Any) -> None:
        if self.cancelled:
            return
        self.progress.progress("正在登记打印结果", 0.95)
        if self.reprint:
            record: Job = RecordReprint(self.card.id, self.channel.value, self.reason)
        else:
            record = RecordPrinted(self.card.id, self.channel.value)
        where = f"（{self.pdf_path}）" if self.channel == PrintChannel.pdf else ""
        verb = "补打" if self.reprint else "打印"
        self.session.run(
            record,
            lambda _card: self._end(True, f"{verb}完成：{self.channel.label}{where}"),
            lambda err: self._end(False, err.message),
            parent=self.parent_widget,
        )

    def _print_error(self, err: Any) -> None:
        self._failed(getattr(err, "message", None) or str(err))

    def _refused(self, err: Any) -> None:
        """Nothing went to a printer (the card cannot print now): nothing to record."""
        self._end(False, getattr(err, "message", None) or str(err))

    def _failed(self, reason: str) -> None:
        """The print did not complete: the server records 打印未完成 with the reason."""
        if self.done:
            return
        self.done = True
        job = RecordPrintFailed(self.card.id, self.channel.value, reason)
        self.session.run(
            job,
            lambda _card: self._end(False, f"打印未完成：{reason}", force=True),
            lambda err: self._end(
                False, f"打印未完成：{reason}（登记失败：{err.message}）", force=True
            ),
            parent=self.parent_widget,
        )

    def _end(self, ok: bool, message: str, *, force: bool = False) -> None:
        if self.done and not force:
            return
        self.done = True
        self.progress.ended(ok, message)
        self.finished.emit(ok, message)
