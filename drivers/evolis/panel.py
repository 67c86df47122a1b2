"""Monochrome panel bitmaps (K black resin, O overlay) in the printer's own layout, as bytes.

Layout. A panel is 1016 lines of 648 dots (CR80 card at 300 dpi): a line runs across the card's
short side (53.98 mm ≈ 648 dots) and the 1016 lines follow each other along the long side
(85.60 mm ≈ 1016 dots), in the order the print head meets them. Each line is 81 bytes, bit 1 =
ink, most significant bit first (dot 0 is bit 7 of byte 0), so a panel is 1016 × 81 = 82,296
bytes. The programming guide prints 84,624 for "2 levels", which matches no whole number of
81-byte lines and contradicts its own "648 × 1016 pixels, 1 byte = 8 pixels": we follow the
arithmetic (DEVICES.md records the discrepancy; verify on hardware).

Orientation. The client draws a landscape card (1016 wide × 648 tall) and turns it into lines
itself; ``landscape_rect`` is the one place that fixes the convention: landscape column x is line
x (line 0 = the card's left edge), landscape row y is dot y (dot 0 = the top edge). Which physical
edge the head starts at is not documented; the test card (``test_card.py``) puts distinct marks
in three corners so one printed card shows whether this needs a flip.

Compression (``Dbc``, guide §4 "Compression of K and O"), line by line: ``00`` = white line,
``FF`` = black line, otherwise a count n (1…81) followed by the line's first n bytes. The guide
says the count is "the index of the last byte of the line", so trailing white bytes are trimmed:
n is the position of the last non-zero byte + 1, and the printer pads the rest with white. A count
can never be 0 or 255 (max 81), so the three forms cannot be confused.
"""

from __future__ import annotations

from collections.abc import Iterator

DOTS_PER_LINE = 648
LINES = 1016
BYTES_PER_LINE = DOTS_PER_LINE // 8  # 81
PANEL_BYTES = LINES * BYTES_PER_LINE  # 82,296

WHITE_LINE = 0x00
BLACK_LINE = 0xFF
_BLACK = b"\xff" * BYTES_PER_LINE


class PanelSizeError(ValueError):
    """Raw bytes that are not exactly one panel: the printer would misplace every later line."""


