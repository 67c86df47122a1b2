"""Client-side access to the shipped data in ``resources/``."""

from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from PySide6.QtGui import QIcon


def stylesheet() -> str:
    return resources.files("resources").joinpath("qss", "sgss.qss").read_text(encoding="utf-8")


CJK_FONTS = (
    "Microsoft YaHei",  # Windows (微软雅黑), the workstations' usual system
    "PingFang SC",  # macOS
    "Noto Sans CJK SC",  # Linux desktops
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",  # the font the desk ships and the documents embed
    "WenQuanYi Zen Hei",
)
"""The Chinese fonts the desk prefers, best first (README "Fonts"): the first one installed is
used; if none is, the shipped WenQuanYi Micro Hei is loaded, and only if that fails does any
other font that covers Simplified Chinese (e.g. Droid Sans Fallback) stand in."""

SHIPPED_CJK_FONT = "wqy-microhei.ttc"


def preferred_cjk_font(installed: "Sequence[str]") -> str | None:
    """The first of ``CJK_FONTS`` among the ``installed`` families, None if none is."""
    return next((family for family in CJK_FONTS if family in installed), None)


def cjk_font_choice() -> tuple[str | None, bool]:
    """(family, shipped): the family for Chinese text by ``CJK_FONTS``, and whether it is the
    shipped file loaded into this process. Needs a QGuiApplication."""
    from PySide6.QtGui import QFontDatabase

    installed = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    preferred = preferred_cjk_font(installed)
    if preferred is not None:
        return preferred, False
    font = resources.files("resources").joinpath("fonts", SHIPPED_CJK_FONT)
    with resources.as_file(font) as path:
        font_id = QFontDatabase.addApplicationFont(str(path))
    loaded = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if loaded:
        return loaded[0], True
    return (installed[0] if installed else None), False


def ensure_cjk_font() -> str | None:
    """Choose the family for Chinese text (``cjk_font_choice``) and put it first in the
    application's font, so every widget draws Chinese with it. None when there is none."""
    from PySide6.QtGui import QGuiApplication

    family, _shipped = cjk_font_choice()
    if family is not None:
        font = QGuiApplication.font()
        font.setFamilies([family, *(f for f in font.families() if f != family)])
        QGuiApplication.setFont(font)
    return family


def icon(name: str) -> "QIcon":
    """An icon shipped as ``resources/icons/NAME.svg`` (scales cleanly on high-DPI screens)."""
    from PySide6.QtGui import QIcon

    path = resources.files("resources").joinpath("icons", f"{name}.svg")
    with resources.as_file(path) as file:
        return QIcon(str(file))
