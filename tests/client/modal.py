"""Drive a modal dialog that a widget opens with ``exec()``: act on it once it is up."""

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


def when_modal(kind: type, action: Callable[[Any], None], *, tries: int = 200) -> None:
    def poll(left: int) -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, kind):
            action(dialog)
        elif left > 0:
            QTimer.singleShot(25, lambda: poll(left - 1))

    QTimer.singleShot(25, lambda: poll(tries))


def agree_to_confirmations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``confirm`` box answers with its action button (not 取消, its default)."""

    def press_action(box: QMessageBox) -> int:
        action = next(
            b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole
        )
        action.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", press_action)
