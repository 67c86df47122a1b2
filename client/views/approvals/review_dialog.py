"""审批: one application, its materials, screening and progress, and the actions of its step.

The opinion box says whether what is typed stays inside the police (intermediate steps) or goes
to the applicant (the final step, and every rejection). The main button's label and whether it is
enabled come from the gate the server reports (【同意】, 【获取指纹卡号】, 【缴费确认】).
"""

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence, QPainter, QShortcut
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from client.api import ApiError
from client.devices.settings import DeviceSettings
from client.files import write_atomically
from client.jobs.api_jobs import LoadCertificatePdf, LoadPrintPdf
from client.jobs.job import ApiJob
from client.jobs.local_jobs import RenderPdfPages
from client.models.fingerprint_enrolment import EnrolmentModel
from client.models.review import (
    RELEASE_OR_REASSIGN,
    ReviewModel,
    status_line,
    view_only_note,
)
from client.session import Session
from client.views.approvals.action_dialogs import (
    AssignDialog,
    FingerprintCardDialog,
    ReasonDialog,
    ReassignDialog,
    RejectDialog,
)
from client.views.approvals.external_view import ExternalViewPanel
from client.views.approvals.materials_viewer import MaterialsViewer
from client.views.approvals.progress_timeline import ProgressTimeline
from client.views.approvals.screening_panel import ScreeningPanel
from client.views.devices.fingerprint_dialog import FingerprintEnrolDialog
from client.views.status import StatusLabel
from client.views.style import OPINION_HEIGHT, PERSONS_TABLE_HEIGHT, REVIEW_DIALOG, set_state
from client.views.widgets import confirm, guard_enter, not_on_enter, show_action_state, tab_leaves
from shared.approvals import ApprovalAction
from shared.errors import ErrorCode
from shared.schemas.applications import ApplicationDetail
from shared.schemas.common import ActionState
from shared.schemas.forms import FORMS

INTERNAL_LABEL = "审批意见（内部意见，仅公安内部可见，不告知申请人）"
EXTERNAL_LABEL = "审批意见（对外可见：最后一级的审批意见将告知申请人）"
ASSIGN_TIP = "将本环节交给本环节有审批权限的其他人员办理"
RETURN_TIP = "退回本轮的上一个审批环节重新办理（原因仅公安内部可见）"
REASSIGN_TIP = "本单位领导或系统管理员：收回、认领或改派该待办环节"


def form_rows(detail: ApplicationDetail) -> list[tuple[str, str]]:
    """The form's fields with the titles the clerk knows from the paper form, in form order."""
    fields = FORMS[detail.business_type].model_fields
    rows = []
    for name, field in fields.items():
        if name in detail.form and detail.form[name] not in (None, ""):
            rows.append((field.title or name, str(detail.form[name])))
    return rows


