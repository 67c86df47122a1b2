"""申请材料: the list of materials on the left, the selected one on the right, page by page, with
zoom (buttons, Ctrl+wheel, Ctrl +/-) and rotation. Files are fetched and rendered off the UI
thread; a page already seen is kept for the life of the dialog.

A page opens fitted to the width of the view (an A4 page fitted whole in a wide, short window is
unreadably small) and stays fitted as the window is resized, until the clerk zooms."""

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QImage,
    QKeySequence,
    QPixmap,
    QResizeEvent,
    QShortcut,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from client.api import ApiError
from client.formatting import local_time
from client.jobs.job import Runs
from client.jobs.local_jobs import LoadMaterialPages
from shared.schemas.materials import MaterialPublic


class PageView(QGraphicsView):
    """A page image that zooms with Ctrl+wheel and rotates in quarter turns."""

    def __init__(self) -> None:
        super().__init__()
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.zoom = 1.0
        self.rotation = 0
        self.fitting: str | None = "width"  # "width", "page", or None once zoomed by hand
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)

    def show_image(self, image: QImage | None) -> None:
        self.item.setPixmap(QPixmap.fromImage(image) if image is not None else QPixmap())
        self.scene().setSceneRect(self.item.boundingRect())
        self._refit()

    def zoom_by(self, factor: float) -> None:
        self.fitting = None
        self.zoom = min(8.0, max(0.1, self.zoom * factor))
        self._apply()

    def rotate_by(self, degrees: int) -> None:
        self.rotation = (self.rotation + degrees) % 360
        self._refit()

    def fit(self) -> None:
        """The whole page in the view (适合页面)."""
        self.fitting = "page"
        self._refit()

    def fit_width(self) -> None:
        """The page as wide as the view, scrolled to its top (适合宽度, the default)."""
        self.fitting = "width"
        self._refit()

    def _page_size(self) -> tuple[float, float] | None:
        rect = self.item.boundingRect()
        if rect.isEmpty():
            return None
        turned = self.rotation in (90, 270)
        return (rect.height(), rect.width()) if turned else (rect.width(), rect.height())

    def _refit(self) -> None:
        size = self._page_size()
        if self.fitting is None or size is None:
            self._apply()
            return
        width, height = size
        view = self.viewport().size()
        if self.fitting == "page":
            self.zoom = min(view.width() / width, view.height() / height) * 0.98
        else:  # leave room for the vertical scroll bar the zoomed page will need
            room = view.width() - self.verticalScrollBar().sizeHint().width()
            self.zoom = max(0.1, room / width)
        self._apply()
        self.verticalScrollBar().setValue(self.verticalScrollBar().minimum())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._refit()  # loaded while its tab was hidden, or the window resized

    def _apply(self) -> None:
        self.setTransform(QTransform().rotate(self.rotation).scale(self.zoom, self.zoom))

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)
        else:
            super().wheelEvent(event)


class MaterialsViewer(QWidget):
    def __init__(self, run: Runs) -> None:
        super().__init__()
        self.run = run
        self.pages: dict[int, list[QImage]] = {}
        self.current: MaterialPublic | None = None
        self.page = 0
        splitter = QSplitter()
        self.list = QListWidget()
        self.list.setAccessibleName("材料列表")
        self.list.currentItemChanged.connect(self._selected)
        splitter.addWidget(self.list)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        self.view = PageView()
        bar = QHBoxLayout()
        self.prev = QPushButton("上一页")
        self.next = QPushButton("下一页")
        self.page_label = QLabel()
        buttons: list[tuple[str, Callable[[], None]]] = [
            ("放大", lambda: self.view.zoom_by(1.25)),
            ("缩小", lambda: self.view.zoom_by(0.8)),
            ("适合宽度", self.view.fit_width),
            ("适合页面", self.view.fit),
            ("向左旋转", lambda: self.view.rotate_by(-90)),
            ("向右旋转", lambda: self.view.rotate_by(90)),
        ]
        self.prev.clicked.connect(lambda: self._turn(-1))
        self.next.clicked.connect(lambda: self._turn(1))
        for widget in (self.prev, self.page_label, self.next):
            bar.addWidget(widget)
        bar.addStretch(1)
        for text, action in buttons:
            button = QPushButton(text)
            button.clicked.connect(action)
            bar.addWidget(button)
        column.addLayout(bar)
        column.addWidget(self.view, 1)
        self.note = QLabel(objectName="placeholderNote")
        self.note.setWordWrap(True)
        column.addWidget(self.note)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        QShortcut(QKeySequence.StandardKey.ZoomIn, self, activated=lambda: self.view.zoom_by(1.25))
        QShortcut(QKeySequence.StandardKey.ZoomOut, self, activated=lambda: self.view.zoom_by(0.8))
        QShortcut(QKeySequence(Qt.Key.Key_PageDown), self, activated=lambda: self._turn(1))
        QShortcut(QKeySequence(Qt.Key.Key_PageUp), self, activated=lambda: self._turn(-1))
        self._update_pager()

    def set_materials(self, materials: list[MaterialPublic]) -> None:
        self.list.clear()
        for material in materials:
            item = QListWidgetItem(f"{material.title}\n{material.filename} · 第{material.round}轮")
            item.setToolTip(f"上传：{material.uploaded_by} {local_time(material.uploaded_at)}")
            item.setData(Qt.ItemDataRole.UserRole, material)
            self.list.addItem(item)
        if materials:
            self.list.setCurrentRow(0)
        else:
            self.note.setText("本申请没有上传材料")

    def _selected(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        material: MaterialPublic = item.data(Qt.ItemDataRole.UserRole)
        self.current, self.page = material, 0
        self.view.fit_width()  # each material opens fitted to the width
        if material.id in self.pages:
            self._show()
            return
        self.view.show_image(None)
        self.note.setText("正在加载材料…")

        def done(pages: list[QImage]) -> None:
            self.pages[material.id] = pages
            if self.current is not None and self.current.id == material.id:
                self._show()

        def failed(err: ApiError) -> None:
            self.note.setText(err.message)

        self.run(LoadMaterialPages(material.id, material.media_type), done, failed)

    def _show(self) -> None:
        assert self.current is not None
        pages = self.pages[self.current.id]
        self.view.show_image(pages[self.page] if pages else None)  # fitted as the clerk chose
        self.note.setText("")
        self._update_pager()

    def _turn(self, step: int) -> None:
        if self.current is None or self.current.id not in self.pages:
            return
        target = self.page + step
        if 0 <= target < len(self.pages[self.current.id]):
            self.page = target
            self._show()

    @property
    def page_count(self) -> int:
        if self.current is None:
            return 0
        return len(self.pages.get(self.current.id, []))

    def _update_pager(self) -> None:
        count = self.page_count
        self.page_label.setText(f"第 {self.page + 1}/{count} 页" if count else "")
        self.prev.setEnabled(self.page > 0)
        self.next.setEnabled(self.page + 1 < count)
