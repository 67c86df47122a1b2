"""Enter and Esc are safe in every dialog of the desk: Enter in any input sends nothing to the
server and accepts nothing; Esc cancels. 不同意 is sent by its button only, after a confirmation
that lists the corrections and defaults to 取消."""

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QToolButton,
    QWidget,
)

from client.api import ApiClient
from client.jobs.runner import JobRunner
from client.preferences import Preferences
from client.views.approvals.action_dialogs import RejectDialog
from client.views.approvals.review_dialog import ReviewDialog
from shared.approvals import ApplicationStatus
from tests.client.approval_desk import DeskWorld, build_desk_world
from tests.client.desk_dialogs import (
    BUILDERS,
    DIALOG_CLASSES,
    WAIT,
    Desk,
    dialog_classes,
    make_desk,
)
from tests.client.modal import when_modal

ENTER = (
    (Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier),
    (Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier),
)


@pytest.fixture(scope="module")
def world(admin_api: ApiClient) -> DeskWorld:
    return build_desk_world(admin_api, "keys")


@pytest.fixture
def desk(world: DeskWorld, prefs: Preferences, qtbot) -> Iterator[Desk]:  # type: ignore[no-untyped-def]
    runner = JobRunner()
    yield make_desk(world, prefs, runner)
    runner.cancel_all()
    runner.wait(10000)


def built(qtbot, desk: Desk, cls: type[QDialog]) -> QDialog:  # type: ignore[no-untyped-def]
    dialog = BUILDERS[cls](desk)
    qtbot.addWidget(dialog)
    dialog.show()
    if isinstance(dialog, ReviewDialog):  # its buttons are live once the server answered
        qtbot.waitUntil(dialog.reject_button.isEnabled, timeout=WAIT)
    return dialog


def inputs(dialog: QDialog) -> list[QWidget]:
    """What takes the keyboard in the shown part of the dialog, buttons aside (they are
    clicked; destructive ones ignore Enter even when focused, see ``not_on_enter``)."""
    return [
        w
        for w in dialog.findChildren(QWidget)
        if w.isVisible()
        and w.isEnabled()
        and w.focusPolicy() & Qt.FocusPolicy.TabFocus
        and not isinstance(w, (QPushButton, QToolButton))
        and not (isinstance(w.parentWidget(), QAbstractButton))
    ]


def test_the_walk_covers_every_dialog() -> None:
    assert dialog_classes() == set(BUILDERS)


WITHOUT_INPUTS = {
    "FingerprintEnrolDialog",
    "CardPreviewDialog",
    "PrintProgressDialog",
    "BundleDialog",
}  # Enter on the dialog itself


@pytest.mark.parametrize("cls", DIALOG_CLASSES, ids=lambda c: c.__name__)
def test_enter_in_any_input_sends_nothing(qtbot, desk: Desk, cls: type[QDialog]) -> None:  # type: ignore[no-untyped-def]
    dialog = built(qtbot, desk, cls)
    tabs = dialog.findChildren(QTabWidget)
    pages = range(tabs[0].count()) if tabs else range(1)
    pressed: list[str] = []
    for page in pages:
        if tabs:
            tabs[0].setCurrentIndex(page)
        for widget in [dialog, *inputs(dialog)]:
            for key, modifier in ENTER:
                widget.setFocus()
                qtbot.keyClick(widget, key, modifier)
                name = f"{type(widget).__name__} {widget.objectName()}"
                assert dialog.isVisible(), f"Enter in {name} closed {cls.__name__}"
                assert dialog.result() != QDialog.DialogCode.Accepted, name
            pressed.append(type(widget).__name__)
    desk.session.runner.wait(WAIT)
    qtbot.wait(50)
    assert desk.writes == []
    assert len(pressed) > (0 if cls.__name__ in WITHOUT_INPUTS else 1)


@pytest.mark.parametrize("cls", DIALOG_CLASSES, ids=lambda c: c.__name__)
def test_esc_cancels(qtbot, desk: Desk, cls: type[QDialog]) -> None:  # type: ignore[no-untyped-def]
    dialog = built(qtbot, desk, cls)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Rejected
    desk.session.runner.wait(WAIT)
    assert desk.writes == []


