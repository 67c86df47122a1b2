"""Work around PySide6 6.12.0 on Python 3.11: every call of a method that returns nothing
(``painter.save()``, ``setPen``, ``QImage.fill`` …) releases one reference to ``None`` that it
never took. Python 3.12 made ``None`` immortal, so the bug is silent there; on 3.11 ``None``'s
count runs down by one a call and the process aborts ("Fatal Python error: none_dealloc") after
some tens of thousands of calls — a card benchmark reaches that in seconds, a desk in a day.

``protect()`` gives ``None`` a count so large that no session can run it down, which is what
3.12 does for immortal objects. It touches nothing else and is a no-op where ``None`` is already
immortal. Remove it when the desk requires Python ≥ 3.12 or a PySide6 with the bug fixed
(``tests/client/test_card.py::test_void_qt_calls_do_not_run_none_down`` tells).
"""

from __future__ import annotations

import ctypes
import sys

_HEADROOM = 1 << 40  # ~10¹² calls


def protect() -> None:
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    count = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt: the first field of every object
    if count.value < _HEADROOM:
        count.value += _HEADROOM
