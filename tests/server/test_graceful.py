"""``GracefulStop`` in the test process itself: stop signals end an idle wait at once, let a busy
unit finish, abandon it on a second signal, and leave ignored signals and prior handlers alone."""

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from server.cli.graceful import GracefulStop, Stopped


@pytest.fixture(autouse=True)
def default_handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_a_signal_while_busy_lets_the_unit_finish() -> None:
    finished = False
    with GracefulStop() as stop, pytest.raises(Stopped) as stopped:
        with stop.busy():
            os.kill(os.getpid(), signal.SIGTERM)
            finished = True  # reached: the signal only asked for a stop
        raise AssertionError("the loop went on after the unit")
    assert finished and not stopped.value.abandoned


def test_a_second_signal_abandons_the_unit() -> None:
    with GracefulStop() as stop, pytest.raises(Stopped) as stopped, stop.busy():
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # not slept out: the second handler raises
        raise AssertionError("the unit was not abandoned")
    assert stopped.value.abandoned


def test_a_signal_ends_an_idle_wait_at_once() -> None:
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM))
    started = time.monotonic()
    with GracefulStop() as stop, pytest.raises(Stopped) as stopped:
        timer.start()
        stop.sleep(60)
    assert time.monotonic() - started < 30 and not stopped.value.abandoned


def test_ignored_signals_stay_ignored_and_handlers_are_restored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    before = signal.getsignal(signal.SIGTERM)
    with GracefulStop():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
