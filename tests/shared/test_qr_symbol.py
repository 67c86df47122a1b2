"""The QR mask choice in numpy (shared/qr_symbol.py) against segno, which it must agree with."""

import random

import numpy as np
import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.qr_symbol import _finder_like, dark_runs, masked_candidates, penalty, qr_code

PAYLOADS = [
    "A",
    "https://sgss.example/verify",
    "SG1:" + "X" * 170,
    "保安员证 浙2026000001 张三",
]


@pytest.mark.parametrize("text", PAYLOADS)
@pytest.mark.parametrize("error", ["m", "q"])
def test_every_candidate_is_segnos_symbol_with_that_mask_bar_the_format_information(
    text: str, error: str
) -> None:
    probe = segno.make_qr(text, error=error, boost_error=False, mask=0)
    candidates = masked_candidates(np.array(probe.matrix, dtype=np.uint8))
    for mask, candidate in enumerate(candidates):
        forced = np.array(
            segno.make_qr(text, error=error, boost_error=False, mask=mask).matrix, dtype=np.uint8
        )
        differ = np.argwhere(candidate != forced)
        # only format-information modules may differ (row 8 / column 8 beside the finders)
        assert all(r == 8 or c == 8 for r, c in differ), (mask, differ[:5])


def test_the_chosen_mask_has_the_lowest_penalty_and_the_symbol_decodes() -> None:
    zxing = pytest.importorskip("zxingcpp")
    rng = random.Random(16)
    for _ in range(20):
        text = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789:.-/") for _ in range(150))
        symbol = qr_code(text, "q")
        probe = segno.make_qr(text, error="q", boost_error=False, mask=0)
        scores = [penalty(c) for c in masked_candidates(np.array(probe.matrix, dtype=np.uint8))]
        assert symbol.mask == scores.index(min(scores))
        image = np.kron(symbol.with_quiet_zone(4), np.ones((4, 4)))
        found = zxing.read_barcodes(((1 - image) * 255).astype(np.uint8))
        assert [r.text for r in found] == [text]


def test_penalty_rules_on_small_hand_made_symbols() -> None:
    light = np.zeros((7, 7), dtype=np.uint8)
    # N1: 14 runs of 7 → 14 × (3 + 2); N2: 36 blocks × 3; N3: none; N4: 0 % dark → 10 × 10
    assert penalty(light) == 14 * 5 + 36 * 3 + 100
    checker = (np.indices((6, 6)).sum(axis=0) % 2).astype(np.uint8)
    assert penalty(checker) == 0  # no runs, no blocks, no finder-like runs, exactly half dark
    finder_row = np.zeros((11, 11), dtype=np.uint8)
    finder_row[5, 4:11] = [1, 0, 1, 1, 1, 0, 1]
    assert _finder_like(finder_row[np.newaxis])[0] == 40  # four light modules before it
    hemmed = np.zeros((15, 15), dtype=np.uint8)
    hemmed[5] = [1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1]
    assert _finder_like(hemmed[np.newaxis])[0] == 0  # dark on both sides: not finder-like


@settings(max_examples=40, deadline=None)
@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=60
    )
)
def test_any_text_gives_segnos_symbol_for_the_chosen_mask_module_for_module(text: str) -> None:
    symbol = qr_code(text, "m")
    forced = segno.make_qr(text, error="m", boost_error=False, mask=symbol.mask)
    assert symbol.version == forced.version
    assert symbol.modules.tolist() == [list(row) for row in forced.matrix]


def test_dark_runs_cover_exactly_the_dark_modules() -> None:
    symbol = qr_code("保安员证", "q")
    padded = symbol.with_quiet_zone(4)
    painted = np.zeros_like(padded)
    for row, first, length in dark_runs(padded):
        assert painted[row, first : first + length].sum() == 0
        painted[row, first : first + length] = 1
    assert (painted == padded).all()


def test_boost_raises_the_error_level_within_the_same_version_like_segno() -> None:
    text = "SGSS-DOC:12345"
    symbol = qr_code(text, "m", boost=True)
    boosted = segno.make_qr(text, error="m", boost_error=True, mask=symbol.mask)
    assert boosted.error != "M"  # a short text fits version 1 at a higher level
    assert symbol.modules.tolist() == [list(row) for row in boosted.matrix]
