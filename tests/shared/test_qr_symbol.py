"""QR symbols from zxing-cpp's encoder (shared/qr_symbol.py): what they hold decodes to the text,
their version is the smallest (segno, an independent encoder, is the yardstick) and the signed
certificate payload fits version 11 at level Q (issue 16 §6)."""

import random
from datetime import date

import numpy as np
import pytest
import segno
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.certificate_payload import ALGORITHMS, Claims, encode, key_id_of
from shared.qr_symbol import LEVELS, QrSymbol, qr_code

LONG_NAME = "阿卜杜热合曼·买买提明·艾合买提江·吐尔"  # the longest name the payload takes


def read(symbol: QrSymbol) -> list[zxingcpp.Barcode]:
    """What a real reader finds in the symbol drawn 4 px a module with a 4-module quiet zone."""
    image = np.kron(symbol.with_quiet_zone(4), np.ones((4, 4), dtype=np.uint8))
    return zxingcpp.read_barcodes(
        ((1 - image) * 255).astype(np.uint8), formats=zxingcpp.BarcodeFormat.QRCode
    )


def signed_payloads(count: int) -> list[str]:
    """Certificate payloads as the server signs them, names from two characters to the longest."""
    pem, public = ALGORITHMS["ed25519"].generate()
    private, _ = ALGORITHMS["ed25519"].load_private(pem)
    rng = random.Random(16)
    texts = []
    for index in range(count):
        name = LONG_NAME[: 2 + index % (len(LONG_NAME) - 1)]
        claims = Claims(
            number=f"浙2026{rng.randrange(10**8):08d}",
            name=name,
            id_masked=f"{rng.randrange(110000, 660000)}********{rng.randrange(1000):03d}X",
            issued_on=date(2026, 3, 2),
            expires_on=None if index % 2 else date(2036, 3, 1),
            status_index=rng.randrange(2**32),
            key_id=key_id_of("ed25519", public),
        )
        texts.append(encode(claims, private))
    return texts


def test_signed_payloads_fit_version_11_at_level_q_and_decode() -> None:
    for text in signed_payloads(24):
        symbol = qr_code(text, "q")
        assert symbol.error == "Q"
        assert symbol.version <= 11, (symbol.version, len(text))
        assert symbol.size == 17 + 4 * symbol.version
        assert symbol.version <= segno.make_qr(text, error="q", boost_error=False).version
        (found,) = read(symbol)
        assert found.text == text
        assert found.extra["ECLevel"] == "Q"
        assert found.extra["Version"] == str(symbol.version)


def test_the_longest_alphanumeric_payload_is_version_11_at_q() -> None:
    # MAX_TEXT (259) characters of the Base45 alphabet: exactly what version 11-Q holds
    assert qr_code("SGC:" + "A1%*" * 63 + "Z9." * 1, "Q").version == 11
    assert qr_code("SGC:" + "A1%*" * 64, "Q").version == 12  # one character more does not fit


@settings(max_examples=60, deadline=None)
@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
        min_size=1,
        max_size=80,
    ),
    st.sampled_from("LMQH"),
)
def test_any_text_decodes_back_at_its_level_and_is_never_larger_than_segnos(
    text: str, error: str
) -> None:
    symbol = qr_code(text, error)
    assert symbol.error == error
    assert [b.text for b in read(symbol)] == [text]
    if text.isascii():  # beyond ASCII the two choose different character sets
        assert symbol.version <= segno.make_qr(text, error=error, boost_error=False).version


def test_chinese_text_reads_back_exactly() -> None:
    text = "SGSS:浙公保服字〔2026〕第000123号:7K3QX9"
    (found,) = read(qr_code(text, "m"))
    assert found.text == text
    assert found.bytes == text.encode()  # UTF-8 (under ECI 26), not Shift JIS kanji
    assert [b.text for b in read(qr_code("¡Olé!", "m"))] == ["¡Olé!"]  # not ｡Ol… in Shift JIS


def test_boost_raises_the_level_as_far_as_the_same_version_holds_the_text() -> None:
    assert qr_code("SGSS-1234", "m", boost=True).error == "H"  # version 1 holds it at H
    for text in ("SGSS-DOC:12345", "1234567890" * 4, "SGSS:浙公保服字〔2026〕第000123号:7K3QX9"):
        plain = qr_code(text, "m")
        boosted = qr_code(text, "m", boost=True)
        assert boosted.version == plain.version
        assert LEVELS.index(boosted.error) >= LEVELS.index("M")
        for higher in LEVELS[LEVELS.index(boosted.error) + 1 :]:
            assert qr_code(text, higher).version > plain.version
        assert [b.text for b in read(boosted)] == [text]
    assert qr_code("1234567890" * 4, "m", boost=True).error != "H"  # 40 digits: H needs more


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="error level"):
        qr_code("x", "z")


def test_runs_cover_exactly_the_dark_modules() -> None:
    symbol = qr_code("保安员证", "q")
    for border in (0, 4):
        padded = symbol.with_quiet_zone(border)
        painted = np.zeros_like(padded)
        for row, first, length in symbol.runs(border):
            assert length > 0
            assert padded[row, first : first + length].all()
            assert first == 0 or not padded[row, first - 1]  # a run is as long as it can be
            end = first + length
            assert end == padded.shape[1] or not padded[row, end]
            painted[row, first:end] = 1
        assert (painted == padded).all()
