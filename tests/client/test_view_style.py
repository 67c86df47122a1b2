"""Colours and sizes live in ``resources/qss/sgss.qss`` and ``client/views/style.py``; the views
name them and hold no literals of their own."""

import re
from pathlib import Path

import pytest

CLIENT = Path(__file__).parents[2] / "client"
VIEWS = CLIENT / "views"
STYLE = VIEWS / "style.py"
FORBIDDEN = {
    "colour literal": re.compile(r"""["'][^"'\n]*#[0-9a-fA-F]{3,8}\b"""),
    "rgb()": re.compile(r"\brgba?\("),
    "QColor from a literal": re.compile(r"""QColor\(\s*["'\d]"""),
    "Qt.GlobalColor": re.compile(r"\bGlobalColor\."),
    "inline stylesheet": re.compile(r"\.setStyleSheet\("),
    "size literal": re.compile(
        r"\.(resize|setFixed\w*|setMinimum(Width|Height|Size)|setMaximum(Width|Height|Size)"
        r"|setColumnWidth\(\s*\d+\s*,|setSizes\(\s*\[)\(?\s*\d"
    ),
}


def offences(text: str) -> list[str]:
    return [
        f"{line_no}: {what}: {line.strip()}"
        for line_no, line in enumerate(text.splitlines(), start=1)
        for what, pattern in FORBIDDEN.items()
        if pattern.search(line)
    ]


@pytest.mark.parametrize(
    "line",
    [
        'self.state.setStyleSheet("color: #c62828;")',
        'HIT = QColor("#c62828")',
        "item.setForeground(0, Qt.GlobalColor.darkGray)",
        "self.resize(1180, 780)",
        "self.opinion.setFixedHeight(70)",
        "splitter.setSizes([280, 1000])",
        "self.setColumnWidth(0, 260)",
        '"pending": ("办理中", "#c62828"),',
    ],
)
def test_the_check_catches_literals(line: str) -> None:
    assert offences(line)


def test_views_hold_no_colour_or_size_literals() -> None:
    found = {
        str(path.relative_to(VIEWS)): offences(path.read_text(encoding="utf-8"))
        for path in sorted(VIEWS.rglob("*.py"))
        if path != STYLE
    }
    assert {path: lines for path, lines in found.items() if lines} == {}


COLOURS = (
    "colour literal",
    "rgb()",
    "QColor from a literal",
    "Qt.GlobalColor",
    "inline stylesheet",
)


def test_models_and_qt_adapters_name_no_colour() -> None:
    """A colour is the views' choice: the plain models flag rows, the adapters draw what the view
    hands them (the inbox's overdue rows: ``style.OVERDUE``)."""
    found = {
        str(path.relative_to(CLIENT)): [
            line
            for line in offences(path.read_text(encoding="utf-8"))
            if line.split(": ")[1] in COLOURS
        ]
        for folder in ("models", "qt")
        for path in sorted((CLIENT / folder).rglob("*.py"))
    }
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_the_named_colours_are_those_of_the_stylesheet() -> None:
    from client.resources import stylesheet
    from client.views import style

    qss = stylesheet().lower()
    for name in ("BRAND", "DANGER", "WARNING", "SUCCESS"):
        assert getattr(style, name).lower() in qss, name
