"""内外网数据同步: where the bundles go and come from, the cursors of both streams, the peer's
keys, the bundles that arrived (quarantined ones with their reasons: view, 重新校验, 丢弃), and
【立即同步】, one cycle on the server, off the UI thread.

What the administrator may do follows the server's answers: buttons show for the permissions
held (sync:run, sync:manage) and are greyed, with the server's reason, when the selected bundle
does not allow the action."""

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from client.jobs.sync_jobs import (
    AddPeerKey,
    DiscardSyncBundle,
    LoadSyncBundle,
    LoadSyncBundles,
    LoadSyncStatus,
    RecheckSyncBundle,
    RejectStuckRecord,
    RetirePeerKey,
    RunSync,
)
from client.models.sync import (
    BUNDLE_COLUMNS,
    BUNDLE_FILTERS,
    PEER_KEY_COLUMNS,
    bundle_lines,
    status_lines,
)
from client.models.table import PagedRows
from client.qt.table_model import TableAdapter
from client.session import Session
from client.views.paged_table import PagedTable
from client.views.status import StatusLabel
from client.views.style import (
    FILTER_COMBO_WIDTH,
    SYNC_BUNDLE_DIALOG,
    SYNC_KEY_DIALOG,
)
from client.views.widgets import (
    confirm,
    guard_enter,
    ok_cancel,
    open_dialog,
    show_action_state,
    tab_leaves,
)

RUN, MANAGE = "sync:run", "sync:manage"
STATUS_COLUMNS = 2  # the status lines in two columns of label and text
WRAPPED = frozenset(
    {"最近一次同步", "卡住的记录"}
)  # may carry the cycle's error; file names never wrap


