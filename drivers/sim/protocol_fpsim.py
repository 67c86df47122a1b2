"""``fpsim://NAME[?finger=A&library=300&settle=0.5]``: a simulated fingerprint module as a port.

pyserial imports this module when it meets the ``fpsim`` scheme (``drivers.sim`` is on
``serial.protocol_handler_packages``); importing it also registers the kind, so
``registry.device("fpsim", NAME)`` creates a ``FingerprintSimulator`` on first use.
"""

from __future__ import annotations

from drivers.fingerprint.simulator import FingerprintSimulator
from drivers.sim import registry
from drivers.sim.link import SimulatorSerial

registry.register_kind("fpsim", FingerprintSimulator)


class Serial(SimulatorSerial):
    scheme = "fpsim"
