"""The garbage collector, set for a process that runs for long: ``serve`` and ``worker run``.

What is loaded by the time such a process starts its work (the modules, schemas, compiled routes
and statements) lives as long as the process, yet every full collection walks it again: some
400,000 objects, a pause of 0.1–0.2 s for every request or record in flight. ``settle`` moves
them out of the collector's way (``gc.freeze``) and lets more young objects gather before the
collector looks (``YOUNG_OBJECTS``). Tests and one-shot tools keep Python's defaults.
"""

import gc

YOUNG_OBJECTS = 10_000
"""Container objects allocated before the collector looks at the young ones (Python's default
is 700). A page of fifty users allocates some tens of thousands: at 700 the collector ran
dozens of times per request, ~0.4 ms of it, for objects that reference counting frees anyway."""


def settle() -> None:
    """Freeze what is loaded now and collect young objects less often (see the module)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)