class SyncPage(QWidget):
    loaded = Signal()  # the status and the bundles are on screen
    ran = Signal(object)  # 立即同步 answered: its SyncRunResult, or the ApiError

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.running = False
        self._pending = 0
        self._keep_message = False
        layout = QVBoxLayout(self)
        layout.addLayout(self._title_bar())
        layout.addWidget(self._status_box())
        self.tabs = QTabWidget()
        self.tabs.addTab(self._bundles_box(), "收到的同步包")
        self.tabs.addTab(self._keys_box(), "外网门户公钥")
        layout.addWidget(self.tabs, 1)
        self.status = StatusLabel()
        layout.addWidget(self.status)
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self.refresh)
        self._shown_once = False
        self._show_allowed()
        self.refresh()

    # -- building --------------------------------------------------------------------------
    def _title_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("内外网数据同步", objectName="pageTitle"))
        bar.addStretch(1)
        self.run_button = QPushButton("立即同步", objectName="syncRunButton")
        self.run_button.setToolTip("导入已到达的同步包，再发出待发送的记录（在服务器上执行）")
        self.run_button.clicked.connect(self.run_now)
        self.run_button.setVisible(self.session.may(RUN))
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.setToolTip("刷新 (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        bar.addWidget(self.run_button)
        bar.addWidget(self.refresh_button)
        return bar

    def _status_box(self) -> QGroupBox:
        box = QGroupBox("同步状态")
        outer = QVBoxLayout(box)
        self.status_grid = QGridLayout()
        outer.addLayout(self.status_grid)
        self.status_values: dict[str, QLabel] = {}
        # shown only while a record of the portal's stream keeps failing (sync:manage)
        self.stuck_bar = QWidget()
        bar = QHBoxLayout(self.stuck_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        self.stuck_label = QLabel(objectName="syncStuck")
        self.stuck_label.setWordWrap(True)
        self.stuck_button = QPushButton("退回该记录", objectName="syncRejectStuckButton")
        self.stuck_button.setToolTip(
            "以“内网无法处理该记录”退回外网门户（附退回原因），之后的记录继续导入"
        )
        self.stuck_button.clicked.connect(self.reject_stuck)
        self.stuck_button.setVisible(self.session.may(MANAGE))
        bar.addWidget(self.stuck_label, 1)
        bar.addWidget(self.stuck_button)
        self.stuck_bar.setVisible(False)
        outer.addWidget(self.stuck_bar)
        return box

    def _keys_box(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        self.keys = PagedRows(PEER_KEY_COLUMNS)
        self.keys_view = QTableView()
        self.keys_view.setModel(TableAdapter(self.keys))
        self.keys_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.keys_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.keys_view.verticalHeader().setVisible(False)
        tab_leaves(self.keys_view)
        self.keys_view.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.keys_view.horizontalHeader().setStretchLastSection(True)
        self.keys_view.setWordWrap(False)  # a key is elided, never cut at its slashes
        layout.addWidget(self.keys_view, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.add_key_button = QPushButton("登记公钥…")
        self.add_key_button.clicked.connect(self.add_key)
        self.retire_key_button = QPushButton("停用")
        self.retire_key_button.clicked.connect(self.retire_key)
        for button in (self.add_key_button, self.retire_key_button):
            button.setVisible(self.session.may(MANAGE))
            buttons.addWidget(button)
        layout.insertLayout(0, buttons)
        self.keys_view.selectionModel().selectionChanged.connect(self._show_allowed)
        return box

    def _bundles_box(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        bar = QHBoxLayout()
        self.filter = QComboBox()
        self.filter.setMinimumWidth(FILTER_COMBO_WIDTH)
        for label, states in BUNDLE_FILTERS:
            self.filter.addItem(label, list(states))
        self.filter.currentIndexChanged.connect(self._filter_changed)
        self.detail_button = QPushButton("查看详情")
        self.detail_button.clicked.connect(self.show_detail)
        self.recheck_button = QPushButton("重新校验")
        self.recheck_button.setToolTip("登记了缺少的公钥或补齐缺失序号后，再次校验并导入该同步包")
        self.recheck_button.clicked.connect(self.recheck)
        self.recheck_button.setVisible(self.session.may(RUN))
        self.discard_button = QPushButton("丢弃", objectName="discardButton")
        self.discard_button.clicked.connect(self.discard)
        self.discard_button.setVisible(self.session.may(MANAGE))
        bar.addWidget(QLabel("显示"))
        bar.addWidget(self.filter)
        bar.addStretch(1)
        for button in (self.detail_button, self.recheck_button, self.discard_button):
            bar.addWidget(button)
        layout.addLayout(bar)
        self.model = PagedRows(BUNDLE_COLUMNS)
        self.table = PagedTable(self.model, "sync_bundles", self.session.prefs)
        self.table.view.setWordWrap(False)  # a file name is elided, never cut at its hyphens
        self.table.reload_requested.connect(self.load_bundles)
        self.table.on_activated(lambda _row: self.show_detail())
        self.table.view.selectionModel().selectionChanged.connect(self._show_allowed)
        self.model.reset.connect(self._show_allowed)
        layout.addWidget(self.table, 1)
        # the selected bundle's reason in full: the table's column elides it at 1366×768
        self.reason_label = QLabel(objectName="syncReason")
        self.reason_label.setWordWrap(True)
        self.reason_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason_label.setVisible(False)
        layout.addWidget(self.reason_label)
        return box

    # -- loading ---------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """Shown again after another page: ask afresh (the first showing was loaded above)."""
        super().showEvent(event)
        if self._shown_once and not event.spontaneous():
            self.refresh()
        self._shown_once = True

    def refresh(self) -> None:
        """刷新 (F5): the status and the bundles again."""
        self._reload(keep_message=False)

    def _reload(self, *, keep_message: bool) -> None:
        """``keep_message``: after an action, the status line keeps what it said (立即同步's
        summary) instead of being cleared."""
        self._keep_message = keep_message
        self._pending = 2
        self.session.run(LoadSyncStatus(), self._fill_status, self._failed, parent=self)
        self.load_bundles(counted=True)

    def _filter_changed(self) -> None:
        self.model.page = 1
        self.load_bundles()

    def load_bundles(self, counted: bool = False) -> None:
        if not counted:
            self._pending = max(self._pending, 0) + 1
        job = LoadSyncBundles(**self.model.request(), state=self.filter.currentData() or None)
        self.session.run(job, self._fill_bundles, self._failed, parent=self)

    def _fill_status(self, status: Any) -> None:
        self.current_status = status
        lines = status_lines(status)
        rows = -(-len(lines) // STATUS_COLUMNS)
        for index, (label, text) in enumerate(lines):
            value = self.status_values.get(label)
            if value is None:
                value = QLabel(objectName="syncValue")
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                value.setWordWrap(label in WRAPPED)
                row, column = index % rows, (index // rows) * 2
                self.status_grid.addWidget(QLabel(f"{label}："), row, column)
                self.status_grid.addWidget(value, row, column + 1)
                self.status_values[label] = value
            value.setText(text)
        self.status_grid.setColumnStretch(1, 3)
        self.status_grid.setColumnStretch(3, 2)
        stuck = getattr(status, "stuck", None)
        if stuck is not None:
            self.stuck_label.setText(
                f"外网记录（序号 {stuck.seq}，类型 {stuck.type}）已连续 {stuck.failures} 次"
                "应用失败，之后的记录暂停导入。"
            )
        self.stuck_bar.setVisible(stuck is not None)
        self.keys.fill(status.peer_keys, len(status.peer_keys))
        self._show_allowed()
        self._done()

    def _fill_bundles(self, page: Any) -> None:
        self.model.fill(page.items, page.total)
        self._done()

    def _failed(self, err: Any) -> None:
        self.status.error(err)
        self._done(ok=False)

    def _done(self, ok: bool = True) -> None:
        self._pending -= 1
        if self._pending <= 0:
            if ok and not self.running and not self._keep_message:
                self.status.info()
            self.loaded.emit()

    # -- what the selection allows ---------------------------------------------------------
    def selected_bundle(self) -> Any | None:
        return self.table.selected()

    def selected_key(self) -> Any | None:
        rows = self.keys_view.selectionModel().selectedRows()
        return self.keys.row_at(rows[0].row()) if rows else None

    def _show_allowed(self) -> None:
        bundle = self.selected_bundle()
        self.detail_button.setEnabled(bundle is not None)
        reason = bundle.reason if bundle is not None else None
        title = "隔离原因" if bundle is not None and bundle.state == "quarantined" else "原因"
        self.reason_label.setText(f"{title}：{reason}" if reason else "")
        self.reason_label.setVisible(bool(reason))
        for button, state in (
            (self.recheck_button, bundle.recheck if bundle else None),
            (self.discard_button, bundle.discard if bundle else None),
        ):
            if state is None:
                button.setEnabled(False)
                button.setToolTip("请先选择一个同步包")
            else:
                show_action_state(button, state)
        key = self.selected_key()
        self.retire_key_button.setEnabled(key is not None and key.retired_at is None)
        self.run_button.setEnabled(not self.running)

    # -- actions ---------------------------------------------------------------------------
    def run_now(self) -> None:
        """立即同步: the cycle runs on the server, the request on a worker thread; the button
        stays greyed until the answer (the one-line summary, or why not) is shown."""
        if self.running:
            return
        self.running = True
        self.run_button.setEnabled(False)
        self.run_button.setText("正在同步…")
        self.status.info("正在同步，请稍候…")
        self.session.run(RunSync(), self._ran, self._run_failed, parent=self)

    def _ran(self, result: Any) -> None:
        self._run_over()
        self.status.info(result.line)  # 同步完成：…
        self.ran.emit(result)
        self._reload(keep_message=True)

    def _run_failed(self, err: Any) -> None:
        self._run_over()
        self.status.error(err)
        self.ran.emit(err)
        self._reload(keep_message=True)

    def _run_over(self) -> None:
        self.running = False
        self.run_button.setText("立即同步")
        self.run_button.setEnabled(True)

    def show_detail(self) -> None:
        bundle = self.selected_bundle()
        if bundle is None:
            return

        def show(detail: Any) -> None:
            self.detail_dialog = open_dialog(BundleDialog(detail, parent=self))

        self.session.run(LoadSyncBundle(bundle.id), show, self.status.error, parent=self)

    def recheck(self) -> None:
        bundle = self.selected_bundle()
        if bundle is None or not bundle.recheck.allowed:
            return

        def rechecked(detail: Any) -> None:
            reason = f"：{detail.reason}" if detail.reason else ""
            self.status.info(f"重新校验完成，{detail.name} {detail.state_label}{reason}")
            self._reload(keep_message=True)

        self.status.info("正在重新校验…")
        job = RecheckSyncBundle(bundle.id)
        self.session.run(job, rechecked, self.status.error, parent=self)

    def discard(self) -> None:
        bundle = self.selected_bundle()
        if bundle is None or not bundle.discard.allowed:
            return
        question = f"确定丢弃这个隔离的同步包？\n{bundle.name}"  # a file name is never cut
        details = (
            f"隔离原因：{bundle.reason or '未知'}\n丢弃后其内容将被删除，不能再重新校验；"
            "若对端重新发送，仍可正常导入。"
        )
        if not confirm(self, "丢弃同步包", question, "丢弃", details=details):
            return

        def discarded(detail: Any) -> None:
            self.status.info(f"已丢弃同步包 {detail.name}")
            self._reload(keep_message=True)

        job = DiscardSyncBundle(bundle.id)
        self.session.run(job, discarded, self.status.error, parent=self)

    def reject_stuck(self) -> None:
        """退回该记录: the reason first (a dialog Enter does not submit), then a question
        whose default is 取消; only then the request."""
        stuck = getattr(getattr(self, "current_status", None), "stuck", None)
        if stuck is None:
            return
        dialog = StuckRejectDialog(stuck.seq, stuck.type, parent=self)
        dialog.submitted.connect(lambda reason: self._reject_stuck(stuck, reason))
        self.stuck_dialog = open_dialog(dialog)

    def _reject_stuck(self, stuck: Any, reason: str) -> None:
        question = f"确定退回外网记录（序号 {stuck.seq}，类型 {stuck.type}）？"
        details = (
            f"退回原因：{reason}\n外网门户将收到“内网无法处理该记录”的通知；"
            "该记录不会在内网生效，之后的记录在下次同步时继续导入。"
        )
        if not confirm(self, "退回外网记录", question, "退回", details=details):
            return

        def rejected(_status: Any) -> None:
            self.status.info(f"已退回外网记录（序号 {stuck.seq}），下次同步将继续导入之后的记录")
            self._reload(keep_message=True)

        job = RejectStuckRecord(stuck.seq, reason)
        self.session.run(job, rejected, self.status.error, parent=self)

    def add_key(self) -> None:
        dialog = PeerKeyDialog(parent=self)
        dialog.submitted.connect(self._add_key)
        self.key_dialog = open_dialog(dialog)

    def _add_key(self, text: str) -> None:
        def added(key: Any) -> None:
            self.status.info(f"已登记外网门户公钥 {key.key_id}")
            self._reload(keep_message=True)

        self.session.run(AddPeerKey(text), added, self.status.error, parent=self)

    def retire_key(self) -> None:
        key = self.selected_key()
        if key is None or key.retired_at is not None:
            return
        question = f"确定停用外网门户公钥 {key.key_id}？"
        details = "停用后，该密钥只对停用前生成的同步包有效；之后用它签名的同步包将被隔离。"
        if not confirm(self, "停用公钥", question, "停用", details=details):
            return

        def retired(row: Any) -> None:
            self.status.info(f"已停用外网门户公钥 {row.key_id}")
            self._reload(keep_message=True)

        self.session.run(RetirePeerKey(key.key_id), retired, self.status.error, parent=self)


class BundleDialog(QDialog):
    """One bundle's particulars (its manifest summary and why it was refused); read only."""

    def __init__(self, detail: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("同步包详情")
        self.resize(*SYNC_BUNDLE_DIALOG)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for label, text in bundle_lines(detail):
            value = QLabel(text)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{label}：", value)
            self.values[label] = value
        layout.addLayout(form)
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        guard_enter(self)


class PeerKeyDialog(QDialog):
    """登记外网门户公钥: the base64 text the portal's administrator sent."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("登记外网门户公钥")
        self.resize(*SYNC_KEY_DIALOG)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel("粘贴外网门户提供的 Ed25519 公钥（标准 Base64，44 个字符）：", wordWrap=True)
        )
        self.key = QLineEdit(objectName="peerKeyField")
        self.key.setPlaceholderText("例如 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
        layout.addWidget(self.key)
        layout.addStretch(1)
        layout.addWidget(ok_cancel(self, "登记", self._submit))

    def _submit(self) -> None:
        text = self.key.text().strip()
        if text:
            self.submitted.emit(text)
            self.accept()


class StuckRejectDialog(QDialog):
    """退回该记录: the reason the portal will read (required); Enter never submits."""

    submitted = Signal(str)

    def __init__(self, seq: int, type_: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("退回外网记录")
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                f"外网记录（序号 {seq}，类型 {type_}）无法在内网应用。"
                "请填写退回原因（将随退回通知发往外网门户）：",
                wordWrap=True,
            )
        )
        self.reason = QPlainTextEdit(objectName="stuckReason")
        self.reason.setTabChangesFocus(True)
        layout.addWidget(self.reason)
        self.error = QLabel(objectName="errorLabel")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self, "下一步", self._submit, destructive=True))

    def value(self) -> str:
        return self.reason.toPlainText().strip()[:500]

    def _submit(self) -> None:
        if len(self.value()) < 2:
            self.error.setText("请填写退回原因（至少 2 个字）")
            return
        self.accept()
        self.submitted.emit(self.value())
