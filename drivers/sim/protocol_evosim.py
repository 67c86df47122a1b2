"""``evosim://NAME``: an Evolis card printer simulator as a pyserial URL (found through
``serial.protocol_handler_packages``; ``drivers.sim.install_url_handlers`` registers the package).

Importing this module registers the "evosim" kind, so the first open of ``evosim://desk`` creates
the simulator named desk and later opens in the same process reach the same one.
"""

from __future__ import annotations

from drivers.evolis.simulator import EvolisSimulator
from drivers.sim import registry
from drivers.sim.link import SimulatorSerial

registry.register_kind("evosim", EvolisSimulator)


class Serial(SimulatorSerial):
    scheme = "evosim"
