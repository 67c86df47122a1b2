"""Console output that a legacy code page cannot kill.

On Windows, output redirected to a file or a pipe is encoded with the ANSI code page (cp1252 on a
Western system, or whatever ``PYTHONIOENCODING`` says), which has no Chinese: the first ``print``
of a Chinese message raises ``UnicodeEncodeError`` — after the work it reports was done. Every
command-line entry point calls :func:`ensure_unicode_output` first; a stream that can already
encode Chinese (a console, a UTF-8 or GBK locale) is left as it is.
"""

import sys
from typing import TextIO

_PROBE = "保安服务监管信息系统——【】“”…"


def _can_encode(stream: TextIO) -> bool:
    try:
        _PROBE.encode(stream.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def ensure_unicode_output() -> None:
    """Switch ``sys.stdout`` and ``sys.stderr`` to UTF-8 when their encoding cannot write
    Chinese. UTF-8 rather than replacement characters: a redirected log stays readable."""
    for stream in (sys.stdout, sys.stderr):
        # None under pythonw or a windowed build; a test's capture object may not reconfigure
        reconfigure = getattr(stream, "reconfigure", None)
        if stream is None or reconfigure is None or _can_encode(stream):
            continue
        stream.flush()
        reconfigure(encoding="utf-8", errors="backslashreplace")
