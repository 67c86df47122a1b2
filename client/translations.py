"""Qt's own texts in Simplified Chinese: the standard buttons (确定/取消/是/否), the file and
print dialogs, the context menus of text fields. PySide6's wheel ships ``qtbase_zh_CN.qm`` in
``QLibraryInfo.TranslationsPath`` (``PySide6/Qt/translations``); nothing else is needed.

Call ``install_qt_chinese(app)`` once, right after the QApplication exists and before any
window is built (``client.main``).

The catalogue in the wheel lags the Qt it ships with: Qt 6 renamed some strings after it was
written (the file dialog's 查找范围 and 文件类型 gained a shortcut letter: ``&Look in:``; the file
types moved to ``QAbstractFileIconProvider``), and those came up in English in 导出's save
dialog. ``CatalogueBridge`` answers them from the catalogue's own older entries, so nothing is
translated here by hand."""

import re

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QObject, QTranslator

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
    return app.installTranslator(CatalogueBridge(translator, app))


# contexts whose strings Qt moved to another class after the catalogue was written: new → old
MOVED_CONTEXTS = {"QAbstractFileIconProvider": "QFileDialog"}
_TRAILING_COLON = re.compile(r"^(.*?)([:：]?)$", re.DOTALL)


class CatalogueBridge(QTranslator):
    """The catalogue, and for a string it lacks, the same string as the catalogue knew it:
    under its old context, or without the ``&`` shortcut marker (``&Look in:`` → ``Look in:``,
    answered as ``查找范围(&L)：``, the catalogue's own way of showing a shortcut). A string
    found neither way is left to Qt (English), as before."""

    def __init__(self, catalogue: QTranslator, parent: QObject) -> None:
        super().__init__(parent)
        catalogue.setParent(self)
        self.catalogue = catalogue

    def isEmpty(self) -> bool:  # noqa: N802 - Qt's name
        return self.catalogue.isEmpty()

    def language(self) -> str:
        return self.catalogue.language()

    def translate(  # type: ignore[override]
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        """None (a null QString) when nothing is known: Qt then asks the next translator and
        falls back to the source; an empty string would show as an empty label."""
        found = self.catalogue.translate(context, source, disambiguation, n)
        if found:
            return found
        old = MOVED_CONTEXTS.get(context)
        if old is not None:
            found = self.catalogue.translate(old, source, disambiguation, n)
            if found:
                return found
        marker = source.find("&")
        if 0 <= marker < len(source) - 1 and source[marker + 1] != "&":
            plain = source[:marker] + source[marker + 1 :]
            found = self.catalogue.translate(context, plain, disambiguation, n)
            if found and "&" not in found:
                text, colon = _TRAILING_COLON.match(found).groups()  # type: ignore[union-attr]
                return f"{text}(&{source[marker + 1].upper()}){colon}"
        return None
