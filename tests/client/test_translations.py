"""Qt's own dialogs speak Chinese once the desk installs Qt's zh_CN catalogue."""

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QTranslator
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QMessageBox

from client.translations import install_qt_chinese

Button = QDialogButtonBox.StandardButton


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[QApplication]:
    before = set(qapp.findChildren(QTranslator))
    locale = QLocale()
    assert install_qt_chinese(qapp)
    yield qapp
    for translator in set(qapp.findChildren(QTranslator)) - before:
        QCoreApplication.removeTranslator(translator)
        translator.deleteLater()
    QLocale.setDefault(locale)


def test_standard_buttons_read_in_chinese(qtbot, chinese: QApplication) -> None:  # type: ignore[no-untyped-def]
    box = QDialogButtonBox(Button.Ok | Button.Cancel | Button.Yes | Button.No | Button.Save)
    qtbot.addWidget(box)
    texts = [box.button(b).text() for b in (Button.Ok, Button.Cancel, Button.Yes, Button.No)]
    assert texts == ["确定", "取消", "是(&Y)", "否(&N)"]
    assert box.button(Button.Save).text() == "保存"
    message = QMessageBox(
        QMessageBox.Icon.Question,
        "删除",
        "确定？",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
    )
    qtbot.addWidget(message)
    assert message.button(QMessageBox.StandardButton.No).text().startswith("否")


def test_without_the_catalogue_qt_speaks_english(qtbot) -> None:  # type: ignore[no-untyped-def]
    box = QDialogButtonBox(Button.Cancel)
    qtbot.addWidget(box)
    assert box.button(Button.Cancel).text().replace("&", "") == "Cancel"


def test_the_save_dialog_reads_in_chinese(qtbot, chinese: QApplication) -> None:  # type: ignore[no-untyped-def]
    """Qt's own file dialog (导出, 另存为 PDF where the system has none of its own): its labels
    and the type of a folder, strings Qt renamed after the catalogue was written."""
    dialog = QFileDialog(None, "导出审批列表")
    qtbot.addWidget(dialog)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    labels = [dialog.labelText(QFileDialog.DialogLabel(i)) for i in range(5)]
    assert labels == ["查找范围(&L)：", "文件名称(&N)：", "文件类型(&T)：", "保存(&S)", "取消"]
    assert QCoreApplication.translate("QAbstractFileIconProvider", "Folder") == "文件夹"
    # what the catalogue does not know stays Qt's own, not an empty label
    assert QCoreApplication.translate("QFileDialog", "&Nothing like this") == "&Nothing like this"