class ReviewDialog(QDialog):
    """``view_only``: the materials and progress without the step's actions (考试报名 shows
    an enrolment; approving stays in 通用审批)."""

    def __init__(
        self,
        session: Session,
        application_id: int,
        parent: QWidget | None = None,
        *,
        view_only: bool = False,
    ):
        super().__init__(parent)
        self.session = session
        self.view_only = view_only
        me = session.me
        permissions = set(me.permissions) if me else set()
        self.setWindowTitle("查看" if view_only else "审批")
        self.resize(*REVIEW_DIALOG)
        # every call of this dialog: off the UI thread, re-authenticating over this window
        run = partial(session.run, parent=self)
        self.model = ReviewModel(
            run,
            application_id,
            can_screen="screening:view" in permissions,
        )
        self.can_run_screening = "screening:run" in permissions
        self.can_print = "applications:print" in permissions
        layout = QVBoxLayout(self)
        self.header = QLabel(objectName="pageTitle")
        self.header.setWordWrap(True)
        self.subheader = QLabel(objectName="reviewSubheader")
        self.subheader.setWordWrap(True)
        layout.addWidget(self.header)
        layout.addWidget(self.subheader)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._info_tab(), "申请信息")
        self.materials = MaterialsViewer(run)
        self.tabs.addTab(self.materials, "申请材料")
        self.screening = ScreeningPanel(self.can_run_screening)
        self.screening.run_requested.connect(self.run_screening)
        if self.model.can_screen:
            self.tabs.addTab(self.screening, "人员审查")
        self.timeline = ProgressTimeline()
        self.tabs.addTab(self.timeline, "审批进度")
        self.external = ExternalViewPanel()
        self.tabs.addTab(self.external, "申请人可见")
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self._action_box())
        self.status = StatusLabel()
        layout.addWidget(self.status)
        self.model.detail_changed.connect(self._show_detail)
        self.model.progress_changed.connect(
            lambda: self.timeline.show_progress(self.model.progress)  # type: ignore[arg-type]
        )
        self.model.materials_changed.connect(
            lambda: self.materials.set_materials(self.model.materials)
        )
        self.model.screening_changed.connect(
            lambda: self.screening.show_summary(self.model.screening)  # type: ignore[arg-type]
        )
        self.model.external_changed.connect(self._show_external)
        self.model.acted.connect(self._acted)
        self.model.acting_changed.connect(self._show_acting)
        self.model.failed.connect(self._failed)
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self.model.load)
        guard_enter(self)
        self.model.load()

    # -- layout ------------------------------------------------------------------------------
    def _info_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        self.form_box = QGroupBox("申请表")
        self.form_layout = QFormLayout(self.form_box)
        layout.addWidget(self.form_box)
        persons = QGroupBox("涉及人员")
        inner = QVBoxLayout(persons)
        self.persons = QTableWidget(0, 4)
        self.persons.setHorizontalHeaderLabels(["身份", "姓名", "证件号码", "联系电话"])
        self.persons.verticalHeader().setVisible(False)
        self.persons.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        tab_leaves(self.persons)  # Tab goes on to the opinion box and the step's buttons
        self.persons.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.persons.setMinimumHeight(PERSONS_TABLE_HEIGHT)
        inner.addWidget(self.persons)
        layout.addWidget(persons, 1)
        scroll = QScrollArea()  # a long form scrolls; the actions below stay in view
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(tab)
        return scroll

    def _action_box(self) -> QWidget:
        self.actions = QGroupBox("审批")
        layout = QVBoxLayout(self.actions)
        self.opinion_label = QLabel(INTERNAL_LABEL)
        self.opinion_label.setObjectName("opinionLabel")
        layout.addWidget(self.opinion_label)
        self.opinion = QPlainTextEdit()
        self.opinion.setAccessibleName("审批意见")
        self.opinion.setTabChangesFocus(True)
        self.opinion.setFixedHeight(OPINION_HEIGHT)
        layout.addWidget(self.opinion)
        self.gate_note = QLabel(objectName="errorLabel")
        self.gate_note.setWordWrap(True)
        layout.addWidget(self.gate_note)
        row = QHBoxLayout()
        self.primary = QPushButton("同意")
        self.primary.setObjectName("primaryButton")
        self.primary.clicked.connect(self.primary_action)
        self.reject_button = QPushButton("不同意")
        self.reject_button.clicked.connect(self.disagree)
        self.assign_button = QPushButton("指派")
        self.assign_button.clicked.connect(self.assign)
        self.return_button = QPushButton("退回上一级")
        self.return_button.clicked.connect(self.return_back)
        self.reassign_button = QPushButton("收回/改派…")
        self.reassign_button.clicked.connect(self.reassign)
        self.reassign_button.setVisible(False)
        self.print_button = QPushButton("打印…")
        self.print_button.clicked.connect(self.print_application)
        self.save_button = QPushButton("另存为 PDF…")
        self.save_button.clicked.connect(self.save_pdf)
        self.certificate_button = QPushButton("证书 PDF…")
        self.certificate_button.setToolTip("保存审批通过后核发的许可证或备案证明")
        self.certificate_button.clicked.connect(self.save_certificate)
        self.certificate_button.setVisible(False)
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        for button in (
            self.primary,
            self.reject_button,
            self.assign_button,
            self.return_button,
            self.reassign_button,
        ):
            row.addWidget(button)
        row.addStretch(1)
        for button in (self.certificate_button, self.print_button, self.save_button, close):
            row.addWidget(button)
        self.print_button.setVisible(self.can_print)
        self.save_button.setVisible(self.can_print)
        # the step's actions are clicked, never pressed by a stray Enter
        not_on_enter(
            self.primary,
            self.reject_button,
            self.assign_button,
            self.return_button,
            self.reassign_button,
        )
        layout.addLayout(row)
        self._set_enabled(False)
        if self.view_only:
            self.actions.setTitle("")
            for widget in (
                self.opinion_label,
                self.opinion,
                self.gate_note,
                self.primary,
                self.reject_button,
                self.assign_button,
                self.return_button,
            ):
                widget.setVisible(False)
        return self.actions

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (
            self.primary,
            self.reject_button,
            self.assign_button,
            self.return_button,
            self.opinion,
        ):
            widget.setEnabled(enabled)

    # -- showing what the server says --------------------------------------------------------
    def _show_detail(self) -> None:
        d = self.model.detail
        assert d is not None
        self.header.setText(f"{d.business_type_label} · {d.applicant_name}")
        self.subheader.setText(status_line(d))
        set_state(self.subheader, "overdue", d.overdue)
        while self.form_layout.rowCount():
            self.form_layout.removeRow(0)
        self.form_layout.addRow("申请人", QLabel(f"{d.applicant_name}（{d.applicant_code}）"))
        self.form_layout.addRow("所在地区", QLabel(d.region_name))
        self.form_layout.addRow("来源", QLabel(d.source_label))
        if d.external_ref:
            reference = QLabel(d.external_ref)
            reference.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.form_layout.addRow("外网申请编号", reference)
        for title, value in form_rows(d):
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.form_layout.addRow(title, label)
        if d.fingerprint_card_no:
            self.form_layout.addRow("指纹卡号", QLabel(d.fingerprint_card_no))
        self.persons.setRowCount(len(d.persons))
        for row, person in enumerate(d.persons):
            values = (person.role_label, person.name, person.id_number or "", person.mobile or "")
            for column, text in enumerate(values):
                self.persons.setItem(row, column, QTableWidgetItem(text))
        self._show_actions(d)

    def _show_actions(self, d: ApplicationDetail) -> None:
        """Every button as the server's ``allowed_actions`` say, its reason as the tooltip."""
        self.actions.setVisible(True)
        if self.view_only:
            return
        self.reassign_button.setVisible(d.can_reassign)
        acting = d.can_act and d.gate is not None
        self.opinion.setEnabled(acting)
        external = self.model.opinion_external
        self.opinion_label.setText(EXTERNAL_LABEL if external else INTERNAL_LABEL)
        set_state(self.opinion_label, "external", external)  # goes to the applicant: stands out
        state = self.model.action
        gate = d.gate if acting else None
        self.primary.setText(gate.label if gate is not None else "同意")
        if gate is not None and gate.action != "approve":
            # the gate's own step before 同意 (fingerprint card, payment): the step's clerk does it
            show_action_state(self.primary, ActionState(allowed=True))
        else:
            show_action_state(self.primary, state(ApprovalAction.approve))
        show_action_state(self.reject_button, state(ApprovalAction.reject))
        show_action_state(self.assign_button, state(ApprovalAction.assign), ASSIGN_TIP)
        show_action_state(self.return_button, state(ApprovalAction.return_back), RETURN_TIP)
        reassign = self.model.any_of(RELEASE_OR_REASSIGN)
        show_action_state(self.reassign_button, reassign, REASSIGN_TIP)
        self.gate_note.setText("；".join(gate.reasons) if gate is not None else view_only_note(d))

    def _show_acting(self, acting: bool) -> None:
        """The step's buttons greyed while an action is on its way; as the server says after."""
        if acting:
            self._set_enabled(False)
            self.reassign_button.setEnabled(False)
            self.status.info("正在提交…")
        elif self.model.detail is not None:
            self._show_actions(self.model.detail)

    def _show_external(self) -> None:
        view = self.model.external
        assert view is not None
        self.external.show_view(view)
        self.certificate_button.setVisible(self.can_print and view.document_number is not None)

    def _acted(self, message: str) -> None:
        self.opinion.clear()
        self.status.info(message)

    def _failed(self, err: ApiError) -> None:
        self.status.error(err)
        self.screening.run.setEnabled(True)
        if err.code is ErrorCode.STALE_VERSION:
            self.model.load()  # show what the colleague did; the typed opinion stays

    # -- actions ------------------------------------------------------------------------------
    def primary_action(self) -> None:
        d = self.model.detail
        if d is None or d.gate is None:
            return
        if d.gate.action == "fingerprint":
            self.enrol_fingerprint(d)
            return
        if d.gate.action == "payment":
            if confirm(
                self, "缴费确认", f"确认申请人 {d.applicant_name} 已缴纳考试费用？", "确认缴费"
            ):
                self.model.confirm_payment()
            return
        opinion = self.opinion.toPlainText().strip()
        if self.model.opinion_required and not opinion:
            self.status.error("最后一级审批须填写对外可见的审批意见")
            self.opinion.setFocus()
            return
        self.model.approve(opinion)

    def enrol_fingerprint(self, detail: ApplicationDetail) -> None:
        """【获取指纹卡号】: enrol on this station's module; without one, type the card number."""
        settings = DeviceSettings.load(self.session.prefs.qsettings)
        if not settings.fingerprint_port:
            self.status.info("本工作站未设置指纹采集仪（顶部【设备设置】），请手工输入指纹卡号")
            self.type_card_number()
            return
        from client.devices import diagnostics  # the drivers load when a device is used

        model = EnrolmentModel(
            partial(self.session.run, parent=self),
            lambda: diagnostics.open_fingerprint(settings),
            detail.id,
            port=settings.fingerprint_port,
        )
        dialog = FingerprintEnrolDialog(model, detail, self)
        if dialog.exec() and dialog.result_detail is not None:
            self.model.adopt(dialog.result_detail, "指纹录入成功，已获取指纹卡号")
        else:
            self.model.load_progress()  # a refused duplicate is flagged in the log
            if dialog.wants_manual:
                self.type_card_number()

    def type_card_number(self) -> None:
        dialog = FingerprintCardDialog(self)
        if dialog.exec():
            self.model.record_fingerprint(dialog.value())

    def disagree(self) -> None:
        """不同意 (not ``reject``: that is QDialog's close, bound to Esc). An opinion typed in
        the box goes where its label said it would: into the reason the applicant reads only
        when the box was marked 对外可见, else into the dialog's internal opinion."""
        dialog = RejectDialog(self)
        opinion = self.opinion.toPlainText().strip()
        if opinion:
            target = dialog.reason if self.model.opinion_external else dialog.internal
            target.setPlainText(opinion)
        if dialog.exec():
            reason, corrections = dialog.values()
            self.model.reject(reason, corrections, dialog.internal_opinion())

    def assign(self) -> None:
        """指派 to one of the people the server named (``assign_to``, never the clerk)."""
        d = self.model.detail
        if d is None or not self.model.action(ApprovalAction.assign).allowed:
            return
        dialog = AssignDialog(d.assign_to, self)
        chosen = dialog.chosen() if dialog.exec() else None
        if chosen is not None:
            self.model.assign(chosen, dialog.opinion.toPlainText().strip())

    def reassign(self) -> None:
        """收回 when the server allows it (an assigned step), 改派/认领 to its ``reassign_to``."""
        d = self.model.detail
        if d is None or not d.can_reassign:
            return
        release = self.model.action(ApprovalAction.release).allowed
        people = d.reassign_to if self.model.action(ApprovalAction.reassign).allowed else []
        if not release and not people:
            return
        assigned = d.current_task.assignee_name if d.current_task else None
        dialog = ReassignDialog(people, assigned, can_release=release, parent=self)
        if dialog.exec():
            _, user_id = dialog.chosen()
            self.model.reassign(user_id, dialog.opinion.toPlainText().strip())

    def return_back(self) -> None:
        dialog = ReasonDialog("退回上一级", "退回原因（内部，上一级审批人可见）", self)
        if dialog.exec():
            self.model.return_back(dialog.value())

    def run_screening(self) -> None:
        self.screening.set_busy(True)
        self.model.run_screening()

    # -- print and save ----------------------------------------------------------------------
    def _fetch(self, job: ApiJob, then: Callable[[bytes], None]) -> None:
        self.session.run(job, then, self.status.error, parent=self)

    def _with_pdf(self, then: Callable[[bytes], None]) -> None:
        self.status.info("正在生成打印文件…")
        self._fetch(LoadPrintPdf(self.model.application_id), then)

    def save_pdf(self) -> None:
        d = self.model.detail
        self._save("另存为 PDF", f"{d.number if d else 'application'}-审批表.pdf", self._with_pdf)

    def save_certificate(self) -> None:
        view = self.model.external
        number = view.document_number if view and view.document_number else "证书"
        application_id = self.model.application_id

        def fetch(then: Callable[[bytes], None]) -> None:
            self.status.info("正在获取证书…")
            self._fetch(LoadCertificatePdf(application_id), then)

        self._save("保存证书", f"{number}.pdf", fetch)

    def _save(
        self, title: str, suggested: str, fetch: Callable[[Callable[[bytes], None]], None]
    ) -> None:
        path, _ = QFileDialog.getSaveFileName(self, title, suggested, "PDF 文件 (*.pdf)")
        if not path:
            return

        def write(data: bytes) -> None:
            write_atomically(path, data)
            self.status.info(f"已保存：{path}")

        fetch(write)

    def print_application(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if QPrintDialog(printer, self).exec() != QDialog.DialogCode.Accepted:
            return

        def paint(pages: list[QImage]) -> None:
            painter = QPainter(printer)
            try:
                for index, image in enumerate(pages):
                    if index:
                        printer.newPage()
                    area = painter.viewport()
                    size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
                    painter.setViewport(area.x(), area.y(), size.width(), size.height())
                    painter.setWindow(image.rect())
                    painter.drawImage(0, 0, image)
                    painter.setViewport(area)
            finally:
                painter.end()
            self.status.info(f"已发送到打印机：共 {len(pages)} 页")

        self._with_pdf(
            lambda data: self.session.run(RenderPdfPages(data), paint, self.status.error)
        )