def test_enter_in_the_corrections_field_adds_the_item_and_rejects_nothing(
    qtbot, desk: Desk
) -> None:  # type: ignore[no-untyped-def]
    review = built(qtbot, desk, ReviewDialog)
    assert isinstance(review, ReviewDialog)
    seen: dict[str, object] = {}

    def type_corrections(reject: RejectDialog) -> None:
        reject.reason.setPlainText("法定代表人身份材料不全")
        for text in ("补充拟任法定代表人身份证复印件", "股东会决议须加盖公章"):
            reject.new_item.setFocus()
            reject.new_item.setText(text)  # typed with the IME (QTest types ASCII only)
            qtbot.keyClick(reject.new_item, Qt.Key.Key_Return)
        seen["open"] = reject.isVisible()
        seen["values"] = reject.values()
        seen["focus"] = reject.focusWidget() is reject.new_item
        reject.reject()

    when_modal(RejectDialog, type_corrections)
    qtbot.mouseClick(review.reject_button, Qt.MouseButton.LeftButton)
    assert seen["open"] is True
    assert seen["values"] == (
        "法定代表人身份材料不全",
        ["补充拟任法定代表人身份证复印件", "股东会决议须加盖公章"],
    )
    assert seen["focus"] is True  # ready for the next item
    desk.session.runner.wait(WAIT)
    assert desk.writes == []
    assert review.model.detail is not None
    status = desk.world.admin.application(review.model.application_id).status
    assert status != ApplicationStatus.returned


def test_rejection_is_confirmed_with_the_corrections_and_cancel_is_the_default(
    qtbot, desk: Desk
) -> None:  # type: ignore[no-untyped-def]
    review = built(qtbot, desk, ReviewDialog)
    assert isinstance(review, ReviewDialog)
    seen: dict[str, object] = {}

    def answer(box: QMessageBox, enter: bool) -> None:
        seen.setdefault("details", box.informativeText())
        seen.setdefault("default", box.defaultButton().text())
        if enter:
            qtbot.keyClick(box, Qt.Key.Key_Return)
        else:
            next(b for b in box.buttons() if b.text() == "确认退回").click()

    def fill(reject: RejectDialog) -> None:
        reject.reason.setPlainText("材料不全")
        reject.new_item.setText("补充营业执照")
        reject.add_correction()
        reject.new_item.setText("补充章程")  # typed, not added: it is sent too, and shown
        when_modal(QMessageBox, lambda box: answer(box, enter=True))
        reject.submit()  # the button's slot; Enter in the box is 取消
        seen["after_enter"] = reject.isVisible() and reject.result() != QDialog.DialogCode.Accepted
        when_modal(QMessageBox, lambda box: answer(box, enter=False))
        reject.submit()

    when_modal(RejectDialog, fill)
    qtbot.mouseClick(review.reject_button, Qt.MouseButton.LeftButton)
    assert seen["default"] == "取消"
    assert seen["details"] == "退回原因：材料不全\n需补正的内容：\n1. 补充营业执照\n2. 补充章程"
    assert seen["after_enter"] is True
    qtbot.waitUntil(lambda: "已退回申请人" in review.status.text(), timeout=WAIT)
    assert desk.writes == [("POST", f"/applications/{review.model.application_id}/reject")]


def test_a_destructive_confirmation_defaults_to_cancel(qtbot) -> None:  # type: ignore[no-untyped-def]
    from client.views.widgets import confirm

    parent = QWidget()
    qtbot.addWidget(parent)
    seen: dict[str, object] = {}

    def press_enter(box: QMessageBox) -> None:
        seen["buttons"] = sorted(b.text() for b in box.buttons())
        qtbot.keyClick(box, Qt.Key.Key_Return)

    when_modal(QMessageBox, press_enter)
    assert confirm(parent, "删除机构", "确定删除“嘉兴市公安局”？此操作不可撤销。", "删除") is False
    assert seen["buttons"] == ["删除", "取消"]
    when_modal(QMessageBox, lambda box: qtbot.keyClick(box, Qt.Key.Key_Escape))
    assert confirm(parent, "删除机构", "确定删除？", "删除") is False
