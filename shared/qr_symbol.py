"""QR symbols with the data mask chosen by array arithmetic instead of eight Python-loop passes.

Why: segno encodes a certificate payload in about a millisecond, then spends most of a card's
whole PDF time choosing the data mask — it applies and scores each of the eight masks module by
module in Python (ISO/IEC 18004 §7.8.3). A batch of a thousand cards spent three quarters of its
time there. Here segno still does everything that must be exactly right (segments, error
correction, placement, format and version information); only the *choice* of mask moves to numpy:

1. segno encodes the text once with mask 0 (no evaluation);
2. mask 0 is taken off the encoding region again, giving the unmasked symbol;
3. the eight candidate symbols are scored with the four penalty rules (N1 runs, N2 blocks,
   N3 finder-like 1:1:3:1:1 patterns beside 4 light modules, N4 dark proportion) as array
   operations;
4. the winning candidate gets its format information (segno's own routine) and is the symbol.

Any mask gives a valid, decodable symbol; the penalty choice only keeps large uniform areas and
finder look-alikes out, which is what the rules measure here too. The encoding region is segno's
own (``segno.encoder``'s function-pattern matrix); a test holds every candidate here equal to
segno's symbol with that mask forced, so a segno that changed its layout would be caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import segno
from segno import consts, encoder

_N3_PATTERN = np.array([1, 0, 1, 1, 1, 0, 1], dtype=np.uint8)


@dataclass(frozen=True)
class QrSymbol:
    version: int
    mask: int
    modules: np.ndarray  # size × size, 1 = dark, no quiet zone

    def with_quiet_zone(self, border: int) -> np.ndarray:
        return np.pad(self.modules, border)


def qr_code(text: str, error: str, *, boost: bool = False) -> QrSymbol:
    """The QR code of ``text`` (never Micro QR) at the smallest version for ``error``, with the
    data mask of the lowest penalty: segno's symbol for that mask, module for module. ``boost``
    raises the error level where the same version still holds the text (segno's boost_error)."""
    probe = segno.make_qr(text, error=error, boost_error=boost, mask=0)
    candidates = masked_candidates(np.array(probe.matrix, dtype=np.uint8))
    best = int(
        np.argmin(penalties(np.stack(candidates)))
    )  # the first of equal scores, in the standard's order
    if best == 0:
        modules = candidates[0]
    else:
        rows = [bytearray(row) for row in candidates[best].tolist()]
        encoder.add_format_info(rows, probe.version, consts.ERROR_MAPPING[probe.error], best)
        modules = np.array(rows, dtype=np.uint8)
    modules.setflags(write=False)
    return QrSymbol(int(probe.version), best, modules)


def masked_candidates(symbol_with_mask_0: np.ndarray) -> list[np.ndarray]:
    """The symbol under each of the eight masks (format information left as it was)."""
    size = symbol_with_mask_0.shape[0]
    region = encoding_region(size)
    masks = mask_patterns(size)
    unmasked = symbol_with_mask_0 ^ (masks[0] & region)
    return [unmasked ^ (mask & region) for mask in masks]


@cache
def encoding_region(size: int) -> np.ndarray:
    """1 where a module carries data or error correction, 0 on function patterns, format and
    version information — segno's own region, as its encoder computes it."""
    function = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(function, size, size)
    encoder.add_alignment_patterns(function, size, size)
    function[-8][8] = 0x1  # the dark module
    region = (np.array(function, dtype=np.uint8) > 0x1).astype(np.uint8)
    region.setflags(write=False)
    return region


@cache
def mask_patterns(size: int) -> tuple[np.ndarray, ...]:
    """The eight data mask patterns (ISO/IEC 18004 Table 10) over a ``size``² symbol."""
    i, j = np.indices((size, size))
    patterns = (
        (i + j) % 2 == 0,
        i % 2 == 0,
        j % 3 == 0,
        (i + j) % 3 == 0,
        (i // 2 + j // 3) % 2 == 0,
        (i * j) % 2 + (i * j) % 3 == 0,
        ((i * j) % 2 + (i * j) % 3) % 2 == 0,
        ((i + j) % 2 + (i * j) % 3) % 2 == 0,
    )
    out = []
    for pattern in patterns:
        array = pattern.astype(np.uint8)
        array.setflags(write=False)
        out.append(array)
    return tuple(out)


def penalty(symbol: np.ndarray) -> int:
    """N1 + N2 + N3 + N4 of one square 0/1 symbol (no quiet zone)."""
    return int(penalties(symbol[np.newaxis])[0])


def penalties(symbols: np.ndarray) -> np.ndarray:
    """N1 + N2 + N3 + N4 of each of a stack of square 0/1 symbols, shape (count, size, size):
    the eight candidates are scored in one pass of array operations."""
    both = np.concatenate([symbols, symbols.transpose(0, 2, 1)])  # rows, then columns
    per_line = _runs(both) + _finder_like(both)
    count = symbols.shape[0]
    return per_line[:count] + per_line[count:] + _blocks(symbols) + _balance(symbols)


def _runs(stack: np.ndarray) -> np.ndarray:
    """N1 per symbol: every row run of five or more same-colour modules scores 3 + (length − 5)."""
    count, size, _ = stack.shape
    # a separator value after each row, so that no run crosses a row end
    lines = np.concatenate([stack, np.full((count, size, 1), 2, dtype=np.uint8)], axis=2).ravel()
    starts = np.flatnonzero(np.concatenate(([True], lines[1:] != lines[:-1])))
    lengths = np.diff(np.append(starts, lines.size))
    long = lengths >= 5
    owner = starts[long] // (size * (size + 1))
    return np.bincount(owner, weights=lengths[long] - 2, minlength=count).astype(np.int64)


def _blocks(stack: np.ndarray) -> np.ndarray:
    """N2 per symbol: 3 for every 2×2 block of one colour (overlapping blocks each count)."""
    corner = stack[:, :-1, :-1]
    same = (
        (corner == stack[:, 1:, :-1]) & (corner == stack[:, :-1, 1:]) & (corner == stack[:, 1:, 1:])
    )
    return 3 * same.sum(axis=(1, 2))


def _finder_like(stack: np.ndarray) -> np.ndarray:
    """N3 per symbol: 40 for each dark–light–dark³–light–dark row run with four light modules
    before or after it; the light quiet zone counts as light."""
    padded = np.pad(stack, ((0, 0), (0, 0), (4, 4))).astype(bool)
    width = padded.shape[2] - 6  # where a 7-module run can start

    def shifted(offset: int, length: int) -> np.ndarray:
        return padded[:, :, offset : offset + length]

    hits = np.ones((*padded.shape[:2], width), dtype=bool)
    for offset, dark in enumerate(_N3_PATTERN):
        hits &= shifted(offset, width) if dark else ~shifted(offset, width)
    dark4 = shifted(0, width + 3) | shifted(1, width + 3) | shifted(2, width + 3)
    dark4 |= shifted(3, width + 3)  # window k: columns k … k+3 hold a dark module
    light_before = np.zeros_like(hits)
    light_before[:, :, 4:] = ~dark4[:, :, : width - 4]
    light_after = np.zeros_like(hits)
    tail = dark4.shape[2] - 7  # a hit can only start where its last module is inside
    light_after[:, :, :tail] = ~dark4[:, :, 7:]
    return 40 * (hits & (light_before | light_after)).sum(axis=(1, 2))


def _balance(stack: np.ndarray) -> np.ndarray:
    """N4 per symbol: 10 for every full 5 % the dark proportion strays from one half."""
    size = stack.shape[1] * stack.shape[2]
    percent = 100.0 * stack.sum(axis=(1, 2)) / size
    return 10 * (np.abs(percent - 50) // 5).astype(np.int64)


def dark_runs(modules: np.ndarray) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as (row, first column, length), row by row."""
    size = modules.shape[1]
    edges = np.diff(np.pad(modules.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    assert ends.size == starts.size and (ends <= size).all()
    return [(int(r), int(a), int(b - a)) for r, a, b in zip(rows, starts, ends, strict=True)]
