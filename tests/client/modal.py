"""Drive a modal dialog that a widget opens with ``exec()``: act on it once it is up."""

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def when_modal(kind: type, action: Callable[[Any], None], *, tries: int = 200) -> None:
    def poll(left: int) -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, kind):
            action(dialog)
        elif left > 0:
            QTimer.singleShot(25, lambda: poll(left - 1))

    QTimer.singleShot(25, lambda: poll(tries))
