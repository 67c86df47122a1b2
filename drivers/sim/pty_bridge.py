"""A simulator on the far end of a real pseudo-terminal (Linux/macOS), for tests of the tty path.

``PtyBridge(sim).start()`` gives ``.port`` (e.g. ``/dev/pts/7``) that any program opens as a real
serial port; a thread shuttles bytes between the pty master and the simulator. ``unplug()`` closes
the master, so the driver sees the hang-up a pulled USB adapter causes.
"""

from __future__ import annotations

import os
import select
import threading
import tty

from drivers.sim.base import SimulatedDevice, UnpluggedError


class PtyBridge:
    def __init__(self, sim: SimulatedDevice) -> None:
        self.sim = sim
        self._master = -1
        self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.port = ""

    def start(self) -> PtyBridge:
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._run, name=f"pty-{self.port}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        master = self._master
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], 0.005)
                if ready:
                    data = os.read(master, 4096)
                    if data:
                        self.sim.host_write(data)
                out = self.sim.host_read(4096, 0)
                if out:
                    os.write(master, out)
            except UnpluggedError:
                self._close_master()
                return
            except OSError:
                return

    def _close_master(self) -> None:
        if self._master >= 0:
            os.close(self._master)
            self._master = -1
        if self._slave >= 0:  # with no open slave fd left here the driver's fd hangs up
            os.close(self._slave)
            self._slave = -1

    def unplug(self) -> None:
        self.sim.unplug()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._close_master()

    def __enter__(self) -> PtyBridge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
