"""The Qt binding the desk ships with keeps Python's reference counts.

PySide6 6.12.0 on Python 3.11 takes one reference from ``None`` on every call of a Qt method that
returns nothing (``QPainter.save``, ``QImage.fill``, ``setObjectName`` …). ``None`` is not
immortal before Python 3.12, so a desk that paints a few thousand times aborts with "Fatal Python
error: none_dealloc". pyproject.toml keeps the binding below 6.12; this test fails on a binding
with the fault, whatever its version number.
"""

import sys

from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget

CALLS = 5000


def test_qt_calls_returning_nothing_leave_none_alone(qtbot) -> None:  # type: ignore[no-untyped-def]
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    painter = QPainter(image)
    for _ in range(CALLS):
        painter.save()
        painter.restore()
        image.fill(0)
        widget.setObjectName("probe")
    painter.end()
    # other code may take or drop a handful of references meanwhile; the fault drops 4 per loop
    assert sys.getrefcount(None) - before > -CALLS
