"""The card layout: every box on the card, no two information boxes on top of each other, text
that fits, and the QR at level Q."""

import itertools
from datetime import date

import pytest

from shared.card_layout import (
    BACK,
    CARD,
    CARD_HEIGHT_MM,
    FRONT,
    MIN_TEXT_PT,
    MM_PER_PT,
    Box,
    CardFace,
    Fill,
    Frame,
    Ink,
    Photo,
    Qr,
    Text,
    content_boxes,
    cover_crop,
    field_text,
    qr_modules,
    resolved,
    shared_first,
    typeset,
    wrap,
)


def cjk_measure(text: str, size_pt: float) -> float:
    """A stand-in for the font: every character one em wide (CJK glyphs are)."""
    return len(text) * size_pt * MM_PER_PT


FACE = CardFace(
    "欧阳明轩",
    "男",
    date(1990, 3, 7),
    "330106199003070031",
    "浙2026-00000123",
    "杭州市公安局西湖区分局",
    date(2026, 11, 24),
    None,
    "SGSS1:x",
)


@pytest.mark.parametrize("side", [FRONT, BACK], ids=["front", "back"])
def test_every_box_lies_on_the_card(side) -> None:
    for item in side:
        assert item.box.inside(CARD), item


@pytest.mark.parametrize("side", [FRONT, BACK], ids=["front", "back"])
def test_no_two_information_boxes_overlap(side) -> None:
    for a, b in itertools.combinations(content_boxes(side), 2):
        assert not a.overlaps(b), (a, b)


def test_the_front_carries_every_particular_and_a_photo() -> None:
    fields = {item.field for item in FRONT if isinstance(item, Text) and item.field}
    assert fields == {
        "name",
        "gender",
        "birth_date",
        "id_number",
        "certificate_number",
        "issuing_authority",
        "issue_date",
    }
    texts = [item.text for item in resolved(FRONT, FACE) if isinstance(item, Text)]
    assert "保安员证" in texts and "1990年3月7日" in texts and "2026年11月24日" in texts
    assert field_text(FACE, "id_number") == "330106199003070031"


def test_the_back_says_how_to_verify() -> None:
    texts = " ".join(item.text for item in BACK if isinstance(item, Text))
    assert "扫码核验" in texts and "注意事项" in texts


def test_long_text_shrinks_to_its_box_and_stays_in_it() -> None:
    box = Box(10.0, 10.0, 40.0, 5.0)
    item = Text(box, "浙江省杭州市公安局西湖区分局治安管理大队", size_pt=8.5)
    placed = typeset(item, cjk_measure)
    assert placed.size_pt < 8.5
    (line,) = placed.lines
    assert line.x >= box.x and line.x + cjk_measure(line.text, placed.size_pt) <= box.right + 1e-6
    assert box.y < line.baseline < box.bottom


def test_wrapped_text_breaks_before_the_box_edge_and_keeps_punctuation() -> None:
    lines = wrap("一二三四五，六七八九十\n甲乙", 10.0, 5 * 10 * MM_PER_PT, cjk_measure)
    assert lines == ["一二三四五，", "六七八九十", "甲乙"]
    item = Text(Box(0, 0, 20.0, 6.0), "字" * 200, size_pt=8.0, wrap=True)
    assert typeset(item, cjk_measure).size_pt == MIN_TEXT_PT  # shrinks, but never below legible


def test_a_photo_is_cropped_to_the_box_ratio_from_the_centre() -> None:
    box = Box(0, 0, 30.0, 40.0)
    assert cover_crop(400, 400, box) == (50.0, 0.0, 300.0, 400.0)
    assert cover_crop(300, 600, box) == (0.0, 100.0, 300.0, 400.0)


def test_a_signed_payload_fits_qr_version_11_at_level_q() -> None:
    symbol = qr_modules("A" * 177)  # issue 16: ~177 bytes of payload
    assert 1 <= symbol.version <= 11
    assert symbol.size == 17 + 4 * symbol.version + 8
    module = symbol.module_mm(next(i for i in BACK if type(i).__name__ == "Qr").box)
    assert module >= 0.45  # ≥ 5 printer dots a module at 300 dpi
    assert CARD_HEIGHT_MM > 50


def test_the_shared_parts_of_each_side_can_be_drawn_first() -> None:
    for side in (FRONT, BACK):
        common, own = shared_first(side)
        assert sorted(map(id, common + own)) == sorted(map(id, side))  # each element once
        assert [i for i in side if i in common] == list(common)  # order kept within each part
        assert all(
            isinstance(i, Fill | Frame) or (isinstance(i, Text) and not i.field) for i in common
        )
        assert any(isinstance(i, Photo) for i in own) or any(isinstance(i, Qr) for i in own)
    photo = next(i for i in FRONT if isinstance(i, Photo))
    framed = (*FRONT, Frame(photo.box, Ink.RULE))  # a frame over the photo must stay on top
    with pytest.raises(ValueError, match="cannot be drawn first"):
        shared_first(framed)
    assert shared_first((Frame(photo.box, Ink.RULE), photo))[0] == (Frame(photo.box, Ink.RULE),)
