from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PlaceholderPage(QWidget):
    """An honest page for a screen that is not built yet."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.setObjectName("placeholderPage")
        layout = QVBoxLayout(self)
        heading = QLabel(title, objectName="pageTitle")
        note = QLabel(f"“{title}”功能尚未开放，将在后续版本中提供。")
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        note.setObjectName("placeholderNote")
        layout.addWidget(heading)
        layout.addStretch(1)
        layout.addWidget(note)
        layout.addStretch(2)
