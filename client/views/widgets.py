"""Small pieces every dialog and page uses the same way."""

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QWidget

_OK, _CANCEL = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel


def ok_cancel(dialog: QDialog, ok_text: str, on_ok: Callable[[], None]) -> QDialogButtonBox:
    """确定/保存 and 取消 in Chinese; Cancel rejects the dialog, OK calls ``on_ok``."""
    buttons = QDialogButtonBox(_OK | _CANCEL)
    buttons.button(_OK).setText(ok_text)
    buttons.button(_CANCEL).setText("取消")
    buttons.accepted.connect(on_ok)
    buttons.rejected.connect(dialog.reject)
    return buttons


def confirm(parent: QWidget, title: str, text: str) -> bool:
    """Ask before a destructive action; No is the default answer."""
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes
