"""The file ferry (SYNC.md, Transports): bundles written atomically into ``<dir>/out/``, read
from ``<dir>/in/*.sgssb`` and moved, once settled, into ``in/done/`` or ``in/quarantine/``.

What the ferry (网闸/光闸) does between the two folders is not ours: it copies ``out/`` to the
portal's side and the portal's files into ``in/``. So this side writes nothing a ferry could
take half-written (a temporary name the pattern does not match, fsync, rename, fsync the
folder), and reads nothing but ``*.sgssb``: temporaries of any copier (``.x.sgssb.part``,
``~x.tmp``), dot files, sub-folders and every other name are left alone.

A file that does not yet open as a ZIP may still be arriving; the cycle leaves it until it has
been unchanged for ten minutes. "Unchanged" is measured from the later of the file's mtime and
its ctime: a copier that preserves the source's modification time (``cp -p``, robocopy,
Explorer) still changes the ctime of what it writes on POSIX, and on Windows the ctime is the
creation of the copy itself. A file whose size or times moved between listing and reading is
as fresh as can be (``unchanged_for`` is zero).
"""

import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.clock import Clock
from server.services.sync.transports.base import Arrival, TransportError
from shared.sync.atomic import fsync_folder, write_atomically
from shared.sync.bundle import MAX_BUNDLE_BYTES, SUFFIX

IN, OUT, DONE, QUARANTINE = "in", "out", "done", "quarantine"
REASON_SUFFIX = ".reason.txt"
_READ_CHUNK = 1 << 20


def is_bundle_name(name: str) -> bool:
    """Whether a folder entry named ``name`` is a bundle to look at: ``*.sgssb``, not hidden
    (our temporaries and many copiers' start with a dot)."""
    return name.endswith(SUFFIX) and not name.startswith(".") and len(name) > len(SUFFIX)


def _stream_of(name: str) -> str:
    """``<source>-<target>-`` of a bundle's name: whose stream it carries, and to whom."""
    source, target, *_ = [*name.split("-", 2), "", ""]
    return f"{source}-{target}-"


def drop_superseded(outbox: Path, written: str) -> int:
    """Remove our earlier bundles still waiting in ``out/`` beside ``written``; returns how many.

    Every bundle the cycle writes carries all records the peer has not acknowledged, from the
    oldest, with the latest ack (docs/sync.md, Cycle): it supersedes every earlier one of the
    same stream. Without this a ferry that stops for a day would find a bundle per worker
    pass, each with the whole backlog and its files. A file the ferry is copying right now may
    refuse to go (Windows) or go while open (POSIX: the copy keeps reading it); either way
    nothing is lost, as the newer bundle holds everything it held."""
    stream = _stream_of(written)
    dropped = 0
    for entry in outbox.iterdir():
        name = entry.name
        if name == written or not is_bundle_name(name) or not name.startswith(stream):
            continue
        try:
            entry.unlink()
            dropped += 1
        except OSError:
            continue
    return dropped


def _stamp(info: os.stat_result) -> tuple[int, int, int]:
    """What must stay equal for a file to count as unchanged: size and both times."""
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def free_name(folder: Path, name: str) -> str:
    """``name`` if nothing in ``folder`` has it, else ``<stem>.2<suffix>``, ``.3``… so two
    files of one name are both kept. Only the cycle, under its database lock, settles files,
    so there is no race for the name."""
    if not (folder / name).exists():
        return name
    stem, suffix = (name[: -len(SUFFIX)], SUFFIX) if name.endswith(SUFFIX) else (name, "")
    number = 2
    while (folder / f"{stem}.{number}{suffix}").exists():
        number += 1
    return f"{stem}.{number}{suffix}"


def _folder_error(folder: Path, err: OSError | None = None) -> TransportError:
    if err is None or isinstance(err, FileNotFoundError | NotADirectoryError):
        return TransportError(f"同步文件夹 {folder} 不存在，请创建该文件夹或检查 SGSS_SYNC_DIR")
    if isinstance(err, PermissionError):
        return TransportError(f"没有同步文件夹 {folder} 的读写权限")
    return TransportError(f"同步文件夹 {folder} 无法访问：{err.strerror or err}")


