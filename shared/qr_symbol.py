"""QR symbols from zxing-cpp's encoder, as rows of modules and runs of dark ones.

Why zxing-cpp: segno (pure Python) spent about 9 ms a card PDF encoding the certificate payload
and choosing the data mask — half of a card's whole PDF time; zxing-cpp's encoder (C++, libzint
inside) does the same in under a millisecond. It also splits the text into segments of the
cheapest mode (numeric, alphanumeric, byte, kanji) where segno uses one mode for the whole text,
so its symbol is never larger: for the Base45 certificate payload (QR alphanumeric characters
only) it is the same version, for a mixed text sometimes one version smaller. The level-Q version
limit of issue 16 is held by ``tests/shared/test_qr_symbol.py`` against segno's own choice.

Text beyond ASCII is encoded as UTF-8 under ECI 26, the standard's way of naming the character
set, rather than libzint's default of ISO 8859-1 or Shift JIS kanji mode without a name, which
leaves a reader to guess: a byte 0xA1 may be ¡ or ｡.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import zxingcpp

LEVELS = "LMQH"  # error-correction levels, lowest first
UTF8_ECI = 26


@dataclass(frozen=True)
class QrSymbol:
    version: int
    error: str  # "L", "M", "Q" or "H": the level the symbol has (boost may have raised it)
    modules: np.ndarray  # size × size, 1 = dark, no quiet zone; read-only

    @property
    def size(self) -> int:
        return int(self.modules.shape[0])

    def with_quiet_zone(self, border: int) -> np.ndarray:
        return np.pad(self.modules, border)

    def runs(self, border: int = 0) -> list[tuple[int, int, int]]:
        """Horizontal runs of dark modules as (row, first column, length), row by row, counted
        from the corner of a quiet zone ``border`` modules wide."""
        edges = np.diff(np.pad(self.modules.astype(np.int8), ((0, 0), (1, 1))), axis=1)
        rows, starts = np.nonzero(edges == 1)
        ends = np.nonzero(edges == -1)[1]  # row by row too: each start's own end
        return list(
            zip(
                (rows + border).tolist(),
                (starts + border).tolist(),
                (ends - starts).tolist(),
                strict=True,
            )
        )


def qr_code(text: str, error: str, *, boost: bool = False) -> QrSymbol:
    """The QR code of ``text`` (model 2, never Micro QR) at the smallest version for level
    ``error`` (one of ``LEVELS``, any case), with the data mask of the lowest penalty.
    ``boost`` raises the level as far as the same version still holds the text."""
    level = error.upper()
    if level not in LEVELS:
        raise ValueError(f"error level {error!r} is not one of {LEVELS}")
    symbol = _encode(text, level)
    if boost:
        for higher in reversed(LEVELS[LEVELS.index(level) + 1 :]):
            stronger = _encode(text, higher)
            if stronger.version == symbol.version:
                return stronger
    return symbol


def _encode(text: str, level: str) -> QrSymbol:
    options: dict[str, object] = {"ec_level": level}
    if not text.isascii():
        options["eci"] = UTF8_ECI
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, **options)
    image = np.asarray(barcode.to_image(scale=1, add_quiet_zones=False))  # 0 dark, 255 light
    modules = (image == 0).astype(np.uint8)
    modules.setflags(write=False)
    return QrSymbol((modules.shape[0] - 17) // 4, level, modules)
