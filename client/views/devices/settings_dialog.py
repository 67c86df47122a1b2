"""设备设置: which fingerprint module and card printer this workstation uses, tested in place.

Settings are the workstation's own (QSettings), so a clerk signing in anywhere keeps the station's
devices. Every test runs off the UI thread with a cancel button; results show as ``key: value``
lines a technician can read over the phone.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from client.devices import diagnostics
from client.devices.settings import (
    FINGERPRINT_BAUDS,
    PRINTER_BAUDS,
    DeviceSettings,
    PrinterPath,
)
from client.jobs.device_jobs import (
    PrintTestCard,
    ReadPrinterStatus,
    TestFingerprintModule,
)
from client.jobs.runner import JobRunner
from client.views.status import StatusLabel
from client.views.style import DEVICE_DIALOG, DEVICE_REPORT_HEIGHT, PORT_COMBO_WIDTH
from client.views.widgets import guard_enter

DeviceJob = TestFingerprintModule | ReadPrinterStatus | PrintTestCard

# simulators for demonstration and training; a simulated finger stands in for the applicant's.
# The last is a clone without the notepad: its test report shows the port identity.
FINGERPRINT_SIMULATORS = (
    *((f"指纹模拟器（演示用，模拟手指 {name}）", f"fpsim://demo?finger={name}") for name in "ABC"),
    ("指纹模拟器（无记事本的兼容模块，模拟手指 A）", "fpsim://clone?finger=A&notepad=0"),
)
PRINTER_SIMULATORS = (("证卡打印机模拟器（演示用）", "evosim://demo"),)


def _port_combo(simulators: tuple[tuple[str, str], ...]) -> QComboBox:
    combo = QComboBox()
    combo.setEditable(True)  # COM12, /dev/ttyUSB3, socket://host:port are typed when not listed
    combo.setMinimumWidth(PORT_COMBO_WIDTH)
    for port in diagnostics.ports():
        combo.addItem(port.label, port.device)
    for label, url in simulators:
        combo.addItem(label, url)
    return combo


def _select(combo: QComboBox, value: str) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
    elif value:
        combo.setEditText(value)


def _port_of(combo: QComboBox) -> str:
    index = combo.currentIndex()
    if index >= 0 and combo.itemText(index) == combo.currentText():
        return str(combo.itemData(index))
    return combo.currentText().strip()


def _baud_combo(values: tuple[int, ...], current: int) -> QComboBox:
    combo = QComboBox()
    for value in values:
        combo.addItem(str(value), value)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


class DeviceSettingsDialog(QDialog):
    progressed = Signal(str)  # from the worker thread: what the printer is doing now

    def __init__(
        self,
        settings: QSettings,
        runner: JobRunner,
        *,
        workstation: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("设备设置")
        self.qsettings = settings
        self.runner = runner
        self.workstation = workstation
        self._job: DeviceJob | None = None
        current = DeviceSettings.load(settings)
        finger = self._fingerprint_box(current)
        printer = self._printer_box(current)
        self.report = QPlainTextEdit(readOnly=True, objectName="deviceReport")
        self.report.setPlaceholderText("测试结果显示在这里")
        self.report.setMinimumHeight(DEVICE_REPORT_HEIGHT)
        self.status = StatusLabel()
        self.progressed.connect(self.status.info)
        self.cancel_button = QPushButton("取消操作")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_work)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("关闭")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        guard_enter(self)

        layout = QVBoxLayout(self)
        layout.addWidget(finger)
        layout.addWidget(printer)
        layout.addWidget(QLabel("结果"))
        layout.addWidget(self.report, 1)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.cancel_button)
        layout.addLayout(status_row)
        layout.addWidget(buttons)
        self.resize(*DEVICE_DIALOG)

    def _fingerprint_box(self, current: DeviceSettings) -> QGroupBox:
        finger = QGroupBox("指纹采集仪（ZFM / R30x / R503 / AS608 系列）")
        form = QFormLayout(finger)
        self.fp_port = _port_combo(FINGERPRINT_SIMULATORS)
        _select(self.fp_port, current.fingerprint_port)
        self.fp_baud = _baud_combo(FINGERPRINT_BAUDS, current.fingerprint_baud)
        self.fp_test = QPushButton("测试连接")
        self.fp_test.clicked.connect(self.test_fingerprint)
        form.addRow("端口", self.fp_port)
        form.addRow("波特率", self.fp_baud)
        form.addRow("", self.fp_test)
        return finger

    def _printer_box(self, current: DeviceSettings) -> QGroupBox:
        printer = QGroupBox("证卡打印机")
        pform = QFormLayout(printer)
        self.path = QComboBox()
        for path in PrinterPath:
            self.path.addItem(path.label, str(path))
        self.path.setCurrentIndex(self.path.findData(str(current.printer_path)))
        self.path_pages = QStackedWidget()
        serial_page = QWidget()
        sform = QFormLayout(serial_page)
        sform.setContentsMargins(0, 0, 0, 0)
        self.pr_port = _port_combo(PRINTER_SIMULATORS)
        _select(self.pr_port, current.printer_port)
        self.pr_baud = _baud_combo(PRINTER_BAUDS, current.printer_baud)
        sform.addRow("端口", self.pr_port)
        sform.addRow("波特率", self.pr_baud)
        system_page = QWidget()
        yform = QFormLayout(system_page)
        yform.setContentsMargins(0, 0, 0, 0)
        self.system_printer = QComboBox()
        self.system_printer.addItems(diagnostics.system_printers())
        self.system_printer.setEditable(True)
        if current.system_printer:
            self.system_printer.setCurrentText(current.system_printer)
        yform.addRow("打印机", self.system_printer)
        self.path_pages.addWidget(serial_page)
        self.path_pages.addWidget(system_page)
        self.path.currentIndexChanged.connect(self._path_changed)
        self._path_changed()
        row = QHBoxLayout()
        self.pr_status = QPushButton("查询状态")
        self.pr_status.clicked.connect(self.printer_status)
        self.pr_test = QPushButton("打印测试卡")
        self.pr_test.clicked.connect(self.print_test_card)
        row.addWidget(self.pr_status)
        row.addWidget(self.pr_test)
        row.addStretch(1)
        pform.addRow("打印方式", self.path)
        pform.addRow(self.path_pages)
        pform.addRow(row)
        return printer

    # -- what the form says -------------------------------------------------------------------
    def values(self) -> DeviceSettings:
        return DeviceSettings(
            fingerprint_port=_port_of(self.fp_port),
            fingerprint_baud=int(self.fp_baud.currentData()),
            printer_path=PrinterPath(self.path.currentData()),
            printer_port=_port_of(self.pr_port),
            printer_baud=int(self.pr_baud.currentData()),
            system_printer=self.system_printer.currentText().strip(),
        )

    def _path_changed(self) -> None:
        serial = self.path.currentData() == str(PrinterPath.evolis_serial)
        self.path_pages.setCurrentIndex(0 if serial else 1)

    def save(self) -> None:
        self.values().save(self.qsettings)
        self.accept()

    # -- device work off the UI thread --------------------------------------------------------
    @property
    def working(self) -> bool:
        return self._job is not None

    def _run(self, what: str, job: DeviceJob) -> None:
        if self.working:
            return
        for button in (self.fp_test, self.pr_status, self.pr_test):
            button.setEnabled(False)
        self.cancel_button.setVisible(True)
        self.status.info(f"{what}…")

        def done(result: Any) -> None:
            self._finish()
            lines = result if isinstance(result, list) else [("结果", str(result))]
            self.report.setPlainText("\n".join(f"{k}: {v}" for k, v in lines))
            self.status.info(f"{what}：完成")

        def failed(err: Exception) -> None:
            self._finish()
            message = getattr(err, "message", None) or str(err)
            code = getattr(err, "code", "")
            self.report.setPlainText(f"错误: {message}" + (f"\n代码: {code}" if code else ""))
            self.status.error(f"{what}失败：{message}")

        self._job = job
        self.runner.submit(job, done, failed)

    def _finish(self) -> None:
        self._job = None
        for button in (self.fp_test, self.pr_status, self.pr_test):
            button.setEnabled(True)
        self.cancel_button.setVisible(False)

    def cancel_work(self) -> None:
        if self._job is not None:
            self._job.stop.set()
            self.status.info("正在取消…")

    def test_fingerprint(self) -> None:
        port, baud = _port_of(self.fp_port), int(self.fp_baud.currentData())
        if not port:
            self.status.error("请先选择指纹采集仪的端口")
            return
        self._run("测试指纹采集仪", TestFingerprintModule(port, baud))

    def printer_status(self) -> None:
        values = self.values()
        self._run("查询打印机状态", ReadPrinterStatus(values))

    def print_test_card(self) -> None:
        job = PrintTestCard(self.values(), self.workstation, on_progress=self._report_progress)
        self._run("打印测试卡", job)

    def _report_progress(self, label: str, fraction: float) -> None:
        self.progressed.emit(f"打印测试卡：{label}（{fraction:.0%}）")

    def reject(self) -> None:
        if self.working:
            self.cancel_work()
        super().reject()
