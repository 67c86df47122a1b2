"""What both the client and the server import: schemas, enums, rules. Imports nothing of ours."""

from functools import cache
from typing import Any


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sgss")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+source"


def __getattr__(name: str) -> Any:
    """``__version__`` on first use: importlib.metadata costs the desk ~50 ms at start-up."""
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'shared' has no attribute {name!r}")
