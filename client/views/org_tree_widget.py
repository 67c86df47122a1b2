"""An organisation tree widget shared by the system-management pages, with a search box
(``panel()`` lays the box out above the tree): typing filters by name or region code and shows
the matches with their ancestors, expanded; Enter selects the first match, then the next; Esc
clears the search and shows the whole tree again. The rule and the matches are
``client.models.org_tree.OrgSearch``'s."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QVBoxLayout,
    QWidget,
)

from client.models.org_tree import OrgSearch, OrgTree
from client.views.style import MUTED, ORG_TREE_NAME_WIDTH, colour
from shared.schemas.orgs import OrgPublic


class OrgTreeWidget(QTreeWidget):
    def __init__(self, *, with_codes: bool = False) -> None:
        super().__init__()
        self.with_codes = with_codes
        self.data_tree = OrgTree()
        self.items: dict[int, QTreeWidgetItem] = {}
        self.finder = OrgSearch()
        if with_codes:
            self.setHeaderLabels(["机构名称", "区划代码"])
            self.setColumnWidth(0, ORG_TREE_NAME_WIDTH)
        else:
            self.setHeaderHidden(True)
        self.search_box = QLineEdit(objectName="orgSearch")
        self.search_box.setPlaceholderText("搜索机构名称或区划代码")
        self.search_box.setToolTip("回车：选中下一个匹配的机构；Esc：清除")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.textChanged.connect(self._filter)
        self.search_box.returnPressed.connect(self.select_next_match)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.search_box, self.search_box.clear)
        escape.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.search_note = QLabel(objectName="orgSearchNote")

    def panel(self) -> QWidget:
        """The search box, what it found, and the tree, for a page's layout."""
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search_box)
        layout.addWidget(self.search_note)
        layout.addWidget(self, 1)
        self.search_note.hide()
        return panel

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
        if self.finder.query:  # a reload keeps the search the clerk typed
            self._filter(self.finder.query)

    def current_org(self) -> OrgPublic | None:
        item = self.currentItem()
        org_id = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        return self.data_tree.by_id.get(org_id) if org_id else None

    def select(self, org_id: int) -> None:
        if org_id in self.items:
            self.setCurrentItem(self.items[org_id])

    # -- search ------------------------------------------------------------------------------
    def _filter(self, text: str) -> None:
        self.finder.set_query(text, self.data_tree)
        shown = self.finder.shown
        matches = set(self.finder.matches)
        iterator = QTreeWidgetItemIterator(self)
        while item := iterator.value():
            org_id = item.data(0, Qt.ItemDataRole.UserRole)
            font = item.font(0)
            font.setBold(org_id in matches)
            item.setFont(0, font)
            if shown is None:  # the whole tree again, as it opens
                item.setHidden(False)
                item.setExpanded(item.parent() is None)
            else:
                item.setHidden(org_id not in shown)
                item.setExpanded(org_id in shown)  # a match's children stay hidden
            iterator += 1
        current = self.currentItem()
        if current is not None and not current.isHidden():
            self.scrollToItem(current)
        self._note()

    def select_next_match(self) -> None:
        """Enter in the search box: the first match, then the next, round again."""
        org_id = self.finder.next_match()
        if org_id is not None and org_id in self.items:
            self.setCurrentItem(self.items[org_id])
            self.scrollToItem(self.items[org_id])
        self._note()

    def _note(self) -> None:
        note = self.finder.summary()
        self.search_note.setText(note)
        self.search_note.setVisible(bool(note) and self.search_note.parent() is not None)
