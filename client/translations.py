"""Qt's own texts in Simplified Chinese: the standard buttons (确定/取消/是/否), the file and
print dialogs, the context menus of text fields. PySide6's wheel ships ``qtbase_zh_CN.qm`` in
``QLibraryInfo.TranslationsPath`` (``PySide6/Qt/translations``); nothing else is needed.

Call ``install_qt_chinese(app)`` once, right after the QApplication exists and before any
window is built (``client.main``)."""

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

CATALOGUE = "qtbase"
LOCALE = QLocale(
    QLocale.Language.Chinese, QLocale.Script.SimplifiedChineseScript, QLocale.Country.China
)


def install_qt_chinese(app: QCoreApplication) -> bool:
    """Load qtbase_zh_CN into ``app`` (kept alive as the app's child) and make zh_CN the default
    locale, so dates and numbers in Qt's dialogs read as in China. False when the catalogue is
    missing (a trimmed install): Qt then stays in English, which is ugly but works."""
    QLocale.setDefault(LOCALE)
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load(LOCALE, CATALOGUE, "_", folder):
        return False
    return app.installTranslator(translator)
