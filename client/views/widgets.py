"""Small pieces every dialog and page uses the same way.

Keys in a dialog of the desk are safe: a stray Enter never sends anything. Enter that the focused
input does not use itself (a line edit, a combo box, a list) moves to the next input instead of
pressing the dialog's default button; only a click (or Space/Enter on a focused, non-destructive
button) submits. Esc cancels, as in every Qt dialog. A destructive choice is confirmed in a box
whose default button is 取消.
"""

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import SIGNAL, QDate, QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from shared.china_time import china_today

if TYPE_CHECKING:
    from shared.schemas.common import ActionState

_OK, _CANCEL = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
# inputs of one line: Enter there means "next field", as on a paper form
_SINGLE_LINE = (QLineEdit, QComboBox, QAbstractSpinBox)


class _EnterGuard(QObject):
    """Eats the Enter a dialog would turn into a click of its default button; calls ``on_enter``
    instead (re-authentication: Enter signs in) or moves the focus on from a one-line input."""

    def __init__(self, dialog: QDialog, on_enter: Callable[[], None] | None) -> None:
        super().__init__(dialog)
        self.dialog, self.on_enter = dialog, on_enter

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() != QEvent.Type.KeyPress or watched is not self.dialog:
            return False
        assert isinstance(event, QKeyEvent)
        if event.key() not in _ENTER:
            return False
        focus = self.dialog.focusWidget()
        if self.on_enter is not None:
            self.on_enter()
        elif isinstance(focus, _SINGLE_LINE) and not _has_own_enter(focus):
            self.dialog.focusNextChild()
        return True


def _has_own_enter(widget: QWidget) -> bool:
    """A line edit whose Enter does something of its own (adds a correction): stay there."""
    return isinstance(widget, QLineEdit) and widget.receivers(SIGNAL("returnPressed()")) > 0


def guard_enter(dialog: QDialog, on_enter: Callable[[], None] | None = None) -> None:
    """Make Enter safe in ``dialog`` (see the module's note). ``on_enter`` is for dialogs whose
    only action changes nothing on the server (re-entering a password)."""
    dialog.installEventFilter(_EnterGuard(dialog, on_enter))


def not_on_enter(*buttons: QAbstractButton) -> None:
    """Buttons that must be clicked: Enter on them (focused or not) does nothing."""
    for button in buttons:
        if hasattr(button, "setAutoDefault"):
            button.setAutoDefault(False)
            button.setDefault(False)


def tab_leaves(*views: QAbstractItemView) -> None:
    """Tab leaves a list for the next control (the page's buttons, the opinion box), as it does
    from any field; the arrow keys move between rows and cells. Qt's default walks the cells
    with Tab, and a table of many cells then holds a keyboard user who cannot reach what lies
    after it (Ctrl+Tab, the way out, is known to nobody). Not for a grid typed into cell by
    cell (考试成绩), where Tab to the next cell is the point."""
    for view in views:
        view.setTabKeyNavigation(False)


def ok_cancel(
    dialog: QDialog,
    ok_text: str,
    on_ok: Callable[[], None],
    *,
    destructive: bool = False,
    enter_submits: bool = False,
) -> QDialogButtonBox:
    """确定/保存 and 取消 in Chinese; Cancel rejects the dialog, OK calls ``on_ok``. Enter in
    the dialog does not press OK (``guard_enter``) unless ``enter_submits`` (for an OK that
    changes nothing on the server); a ``destructive`` OK is not pressed by Enter even when it
    has the focus."""
    buttons = QDialogButtonBox(_OK | _CANCEL)
    buttons.button(_OK).setText(ok_text)
    buttons.button(_CANCEL).setText("取消")
    buttons.accepted.connect(on_ok)
    buttons.rejected.connect(dialog.reject)
    if destructive:
        not_on_enter(buttons.button(_OK))
    guard_enter(dialog, on_ok if enter_submits else None)
    return buttons


def open_dialog(dialog: QDialog) -> QDialog:
    """Show a dialog that a page makes for one use (a review, a card's preview, 新增考试)
    window-modal (``QDialog.open``), deleted once it closes: a page makes a new one each time,
    and one kept as the page's child would hold what it loaded (a review's page images, a
    card's photo) for the rest of the session. The answers of its requests still under way are
    then dropped (``JobRunner``: their owner has gone)."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def confirm(
    parent: QWidget, title: str, text: str, action: str = "确定", *, details: str = ""
) -> bool:
    """Ask before a destructive action: ``action`` and 取消, with 取消 the default (Enter) and
    the escape button. ``details`` is shown under the question (e.g. the list being sent)."""
    box = QMessageBox(
        QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent
    )
    if details:
        box.setInformativeText(details)
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    no = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    not_on_enter(yes)
    box.setDefaultButton(no)
    box.setEscapeButton(no)
    box.exec()
    agreed = box.clickedButton() is yes
    box.deleteLater()  # not one more child of the page per question asked
    return agreed


def show_action_state(button: QAbstractButton, state: "ActionState", tip: str = "") -> None:
    """A button as the server says its action stands: enabled, or greyed with the server's
    reason as its tooltip (``tip`` describes the action while it is allowed)."""
    button.setEnabled(state.allowed)
    button.setToolTip(tip if state.allowed else state.reason or tip)


class DateRange:
    """A ticked date range filter (提交日期 / 报名日期 / 发证日期 … 至 …) ending today in Beijing:
    off until ticked; a tick, an edited date (Enter, or leaving the field) calls ``changed``."""

    def __init__(self, label: str, months_back: int, changed: Callable[[], None]) -> None:
        self.check = QCheckBox(label)
        today = QDate(china_today())  # Beijing's date, not the workstation's
        self.start = QDateEdit(today.addMonths(-months_back), calendarPopup=True)
        self.end = QDateEdit(today, calendarPopup=True)
        for edit in (self.start, self.end):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            self.check.toggled.connect(edit.setEnabled)
            edit.editingFinished.connect(changed)
        self.check.toggled.connect(changed)

    def values(self) -> tuple[date | None, date | None]:
        """(from, to) while ticked, else (None, None)."""
        if not self.check.isChecked():
            return None, None
        return self.start.date().toPython(), self.end.date().toPython()  # type: ignore[return-value]
