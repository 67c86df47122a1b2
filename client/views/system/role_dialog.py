"""新增/编辑角色 in the three parts of seed 001 §2.2: 角色概况, 操作权限, 数据范围."""

from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QScrollArea,
    QTabWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QVBoxLayout,
    QWidget,
)

from client.models.permission_matrix import PermissionMatrix
from client.views.org_tree_widget import OrgTreeWidget
from client.views.style import ROLE_DIALOG
from client.views.widgets import ok_cancel
from shared import validation
from shared.enums import DataScopeKind
from shared.schemas.orgs import OrgPublic
from shared.schemas.roles import DataScope, PermissionCatalogue, RoleCreate, RolePublic, RoleUpdate


class RoleDialog(QDialog):
    def __init__(
        self,
        org: OrgPublic,
        catalogue: PermissionCatalogue,
        orgs: list[OrgPublic],
        role: RolePublic | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.org, self.role = org, role
        self.setWindowTitle("编辑角色" if role else "新增角色")
        self.resize(*ROLE_DIALOG)
        outer = QVBoxLayout(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._overview(), "角色概况")
        self.matrix = PermissionMatrix(catalogue, role.permissions if role else [])
        self.tabs.addTab(self._permissions(), "操作权限")
        self.tabs.addTab(self._scope(orgs), "数据范围")
        outer.addWidget(self.tabs, 1)
        self.error = QLabel(objectName="errorLabel")
        outer.addWidget(self.error)
        buttons = ok_cancel(self, "保存", self._check_and_accept)
        outer.addWidget(buttons)

    def _overview(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.name = QLineEdit(self.role.name if self.role else "", objectName="roleName")
        self.name.setPlaceholderText("职位名称，例如：民警")
        self.description = QLineEdit(self.role.description or "" if self.role else "")
        form.addRow("所属机构", QLabel(self.org.name))
        form.addRow("* 角色名称", self.name)
        form.addRow("说明", self.description)
        return page

    def _permissions(self) -> QWidget:
        inner = QWidget()
        grid = QGridLayout(inner)
        self.everything = QCheckBox("全部全选", objectName="allPermissions")
        self.everything.clicked.connect(self.matrix.set_everything)
        grid.addWidget(self.everything, 0, 0, 1, 3)
        self.module_boxes: dict[str, QCheckBox] = {}
        self.action_boxes: dict[str, QCheckBox] = {}
        row = 1
        group = None
        for module in self.matrix.catalogue.modules:
            if module.group != group:
                group = module.group
                heading = QLabel(group, objectName="matrixGroup")
                grid.addWidget(heading, row, 0)
                row += 1
            grid.addWidget(QLabel(module.label), row, 0)
            whole = QCheckBox("全选")
            whole.clicked.connect(lambda on, key=module.key: self.matrix.set_module(key, on))
            grid.addWidget(whole, row, 1)
            self.module_boxes[module.key] = whole
            for col, action in enumerate(module.actions, start=2):
                permission = f"{module.key}:{action.key}"
                box = QCheckBox(action.label)
                box.clicked.connect(lambda on, p=permission: self.matrix.set(p, on))
                grid.addWidget(box, row, col)
                self.action_boxes[permission] = box
            row += 1
        self.matrix.changed.connect(self._sync_matrix)
        self._sync_matrix()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        return scroll

    def _sync_matrix(self) -> None:
        for permission, box in self.action_boxes.items():
            box.setChecked(permission in self.matrix.selected)
        for key, box in self.module_boxes.items():
            box.setChecked(self.matrix.module_full(key))
        self.everything.setChecked(self.matrix.everything())

    def _scope(self, orgs: list[OrgPublic]) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.scope_buttons = QButtonGroup(self)
        current = self.role.data_scope if self.role else DataScope(kind=DataScopeKind.own_org)
        self.scope_radios: dict[DataScopeKind, QRadioButton] = {}
        for kind in DataScopeKind:
            radio = QRadioButton(kind.label)
            radio.setChecked(kind == current.kind)
            self.scope_buttons.addButton(radio)
            layout.addWidget(radio)
            self.scope_radios[kind] = radio
        layout.addWidget(QLabel("指定机构（选择“指定机构数据”时勾选）："))
        self.scope_tree = OrgTreeWidget()
        self.scope_tree.fill(orgs)
        chosen = set(current.org_ids)
        iterator = QTreeWidgetItemIterator(self.scope_tree)
        while iterator.value():
            item: QTreeWidgetItem = iterator.value()
            org_id = item.data(0, Qt.ItemDataRole.UserRole)
            item.setCheckState(
                0, Qt.CheckState.Checked if org_id in chosen else Qt.CheckState.Unchecked
            )
            iterator += 1
        layout.addWidget(self.scope_tree, 1)
        return page

    def data_scope(self) -> DataScope:
        kind = next(k for k, r in self.scope_radios.items() if r.isChecked())
        ids = []
        iterator = QTreeWidgetItemIterator(self.scope_tree)
        while iterator.value():
            item = iterator.value()
            if item.checkState(0) == Qt.CheckState.Checked:
                ids.append(int(item.data(0, Qt.ItemDataRole.UserRole)))
            iterator += 1
        return DataScope(kind=kind, org_ids=ids if kind == DataScopeKind.orgs else [])

    def _check_and_accept(self) -> None:
        if not self.name.text().strip():
            self.error.setText("请填写角色名称")
            self.tabs.setCurrentIndex(0)
            return
        try:
            self.data_scope()
        except ValueError:
            self.error.setText("数据范围为指定机构时须至少勾选一个机构")
            self.tabs.setCurrentIndex(2)
            return
        try:  # the server's own schemas, so what they refuse is said here
            self.create_body() if self.role is None else self.update_body()
        except ValidationError as err:
            self.error.setText(validation.summary(err.errors(), {"name": "角色名称"}))
            self.tabs.setCurrentIndex(0)
            return
        self.accept()

    def create_body(self) -> RoleCreate:
        return RoleCreate(
            name=self.name.text().strip(),
            org_id=self.org.id,
            description=self.description.text().strip() or None,
            permissions=self.matrix.result(),
            data_scope=self.data_scope(),
        )

    def update_body(self) -> RoleUpdate:
        assert self.role is not None
        return RoleUpdate(
            name=self.name.text().strip(),
            description=self.description.text().strip() or None,
            permissions=self.matrix.result(),
            data_scope=self.data_scope(),
            version=self.role.version,
        )
