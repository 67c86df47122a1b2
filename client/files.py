"""Files the desk writes where the clerk chose (exports, templates, error workbooks, PDFs):
complete or not at all."""

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replacing(path: Path | str) -> Iterator[Path]:
    """A file beside ``path`` to write to, moved into place in one step when the block ends
    without an error and removed otherwise: the chosen name never holds half a file (one read
    while it is being written, a crash or a cancel mid-way), and a file already there stays
    whole until the new one replaces it."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        yield partial
        partial.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def write_atomically(path: Path | str, data: bytes) -> None:
    """``data`` at ``path``, whole (``replacing``)."""
    with replacing(path) as partial:
        partial.write_bytes(data)
