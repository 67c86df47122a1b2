"""What an uploaded file is, decided from its first bytes and checked against its name.

The name alone proves nothing (a renamed ``.exe`` is still a program), and the content alone is
not enough either: a PNG saved as ``.pdf`` opens in the wrong program on a clerk's workstation.
So a material must both start with a known signature and carry the matching extension.

PDF readers accept ``%PDF-`` anywhere in the first 1024 bytes, but we require it at offset 0.
Every scanner and PDF writer puts it there, and bytes before the header are how polyglot files
(a PDF that is also an HTML page or an archive) are built, so tolerating them buys nothing for
genuine scans and lets through files that are something else as well.
"""

import re
import unicodedata

from server.services.errors import AppError
from shared.approvals import MaterialKind
from shared.errors import ErrorCode

SNIFF_BYTES = 8
"""How many leading bytes ``sniff`` looks at (the PNG signature is the longest)."""

FILENAME_MAX = 200

_PDF = re.compile(rb"%PDF-\d")
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"

EXTENSIONS: dict[str, MaterialKind] = {
    ".pdf": MaterialKind.pdf,
    ".jpg": MaterialKind.jpeg,
    ".jpeg": MaterialKind.jpeg,
    ".png": MaterialKind.png,
}
_ALLOWED = "、".join(EXTENSIONS)


def sniff(head: bytes) -> MaterialKind | None:
    """The kind whose signature ``head`` starts with, or None for anything else (or nothing)."""
    if _PDF.match(head):
        return MaterialKind.pdf
    if head.startswith(_JPEG):
        return MaterialKind.jpeg
    if head.startswith(_PNG):
        return MaterialKind.png
    return None


def refused(message: str, **details: object) -> AppError:
    return AppError(ErrorCode.MATERIAL_TYPE_REFUSED, message=message, details=details or None)


def clean_filename(raw: str | None) -> str:
    """The last path component, NFC-normalised, without control characters, at most 200 long.

    Browsers on Windows may send ``C:\\fakepath\\扫描件.pdf`` and macOS sends decomposed
    (NFD) Chinese; a shortened name keeps its extension so the type check still applies.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cc").strip()
    if name in ("", ".", ".."):
        raise AppError(ErrorCode.VALIDATION_ERROR, message="请选择要上传的材料文件")
    if len(name) > FILENAME_MAX:
        stem, dot, suffix = name.rpartition(".")
        if not dot or len(suffix) > 10:
            return name[:FILENAME_MAX]
        return stem[: FILENAME_MAX - len(suffix) - 1] + "." + suffix
    return name


def extension_of(filename: str) -> str:
    _, dot, suffix = filename.rpartition(".")
    return f".{suffix.lower()}" if dot else ""


def expected_kind(filename: str) -> MaterialKind:
    """The kind the name promises; names without one of the accepted extensions are refused."""
    extension = extension_of(filename)
    kind = EXTENSIONS.get(extension)
    if kind is None:
        raise refused(
            f"文件“{filename}”的扩展名须为 {_ALLOWED} 之一", filename=filename, extension=extension
        )
    return kind


def classify(head: bytes, filename: str) -> MaterialKind:
    """The kind of a file named ``filename`` starting with ``head``, or a refusal saying why."""
    if not head:
        raise refused(f"文件“{filename}”是空文件，请重新选择", filename=filename)
    expected = expected_kind(filename)
    kind = sniff(head)
    if kind is None:
        raise refused(
            f"文件“{filename}”的内容不是 PDF、JPEG 或 PNG 格式，不能作为材料上传",
            filename=filename,
            extension=extension_of(filename),
            detected=None,
        )
    if kind != expected:
        raise refused(
            f"文件“{filename}”的扩展名是 {extension_of(filename)}（{expected.label}），"
            f"但内容是 {kind.label}，两者不符",
            filename=filename,
            extension=extension_of(filename),
            detected=kind.value,
        )
    return kind
