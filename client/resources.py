"""Client-side access to the shipped data in ``resources/``."""

from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon


def stylesheet() -> str:
    return resources.files("resources").joinpath("qss", "sgss.qss").read_text(encoding="utf-8")


def ensure_cjk_font() -> str | None:
    """The family used for Chinese text: the system's, else the shipped WenQuanYi Micro Hei.
    Needs a QGuiApplication. Returns None when neither is available."""
    from PySide6.QtGui import QFontDatabase

    families = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    if families:
        return families[0]
    font = resources.files("resources").joinpath("fonts", "wqy-microhei.ttc")
    with resources.as_file(font) as path:
        font_id = QFontDatabase.addApplicationFont(str(path))
    loaded = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    return loaded[0] if loaded else None


def icon(name: str) -> "QIcon":
    """An icon shipped as ``resources/icons/NAME.svg`` (scales cleanly on high-DPI screens)."""
    from PySide6.QtGui import QIcon

    path = resources.files("resources").joinpath("icons", f"{name}.svg")
    with resources.as_file(path) as file:
        return QIcon(str(file))
