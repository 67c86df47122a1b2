"""Cycles are collected on the UI thread only (client/qt/collector.py): a worker thread that
allocates past every threshold collects nothing, and the UI thread's timer does."""

import gc
import threading
import weakref

from client.qt.collector import UiThreadCollector


class Cyclic:
    def __init__(self) -> None:
        self.me = self


def test_cycles_are_collected_by_the_ui_thread_not_a_worker(qtbot, qapp) -> None:  # type: ignore[no-untyped-def]
    collector = UiThreadCollector(qapp)
    try:
        assert not gc.isenabled()
        garbage = Cyclic()
        alive = weakref.ref(garbage)
        del garbage
        where: list[str] = []

        def worker() -> None:
            junk = [Cyclic() for _ in range(50_000)]  # far past the youngest threshold
            del junk
            where.append("alive" if alive() is not None else "collected")

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert where == ["alive"]  # no collection ran on the worker
        qtbot.waitUntil(lambda: alive() is None, timeout=5000)  # the UI thread's timer did
    finally:
        collector.stop()
    assert gc.isenabled()
