"""Writing a file the ferry may take at any moment (SYNC.md, Transports: "a temporary name,
fsync, rename"): both ends of the file ferry write this way, the server's folder transport and
the portal stand-in, so it lives beside the codec they share.
"""

import errno
import os
import secrets
from pathlib import Path

TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable where the OS allows it (not on Windows, where a
    folder cannot be opened for fsync; NTFS journals the rename itself)."""
    if os.name == "nt":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    except OSError as err:  # some file systems (network shares) refuse fsync on a folder
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(handle)


def write_atomically(folder: Path, name: str, data: bytes) -> Path:
    """``folder/name`` appears whole or not at all: written under a hidden temporary name
    (``.<name>.<random>.tmp``, which no reader of ``*.sgssb`` picks up), fsynced, renamed over
    any older file of that name, and the folder fsynced."""
    final = folder / name
    temporary = folder / f"{TEMP_PREFIX}{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        with temporary.open("xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_folder(folder)
    return final
