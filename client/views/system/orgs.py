"""机构管理: the organisation tree on the left, details on the right; add a child under the
selected node, edit, delete with confirmation. Nodes the user may not edit stay read-only."""

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from client.jobs.api_jobs import CreateOrg, DeleteOrg, LoadOrgs, UpdateOrg
from client.models.org_tree import OrgTree, child_types, region_choices
from client.session import Session
from client.views.org_tree_widget import OrgTreeWidget
from client.views.status import StatusLabel
from client.views.style import ORG_SPLIT
from client.views.widgets import confirm
from shared import validation
from shared.enums import OrgType
from shared.schemas.orgs import OrgCreate, OrgPublic, OrgUpdate


class OrgPage(QWidget):
    loaded = Signal()
    saved = Signal(object)
    deleted = Signal(int)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        permissions = set(session.me.permissions) if session.me else set()
        self.can_create = "orgs:create" in permissions
        self.can_delete = "orgs:delete" in permissions
        self.tree_data = OrgTree()
        self.current: OrgPublic | None = None
        self.adding_under: OrgPublic | None = None

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("机构管理", objectName="pageTitle"))
        splitter = QSplitter()
        self.tree = OrgTreeWidget(with_codes=True)
        self.tree.setObjectName("orgTree")
        self.tree.currentItemChanged.connect(self._select)
        splitter.addWidget(self.tree.panel())
        splitter.addWidget(self._detail_panel())
        splitter.setSizes(list(ORG_SPLIT))
        layout.addWidget(splitter, 1)
        self.status = StatusLabel()
        layout.addWidget(self.status)
        self._show(None)
        self.reload()
        QShortcut(QKeySequence.StandardKey.Refresh, self, activated=self.reload)
        QShortcut(
            QKeySequence.StandardKey.Delete,
            self.tree,
            activated=self.delete,
            context=Qt.ShortcutContext.WidgetShortcut,
        )

    def _detail_panel(self) -> QWidget:
        panel = QWidget()
        form = QFormLayout(panel)
        self.parent_label = QLabel()
        self.name = QLineEdit(objectName="orgName")
        self.type = QComboBox(objectName="orgType")
        self.region = QComboBox(objectName="orgRegion")
        self.region.setEditable(True)
        self.region.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.phone = QLineEdit(objectName="orgPhone")
        self.address = QLineEdit(objectName="orgAddress")
        form.addRow("上级机构", self.parent_label)
        form.addRow("* 机构名称", self.name)
        form.addRow("* 机构类型", self.type)
        form.addRow("* 所属区域", self.region)
        form.addRow("联系电话", self.phone)
        form.addRow("单位地址", self.address)
        self.type.currentIndexChanged.connect(self._refresh_regions)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("新增下级机构", objectName="addOrgButton")
        self.save_button = QPushButton("保存", objectName="saveOrgButton")
        self.delete_button = QPushButton("删除", objectName="deleteOrgButton")
        self.add_button.clicked.connect(self.start_add)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        for button in (self.add_button, self.save_button, self.delete_button):
            buttons.addWidget(button)
        form.addRow(buttons)
        return panel

    # -- loading ---------------------------------------------------------------------------
    def reload(self, select_id: int | None = None) -> None:
        self.status.info("正在加载机构…")
        self.session.run(
            LoadOrgs(), lambda orgs: self._fill(orgs, select_id), self.status.error, parent=self
        )

    def _fill(self, orgs: list[OrgPublic], select_id: int | None) -> None:
        self.tree.fill(orgs, select_id)
        self.tree_data = self.tree.data_tree
        self._show(self.tree.current_org())
        self.status.info(f"共 {len(orgs)} 个机构")
        self.loaded.emit()

    def _select(self, _item: object) -> None:
        self.adding_under = None
        self._show(self.tree.current_org())

    # -- form ------------------------------------------------------------------------------
    def _set_types(self, types: list[OrgType], selected: OrgType | None) -> None:
        self.type.blockSignals(True)
        self.type.clear()
        for org_type in types:
            self.type.addItem(org_type.label, org_type)
        if selected is not None:
            self.type.setCurrentIndex(max(0, self.type.findData(selected)))
        self.type.blockSignals(False)

    def _refresh_regions(self, *, selected: str | None = None) -> None:
        parent = self.adding_under or (
            self.tree_data.by_id.get(self.current.parent_id or -1) if self.current else None
        )
        org_type = self.type.currentData()
        self.region.clear()
        if org_type is None:
            return
        scope = (
            parent.region_code if parent else (self.current.region_code if self.current else None)
        )
        if scope is None:
            return
        for code, name in region_choices(scope, org_type):
            self.region.addItem(f"{code} {name}", code)
        if selected:
            self.region.setCurrentIndex(max(0, self.region.findData(selected)))

    def _show(self, org: OrgPublic | None) -> None:
        self.current = org
        editable = bool(org and org.editable)
        parent = self.tree_data.by_id.get(org.parent_id) if org and org.parent_id else None
        self.parent_label.setText(parent.name if parent else "（无）")
        self.name.setText(org.name if org else "")
        self.phone.setText(org.phone or "" if org else "")
        self.address.setText(org.address or "" if org else "")
        types = child_types(OrgType(parent.type)) if parent else list(OrgType)
        self._set_types(types, OrgType(org.type) if org else None)
        self._refresh_regions(selected=org.region_code if org else None)
        for field in (self.name, self.phone, self.address, self.type, self.region):
            field.setEnabled(editable)
        self.save_button.setEnabled(editable)
        self.add_button.setEnabled(bool(org) and self.can_create and editable)
        self.delete_button.setEnabled(editable and self.can_delete and bool(org and org.parent_id))

    def start_add(self) -> None:
        if self.current is None:
            return
        self.adding_under = self.current
        self.parent_label.setText(self.current.name)
        for field in (self.name, self.phone, self.address):
            field.clear()
            field.setEnabled(True)
        self._set_types(child_types(OrgType(self.current.type)), None)
        self.type.setEnabled(True)
        self.region.setEnabled(True)
        self._refresh_regions()
        self.save_button.setEnabled(True)
        self.delete_button.setEnabled(False)
        self.name.setFocus()
        self.status.info(f"在“{self.current.name}”下新增机构，填写后点击保存")

    def save(self) -> None:
        region = self.region.currentData()
        fields = {
            "name": self.name.text().strip(),
            "type": self.type.currentData(),
            "region_code": region,
            "phone": self.phone.text().strip() or None,
            "address": self.address.text().strip() or None,
        }
        if not fields["name"] or region is None:
            self.status.error("请填写机构名称并选择所属区域")
            return
        try:  # the server's own schemas: what they refuse is said here, before sending
            if self.adding_under is not None:
                data = OrgCreate(parent_id=self.adding_under.id, **fields)
                self.session.run(CreateOrg(data), self._saved, self.status.error, parent=self)
            elif self.current is not None:
                update = OrgUpdate(version=self.current.version, **fields)
                job = UpdateOrg(self.current.id, update)
                self.session.run(job, self._saved, self.status.error, parent=self)
        except ValidationError as err:
            self.status.error(validation.summary(err.errors(), {"name": "机构名称"}))

    def _saved(self, org: OrgPublic) -> None:
        self.adding_under = None
        self.saved.emit(org)
        self.reload(select_id=org.id)

    def delete(self) -> None:
        org = self.current
        if org is None:
            return
        if not confirm(self, "删除机构", f"确定删除“{org.name}”？此操作不可撤销。", "删除"):
            return
        self.session.run(
            DeleteOrg(org.id, org.version),
            lambda _none: self._deleted(org),
            self.status.error,
            parent=self,
        )

    def _deleted(self, org: OrgPublic) -> None:
        self.deleted.emit(org.id)
        self.reload(select_id=org.parent_id)
