"""保安员证 preview: front and back side by side, drawn by the same painter as the printed card
(vector, sharp at any screen scaling), sized for a 1366 × 768 screen."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from client.qt.card_painter import paint_side
from client.views import style
from client.views.widgets import guard_enter
from shared.card_layout import CARD_HEIGHT_MM, CARD_WIDTH_MM, CardFace

SIDE_TITLES = {"front": "正面", "back": "背面"}


class CardSideView(QWidget):
    """One side of the card at ``style.CARD_PREVIEW_WIDTH`` pixels across."""

    def __init__(self, face: CardFace, side: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.face = face
        self.side = side
        self.setAccessibleName(f"保安员证{SIDE_TITLES[side]}")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        width = style.CARD_PREVIEW_WIDTH
        return QSize(width, round(width * CARD_HEIGHT_MM / CARD_WIDTH_MM))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return self.sizeHint()

    def set_face(self, face: CardFace) -> None:
        self.face = face
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        try:
            paint_side(painter, self.side, self.face, scale=self.width() / CARD_WIDTH_MM)
        finally:
            painter.end()


class CardPreviewDialog(QDialog):
    def __init__(self, face: CardFace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"保安员证预览 — {face.name}")
        sides = QHBoxLayout()
        sides.setSpacing(style.CARD_PREVIEW_GAP)
        self.views: dict[str, CardSideView] = {}
        for side, title in SIDE_TITLES.items():
            column = QVBoxLayout()
            column.addWidget(QLabel(title))
            view = CardSideView(face, side)
            self.views[side] = view
            column.addWidget(view, alignment=Qt.AlignmentFlag.AlignTop)
            sides.addLayout(column)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        guard_enter(self)  # a stray Enter leaves the preview open, as in every dialog (Esc closes)
        layout = QVBoxLayout(self)
        layout.addLayout(sides)
        if face.photo is None:
            layout.addWidget(QLabel("该证件没有照片：可以预览，不能打印。"))
        layout.addWidget(buttons)