class Panel:
    """One K or O panel: ``LINES`` lines × ``DOTS_PER_LINE`` dots, mutable, compared by content."""

    __slots__ = ("_data",)
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(self, data: bytes | bytearray | None = None) -> None:
        if data is None:
            self._data = bytearray(PANEL_BYTES)
            return
        if len(data) != PANEL_BYTES:
            raise PanelSizeError(
                f"a panel is {PANEL_BYTES} bytes ({LINES} lines × {BYTES_PER_LINE} bytes), "
                f"got {len(data)}"
            )
        self._data = bytearray(data)

    @classmethod
    def blank(cls) -> Panel:
        return cls()

    @classmethod
    def full(cls) -> Panel:
        """Ink everywhere: the usual overlay (varnish over the whole card)."""
        return cls(b"\xff" * PANEL_BYTES)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> Panel:
        """From the printer layout; raises ``PanelSizeError`` unless exactly 82,296 bytes."""
        return cls(data)

    def to_bytes(self) -> bytes:
        return bytes(self._data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Panel) and self._data == other._data

    def __repr__(self) -> str:
        return f"Panel(ink_dots={self.ink_dots()})"

    def line(self, index: int) -> bytes:
        _check_index(index, LINES, "line")
        start = index * BYTES_PER_LINE
        return bytes(self._data[start : start + BYTES_PER_LINE])

    def lines(self) -> Iterator[bytes]:
        for start in range(0, PANEL_BYTES, BYTES_PER_LINE):
            yield bytes(self._data[start : start + BYTES_PER_LINE])

    def get(self, dot: int, line: int) -> bool:
        _check_index(dot, DOTS_PER_LINE, "dot")
        _check_index(line, LINES, "line")
        return bool(self._data[line * BYTES_PER_LINE + dot // 8] & (0x80 >> (dot % 8)))

    def ink_dots(self) -> int:
        return sum(byte.bit_count() for byte in self._data)

    def is_blank(self) -> bool:
        return not any(self._data)

    def set_rect(self, dot: int, line: int, width: int, height: int) -> Panel:
        """Ink dots ``dot…dot+width-1`` on lines ``line…line+height-1``; returns self."""
        self._paint(dot, line, width, height, ink=True)
        return self

    def clear_rect(self, dot: int, line: int, width: int, height: int) -> Panel:
        self._paint(dot, line, width, height, ink=False)
        return self

    def _paint(self, dot: int, line: int, width: int, height: int, *, ink: bool) -> None:
        if width < 0 or height < 0:
            raise ValueError("width and height must not be negative")
        if dot < 0 or line < 0 or dot + width > DOTS_PER_LINE or line + height > LINES:
            raise ValueError(
                f"rectangle dots {dot}+{width}, lines {line}+{height} leaves the "
                f"{DOTS_PER_LINE}×{LINES} panel"
            )
        if width == 0 or height == 0:
            return
        masks = _span_masks(dot, dot + width)
        for row in range(line, line + height):
            base = row * BYTES_PER_LINE
            for index, mask in masks:
                if ink:
                    self._data[base + index] |= mask
                else:
                    self._data[base + index] &= ~mask & 0xFF


def _check_index(value: int, size: int, what: str) -> None:
    if not 0 <= value < size:
        raise IndexError(f"{what} {value} outside 0…{size - 1}")


def _span_masks(start: int, end: int) -> list[tuple[int, int]]:
    """(byte index, bit mask) covering dots ``start…end-1`` of a line, MSB first."""
    masks = []
    for index in range(start // 8, (end - 1) // 8 + 1):
        lo = max(start, index * 8) - index * 8
        hi = min(end, index * 8 + 8) - index * 8
        mask = (0xFF >> lo) & (0xFF << (8 - hi)) & 0xFF
        masks.append((index, mask))
    return masks


def landscape_rect(x: int, y: int, width: int, height: int) -> tuple[int, int, int, int]:
    """A rectangle on the landscape card (x right, y down) as ``(dot, line, width, height)``.

    Use as ``panel.set_rect(*landscape_rect(x, y, w, h))``; see the module docstring for why
    column → line and row → dot, and how the test card checks it.
    """
    return y, x, height, width


# compression ---------------------------------------------------------------------------------
def compress_line(line: bytes) -> bytes:
    """One 81-byte line → ``00``, ``FF``, or count + bytes up to the last non-white byte."""
    if len(line) != BYTES_PER_LINE:
        raise ValueError(f"a line is {BYTES_PER_LINE} bytes, got {len(line)}")
    if line == _BLACK:
        return bytes([BLACK_LINE])
    used = len(line.rstrip(b"\x00"))
    if used == 0:
        return bytes([WHITE_LINE])
    return bytes([used]) + line[:used]


def compress_lines(panel: Panel | bytes) -> bytes:
    """A whole panel as ``Dbc`` data (all 1016 lines, from line 0)."""
    data = panel.to_bytes() if isinstance(panel, Panel) else Panel.from_bytes(panel).to_bytes()
    return b"".join(
        compress_line(data[start : start + BYTES_PER_LINE])
        for start in range(0, PANEL_BYTES, BYTES_PER_LINE)
    )


def decompress(data: bytes, *, first_line: int = 0) -> bytes:
    """``Dbc`` data → the 82,296 panel bytes; lines before ``first_line`` and after the data are
    white. Raises ``ValueError`` on a count above 81, truncated data or too many lines (the
    simulator answers those with NACK 2)."""
    if not 0 <= first_line <= LINES:
        raise ValueError(f"first line {first_line} outside 0…{LINES}")
    out = bytearray(PANEL_BYTES)
    row = first_line
    pos = 0
    while pos < len(data):
        if row >= LINES:
            raise ValueError(f"compressed data continues past line {LINES}")
        count = data[pos]
        pos += 1
        base = row * BYTES_PER_LINE
        if count == BLACK_LINE:
            out[base : base + BYTES_PER_LINE] = _BLACK
        elif count > BYTES_PER_LINE:
            raise ValueError(f"line {row}: count {count} exceeds {BYTES_PER_LINE} bytes")
        elif count:
            if pos + count > len(data):
                raise ValueError(f"line {row}: {count} bytes announced, data ends first")
            out[base : base + count] = data[pos : pos + count]
            pos += count
        row += 1
    return bytes(out)
