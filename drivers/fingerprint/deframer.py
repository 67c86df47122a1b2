"""Incremental packet parser: whatever the port delivered in, complete packets out.

It never raises: a bad frame is *reported* (``take_problems``) and the parser resynchronises,
because a reply that follows line noise must still be found, and because the caller, not the
parser, knows whether a checksum error deserves a retry or a silence deserves a baud-rate hint.
"""

from __future__ import annotations

import struct
from collections import deque

from drivers.errors import ChecksumError, FramingError
from drivers.fingerprint.codec import (
    CHECKSUM_SIZE,
    HEADER,
    IDENTIFIERS,
    MAX_PAYLOAD,
    PREFIX_SIZE,
    Packet,
    checksum,
)


class Deframer:
    """Turns a byte stream into packets, however it is split, and survives garbage.

    ``feed(data)`` returns the packets completed by ``data``, in stream order. It never raises.
    What went wrong on the way is queued as ``FramingError`` / ``ChecksumError`` instances for
    ``take_problems()``: skipped garbage, an identifier that is not 01/02/07/08, an impossible LEN,
    a checksum mismatch. After any of these the parser drops only the first byte of the suspect
    header and hunts again, so a genuine frame that starts inside the rejected one is still found.

    A candidate whose LEN reaches past the bytes received so far is normally awaited; but if a
    complete, checksum-valid frame already starts later in the buffer, the candidate was a
    truncated frame (a module reset mid-reply, a flush that cut a frame) and is dropped at once,
    so the good frame is not held hostage until more bytes arrive. (A genuine long packet
    whose partial payload happens to contain a complete, checksum-valid frame for the same
    address would be misjudged; for 16-bit checksums behind a 7-byte header match that is
    negligible, and the caller's retry covers it.)

    ``address`` (if given) is part of the header match: frames for another address are treated
    as garbage, which also makes a false ``EF 01`` in noise far less likely to be taken for a
    header.
    """

    def __init__(self, address: int | None = None, *, max_problems: int = 32) -> None:
        self.address = address
        self._buf = bytearray()
        self._problems: deque[FramingError] = deque(maxlen=max_problems)
        self.garbage_bytes = 0  # bytes skipped since the last reset, for diagnostics
        self.bad_checksums = 0

    def reset(self) -> None:
        self._buf.clear()
        self._problems.clear()
        self.garbage_bytes = 0
        self.bad_checksums = 0

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def take_problems(self) -> list[FramingError]:
        out = list(self._problems)
        self._problems.clear()
        return out

    def feed(self, data: bytes) -> list[Packet]:
        self._buf += data
        out: list[Packet] = []
        while True:
            start = self._buf.find(HEADER)
            if start < 0:
                # keep a trailing EF: it may be the first half of a header split across reads
                keep = 1 if self._buf.endswith(HEADER[:1]) else 0
                self._skip(len(self._buf) - keep)
                return out
            self._skip(start)
            verdict = self._examine(0)
            if verdict is None:  # incomplete candidate
                later = self._complete_frame_after(1)
                if later < 0:
                    return out
                self._note(FramingError(detail=f"丢弃不完整的帧（{later} 字节）"))
                self._skip(later, note=False)
                continue
            if isinstance(verdict, Packet):
                del self._buf[: PREFIX_SIZE + len(verdict.payload) + CHECKSUM_SIZE]
                out.append(verdict)
                continue
            self._note(verdict)
            self._skip(1, note=False)

    # internals ---------------------------------------------------------------------------
    def _skip(self, count: int, *, note: bool = True) -> None:
        if count <= 0:
            return
        del self._buf[:count]
        self.garbage_bytes += count
        if note:
            self._note(FramingError(detail=f"跳过 {count} 字节无法识别的数据"))

    def _note(self, problem: FramingError) -> None:
        if isinstance(problem, ChecksumError):
            self.bad_checksums += 1
        self._problems.append(problem)

    def _examine(self, at: int) -> Packet | FramingError | None:
        """The frame starting at ``at`` (which holds EF 01): a packet, why it is not one, or
        None if more bytes are needed to decide."""
        buf = self._buf
        if len(buf) - at < PREFIX_SIZE:
            return None
        address, identifier, length = struct.unpack_from(">IBH", buf, at + 2)
        bad_header = self._bad_header(address, identifier, length)
        if bad_header is not None:
            return bad_header
        end = at + PREFIX_SIZE + length
        if len(buf) < end:
            return None
        payload = bytes(buf[at + PREFIX_SIZE : end - CHECKSUM_SIZE])
        received = buf[end - 2] << 8 | buf[end - 1]
        expected = checksum(identifier, payload)
        if received != expected:
            return ChecksumError(detail=f"校验和 {received:04X}，应为 {expected:04X}")
        return Packet(address, identifier, payload)

    def _bad_header(self, address: int, identifier: int, length: int) -> FramingError | None:
        if self.address is not None and address != self.address:
            return FramingError(detail=f"地址 {address:08X} 不是本模块")
        if identifier not in IDENTIFIERS:
            return FramingError(detail=f"包标识 {identifier:02X} 无效")
        if length < CHECKSUM_SIZE or length > MAX_PAYLOAD + CHECKSUM_SIZE:
            return FramingError(detail=f"包长度 {length} 不可能")
        return None

    def _complete_frame_after(self, begin: int) -> int:
        """Offset of the first complete, valid frame starting at or after ``begin``, or -1."""
        pos = self._buf.find(HEADER, begin)
        while pos >= 0:
            if isinstance(self._examine(pos), Packet):
                return pos
            pos = self._buf.find(HEADER, pos + 1)
        return -1
