"""An organisation tree widget shared by the system-management pages."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from client.models.org_tree import OrgTree
from client.views.style import MUTED, ORG_TREE_NAME_WIDTH, colour
from shared.schemas.orgs import OrgPublic


class OrgTreeWidget(QTreeWidget):
    def __init__(self, *, with_codes: bool = False) -> None:
        super().__init__()
        self.with_codes = with_codes
        self.data_tree = OrgTree()
        self.items: dict[int, QTreeWidgetItem] = {}
        if with_codes:
            self.setHeaderLabels(["机构名称", "区划代码"])
            self.setColumnWidth(0, ORG_TREE_NAME_WIDTH)
        else:
            self.setHeaderHidden(True)

    def fill(self, orgs: list[OrgPublic], select_id: int | None = None) -> None:
        self.data_tree = OrgTree.build(orgs)
        self.clear()
        self.items = {}

        def add(org: OrgPublic, parent: QTreeWidgetItem | None) -> None:
            item = QTreeWidgetItem([org.name, org.region_code] if self.with_codes else [org.name])
            item.setData(0, Qt.ItemDataRole.UserRole, org.id)
            if not org.editable:
                item.setForeground(0, colour(MUTED))
            self.items[org.id] = item
            if parent is None:
                self.addTopLevelItem(item)
            else:
                parent.addChild(item)
            for child in self.data_tree.kids(org.id):
                add(child, item)

        for root in self.data_tree.roots():
            add(root, None)
        for i in range(self.topLevelItemCount()):
            self.topLevelItem(i).setExpanded(True)
        target = self.items.get(select_id) if select_id else self.topLevelItem(0)
        if target is not None:
            self.setCurrentItem(target)

    def current_org(self) -> OrgPublic | None:
        item = self.currentItem()
        org_id = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        return self.data_tree.by_id.get(org_id) if org_id else None

    def select(self, org_id: int) -> None:
        if org_id in self.items:
            self.setCurrentItem(self.items[org_id])
