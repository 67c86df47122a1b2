"""Content-addressed storage of material bytes: ``root/ab/abcdef…`` named by SHA-256.

An upload streams into a temporary file inside ``root`` while it is hashed, counted and sniffed,
so it never sits in memory and a refusal (too large, wrong type) only has a temporary file to
delete. A complete file is moved to its address with ``Path.replace`` (``os.replace``, atomic on
one file system), so a reader never sees half a file. Identical bytes are kept once however
often they arrive.

A blob whose database row is never committed stays on disk unreferenced. That is harmless (the
address is its content) and cheaper than risking the removal of a file another upload of the
same bytes has just started to reference; a sweep can collect such blobs later.
"""

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from server.services.errors import AppError
from server.services.materials.kinds import SNIFF_BYTES, refused, sniff
from shared.approvals import MaterialKind
from shared.errors import ErrorCode

_ADDRESS = re.compile(r"[0-9a-f]{64}")
TEMP_PREFIX = ".upload-"

Classifier = Callable[[bytes], MaterialKind]


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    kind: MaterialKind


def require_known(head: bytes) -> MaterialKind:
    kind = sniff(head)
    if kind is None:
        raise refused("文件为空或不是 PDF、JPEG、PNG 格式，不能作为材料上传")
    return kind


def readable_size(size: int) -> str:
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} 字节"


def too_large(max_bytes: int) -> AppError:
    return AppError(
        ErrorCode.MATERIAL_TOO_LARGE,
        message=f"材料文件过大，单个文件不能超过 {readable_size(max_bytes)}",
        details={"max_bytes": max_bytes},
    )


class MaterialStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if not _ADDRESS.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 address: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def put(
        self,
        chunks: Iterable[bytes],
        *,
        max_bytes: int,
        classify: Classifier = require_known,
    ) -> StoredBlob:
        """Store the bytes and answer their address; ``classify`` sees the first bytes as soon
        as there are enough of them (so a wrong type stops the copy early) and raises to refuse.
        On any failure nothing new is left under ``root``."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX, suffix=".part")
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                blob = _copy(chunks, out, max_bytes=max_bytes, classify=classify)
                out.flush()
                os.fsync(out.fileno())
            self._place(temp, blob.sha256)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return blob

    def _place(self, temp: Path, sha256: str) -> None:
        target = self.path(sha256)
        if target.is_file():
            temp.unlink()
            return
        target.parent.mkdir(exist_ok=True)
        try:
            temp.replace(target)
        except PermissionError:
            # Windows refuses to replace a file that is open; it holds the same bytes anyway.
            if not target.is_file():
                raise
            temp.unlink()
        _sync_folder(target.parent)


def _copy(
    chunks: Iterable[bytes], out: BinaryIO, *, max_bytes: int, classify: Classifier
) -> StoredBlob:
    digest = hashlib.sha256()
    size = 0
    head = b""
    kind: MaterialKind | None = None
    for chunk in chunks:
        if not chunk:
            continue
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        if kind is None:
            head += chunk[: SNIFF_BYTES - len(head)]
            if len(head) == SNIFF_BYTES:
                kind = classify(head)
        digest.update(chunk)
        out.write(chunk)
    if kind is None:
        kind = classify(head)
    return StoredBlob(digest.hexdigest(), size, kind)


def _sync_folder(folder: Path) -> None:
    """Make the new directory entry durable too (POSIX only; Windows cannot open a folder)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
