from PySide6.QtWidgets import QLabel

from client.api import ApiError
from client.views.style import set_state


class StatusLabel(QLabel):
    """A page's status line: neutral for progress, red for a refusal the clerk must read."""

    def __init__(self) -> None:
        super().__init__(objectName="statusLabel")
        self.setWordWrap(True)

    def info(self, text: str = "") -> None:
        set_state(self, "error", False)
        self.setText(text)

    def error(self, err: ApiError | str) -> None:
        set_state(self, "error", True)  # red (QSS)
        self.setText(err.message if isinstance(err, ApiError) else err)
