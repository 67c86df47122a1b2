"""Python's cycle collector, run on the UI thread only.

Left to itself, the collector runs in whichever thread happens to allocate when a threshold is
crossed: often a job's worker. If the garbage it finds holds a widget's wrapper, shiboken defers
the C++ deletion to the UI thread, where by then Qt may have deleted the widget itself (its
parent closed): a crash, rare and far from its cause (seen in the desk tests as a segfault in
``BindingManager::runDeletionInMainThread``). So automatic collection is switched off and a
timer on the UI thread collects, as Python would, when the youngest generation has grown past
its threshold; reference counting still frees everything that is not in a cycle at once.
"""

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class UiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()[0]
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(INTERVAL_MS)

    def collect(self) -> int:
        """What Python would have done by now: the generations whose counts passed their
        thresholds, oldest first. Returns how many objects were unreachable."""
        young, middle, old = gc.get_count()
        t0, t1, t2 = gc.get_threshold()
        if old > t2:
            return gc.collect(2)
        if middle > t1:
            return gc.collect(1)
        if young > max(t0, self._threshold):
            return gc.collect(0)
        return 0

    def stop(self) -> None:
        """Back to Python's own collection (tests, shutdown)."""
        self._timer.stop()
        gc.enable()


def install(app: QObject) -> UiThreadCollector:
    """Collect cycles on ``app``'s thread from now on; the collector lives as long as ``app``."""
    return UiThreadCollector(app)
