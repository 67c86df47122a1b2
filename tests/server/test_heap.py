"""``server/heap.settle``: what a long-lived process has loaded is out of the collector's way."""

import subprocess
import sys

PROBE = """
import gc
import server.app  # what serve has loaded before it settles
from server import heap
heap.settle()
frozen = gc.get_freeze_count()
gc.collect()
print(frozen, gc.get_threshold()[0], len(gc.get_objects()), heap.YOUNG_OBJECTS)
"""


def test_settle_freezes_what_is_loaded_and_gathers_more_young_objects() -> None:
    # in a process of its own: freezing this one would change every later test's collector
    out = subprocess.run(
        [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True
    ).stdout.split()
    frozen, young, tracked, expected_young = map(int, out)
    assert frozen > 100_000  # the modules, schemas and routes imported so far
    assert tracked < 1_000  # a full collection no longer walks them
    assert young == expected_young
