"""Named simulator instances per process: ``fpsim://bench`` twice reaches the same device."""

from __future__ import annotations

import threading
from collections.abc import Callable

from drivers.sim.base import SimulatedDevice

_lock = threading.Lock()
_factories: dict[str, Callable[[], SimulatedDevice]] = {}
_devices: dict[tuple[str, str], SimulatedDevice] = {}


def register_kind(scheme: str, factory: Callable[[], SimulatedDevice]) -> None:
    with _lock:
        _factories[scheme] = factory


def device(scheme: str, name: str = "default") -> SimulatedDevice:
    """The simulator behind ``scheme://name``, created on first use."""
    with _lock:
        key = (scheme, name or "default")
        if key not in _devices:
            if scheme not in _factories:
                raise KeyError(f"no simulator registered for {scheme}://")
            _devices[key] = _factories[scheme]()
        return _devices[key]


def install(scheme: str, name: str, sim: SimulatedDevice) -> SimulatedDevice:
    """Put a pre-configured simulator behind ``scheme://name`` (tests)."""
    with _lock:
        _devices[(scheme, name)] = sim
    return sim


def forget(scheme: str | None = None) -> None:
    with _lock:
        for key in [k for k in _devices if scheme is None or k[0] == scheme]:
            del _devices[key]