class FileArrival:
    """One ``*.sgssb`` file of ``in/`` as it was when listed."""

    def __init__(self, path: Path, listed: os.stat_result, now: Callable[[], datetime]) -> None:
        self.path = path
        self._listed = _stamp(listed)
        self._changed_at = max(listed.st_mtime_ns, listed.st_ctime_ns)
        self._now = now
        self._fresh = False

    @property
    def name(self) -> str:
        return self.path.name

    def read(self) -> bytes:
        """The file's bytes, never more than ``MAX_BUNDLE_BYTES`` + 1 (enough for the
        verifier to refuse it as too large)."""
        try:
            with self.path.open("rb") as source:
                before = os.fstat(source.fileno())
                chunks, left = [], MAX_BUNDLE_BYTES + 1
                while left > 0:
                    chunk = source.read(min(left, _READ_CHUNK))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    left -= len(chunk)
                after = os.fstat(source.fileno())
        except OSError as err:
            raise _folder_error(self.path.parent, err) from err
        if _stamp(before) != self._listed or _stamp(after) != self._listed:
            self._fresh = True  # still being written, or replaced since it was listed
        return b"".join(chunks)

    def unchanged_for(self) -> timedelta:
        if self._fresh:
            return timedelta(0)
        try:
            if _stamp(self.path.stat()) != self._listed:
                return timedelta(0)
        except OSError:
            return timedelta(0)
        changed = datetime.fromtimestamp(self._changed_at / 1e9, UTC)
        return max(self._now() - changed, timedelta(0))

    def done(self) -> None:
        self._move_to(DONE)

    def quarantine(self, reason: str) -> None:
        """Into ``in/quarantine/`` with ``<name>.reason.txt`` beside it (UTF-8). The reason is
        written first: a crash between the two leaves the bundle in ``in/`` to be refused
        again, and its reason (for a name no bundle holds) is simply rewritten then."""
        folder = self.path.parent / QUARANTINE
        try:
            folder.mkdir(exist_ok=True)
            name = free_name(folder, self.name)
            write_atomically(folder, name + REASON_SUFFIX, reason.encode("utf-8"))
            self.path.replace(folder / name)
            fsync_folder(folder)
        except OSError as err:
            raise _folder_error(folder, err) from err

    def leave(self) -> None:
        """Nothing: the file stays in ``in/`` and is looked at again next cycle."""

    def _move_to(self, sub: str) -> None:
        folder = self.path.parent / sub
        try:
            folder.mkdir(exist_ok=True)
            self.path.replace(folder / free_name(folder, self.name))
            fsync_folder(folder)
        except OSError as err:
            raise _folder_error(folder, err) from err


class FolderTransport:
    """Bundles through ``sync_dir/in`` and ``sync_dir/out``. Both folders must exist (a share
    that is not mounted must not be mistaken for an empty one); ``in/done`` and
    ``in/quarantine`` are created when first needed."""

    def __init__(self, sync_dir: Path, clock: Clock) -> None:
        self.sync_dir = Path(sync_dir)
        self.inbox = self.sync_dir / IN
        self.outbox = self.sync_dir / OUT
        self._clock = clock

    def describe(self) -> str:
        return f"files: {self.sync_dir}"

    def arrivals(self, applied_upto: Callable[[], int]) -> Iterator[Arrival]:
        """Every ``in/*.sgssb`` regular file, oldest first (by mtime, then name), as listed
        now; a file that vanished before it is read is skipped."""
        del applied_upto  # files arrive whatever this node has applied
        found = []
        try:
            with os.scandir(self.inbox) as entries:
                for entry in entries:
                    if not is_bundle_name(entry.name):
                        continue
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    if stat.S_ISREG(info.st_mode):
                        found.append((info.st_mtime_ns, entry.name, info))
        except OSError as err:
            raise _folder_error(self.inbox, err) from err
        found.sort(key=lambda item: (item[0], item[1]))
        for _, name, info in found:
            yield FileArrival(self.inbox / name, info, self._clock.now)

    def send(self, name: str, data: bytes) -> None:
        if not is_bundle_name(name) or Path(name).name != name or "\\" in name:
            raise ValueError(f"not a bundle file name: {name!r}")
        if not self.outbox.is_dir():
            raise _folder_error(self.outbox)
        try:
            write_atomically(self.outbox, name, data)
        except OSError as err:
            raise _folder_error(self.outbox, err) from err
        drop_superseded(self.outbox, name)
