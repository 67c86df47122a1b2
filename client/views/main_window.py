"""The main window: the manuals' menu on the left (only what the user may open), pages on the
right, the user's organisation and name in the top bar."""

import socket
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.jobs.api_jobs import SignOut
from client.models.inbox_badge import InboxBadge
from client.models.menu import MenuEntry, visible_menu
from client.session import Session
from client.views.bell import BellButton
from client.views.change_password import ChangePasswordDialog
from client.views.placeholder import PlaceholderPage
from client.views.style import BUSY_BAR_WIDTH, MAIN_SPLIT, MAIN_WINDOW

PageFactory = Callable[[Session], QWidget]
INBOX_KEY = "applications"  # 待办事项 / 通用审批


class MainWindow(QMainWindow):
    signed_out = Signal()

    def __init__(self, session: Session, pages: dict[str, PageFactory] | None = None) -> None:
        super().__init__()
        assert session.me is not None
        self.session = session
        self.me = session.me
        self.page_factories = pages or {}
        self.pages: dict[str, QWidget] = {}
        self.setWindowTitle("保安服务监管信息系统")
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._top_bar())
        splitter = QSplitter()
        self.nav = QTreeWidget(objectName="navTree")
        self.nav.setHeaderHidden(True)
        self.stack = QStackedWidget()
        splitter.addWidget(self.nav)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes(list(MAIN_SPLIT))
        outer.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self._fill_menu()
        self.nav.currentItemChanged.connect(self._open_item)
        QShortcut(QKeySequence("Ctrl+L"), self, activated=self.nav.setFocus)
        self._busy_indicator()
        geometry = session.prefs.geometry("main")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*MAIN_WINDOW)

    def _busy_indicator(self) -> None:
        """An indeterminate bar and a cancel button in the status bar while any job runs."""
        self.busy = QProgressBar(objectName="busyBar")
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(BUSY_BAR_WIDTH)
        self.cancel = QPushButton("取消", objectName="cancelJobs")
        self.cancel.clicked.connect(self.session.runner.cancel_all)
        for widget in (self.busy, self.cancel):
            widget.setVisible(False)
            self.statusBar().addPermanentWidget(widget)
        self.session.runner.busy_changed.connect(self._set_busy)

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.cancel.setVisible(busy)
        self.statusBar().showMessage("正在处理…" if busy else "")

    def _top_bar(self) -> QWidget:
        bar = QWidget(objectName="topBar")
        layout = QHBoxLayout(bar)
        layout.addWidget(QLabel("保安服务监管信息系统", objectName="brandLabel"))
        layout.addStretch(1)
        self.badge: InboxBadge | None = None
        if INBOX_KEY + ":view" in self.me.permissions:
            # a poll that finds the session ended stays quiet: the next real request asks
            self.badge = InboxBadge(partial(self.session.run, reauth=False))
            self.bell = BellButton(self.badge, parent=self)
            self.bell.open_inbox.connect(lambda: self.select_page(INBOX_KEY))
            layout.addWidget(self.bell)
            self.bell.start()
        self.user_label = QLabel(f"{self.me.org_name}　{self.me.name}", objectName="userLabel")
        layout.addWidget(self.user_label)
        devices = QPushButton("设备设置", objectName="deviceSettingsButton")
        devices.setToolTip("本工作站的指纹采集仪和证卡打印机")
        devices.clicked.connect(self.device_settings)
        layout.addWidget(devices)
        change = QPushButton("修改密码", objectName="changePasswordButton")
        change.clicked.connect(self.change_password)
        sign_out = QPushButton("退出", objectName="signOutButton")
        sign_out.clicked.connect(self.sign_out)
        layout.addWidget(change)
        layout.addWidget(sign_out)
        return bar

    def _fill_menu(self) -> None:
        self.entries: dict[str, MenuEntry] = {}
        for group in visible_menu(frozenset(self.me.permissions)):
            parent = QTreeWidgetItem([group.label])
            parent.setFlags(parent.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            for entry in group.entries:
                item = QTreeWidgetItem([entry.label])
                item.setToolTip(0, entry.label)
                item.setData(0, Qt.ItemDataRole.UserRole, entry.key)
                parent.addChild(item)
                self.entries[entry.key] = entry
            self.nav.addTopLevelItem(parent)
        self.nav.expandAll()
        if not self.entries:
            self.stack.addWidget(QLabel("您的账号尚未分配任何功能权限，请联系系统管理员。"))

    def menu_labels(self) -> list[str]:
        """Visible group and entry labels, top to bottom (for tests and screenshots)."""
        labels = []
        for i in range(self.nav.topLevelItemCount()):
            group = self.nav.topLevelItem(i)
            labels.append(group.text(0))
            labels.extend(group.child(j).text(0) for j in range(group.childCount()))
        return labels

    def open_page(self, key: str) -> QWidget:
        if key not in self.pages:
            entry = self.entries[key]
            factory = self.page_factories.get(key)
            page = factory(self.session) if factory else PlaceholderPage(entry.label)
            changed = getattr(page, "changed", None)
            if changed is not None and self.badge is not None:
                changed.connect(self.badge.refresh)  # an approval changes the bell's count
            self.pages[key] = page
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(self.pages[key])
        return self.pages[key]

    def open_start_page(self) -> None:
        """What a clerk signs in for: 通用审批 when the account has it, else the first page of
        the menu, selected in the tree with the keyboard's focus on it (not on the bell)."""
        if not self.entries:
            return
        key = INBOX_KEY if INBOX_KEY in self.entries else next(iter(self.entries))
        self.select_page(key)
        self.pages[key].setFocus()

    def select_page(self, key: str) -> None:
        """Open ``key`` through the menu so the tree's selection follows."""
        for i in range(self.nav.topLevelItemCount()):
            group = self.nav.topLevelItem(i)
            for j in range(group.childCount()):
                if group.child(j).data(0, Qt.ItemDataRole.UserRole) == key:
                    self.nav.setCurrentItem(group.child(j))
                    return

    def _open_item(self, item: QTreeWidgetItem | None) -> None:
        key = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        if key:
            self.open_page(str(key))

    def device_settings(self) -> None:
        from client.views.devices.settings_dialog import DeviceSettingsDialog  # loads drivers

        dialog = DeviceSettingsDialog(
            self.session.prefs.qsettings,
            self.session.runner,
            workstation=socket.gethostname(),
            parent=self,
        )
        dialog.exec()

    def change_password(self) -> None:
        dialog = ChangePasswordDialog(self.session, self.me.username, parent=self)
        if dialog.exec():
            QMessageBox.information(self, "修改密码", "密码已修改，请使用新密码重新登录。")
            self._end_session()

    def sign_out(self) -> None:
        self.session.run(SignOut(), reauth=False)
        self._end_session()

    def _end_session(self) -> None:
        prefs = self.session.prefs
        prefs.forget_token(self.session.api.base_url, self.me.username)
        self.session.me = None
        self.signed_out.emit()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.badge is not None:
            self.bell.stop()
        self.session.prefs.set_geometry("main", self.saveGeometry())
        super().closeEvent(event)
