from PySide6.QtWidgets import QLabel

from client.api import ApiError


class StatusLabel(QLabel):
    """A page's status line: neutral for progress, red for a refusal the clerk must read."""

    def __init__(self) -> None:
        super().__init__(objectName="statusLabel")
        self.setWordWrap(True)

    def info(self, text: str = "") -> None:
        self.setStyleSheet("")
        self.setText(text)

    def error(self, err: ApiError | str) -> None:
        self.setStyleSheet("color: #c62828;")
        self.setText(err.message if isinstance(err, ApiError) else err)
