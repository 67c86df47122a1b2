"""The card PDF: a real file at CR80 with the embedded font, the particulars as text, and a QR
that a real reader decodes from the rendered page."""

import shutil
import subprocess
from io import BytesIO
from pathlib import Path
from typing import Any, cast

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from server.services.documents.card_pdf import card_pdf, card_sheet_pdf, cards_pdf
from shared.card_layout import QR_BOX, QR_ERROR, QR_QUIET_ZONE, CardFace
from shared.qr_symbol import qr_code
from tests.card_faces import face, portrait

CR80_PT = (85.60 / 25.4 * 72, 53.98 / 25.4 * 72)


def rendered(pdf: bytes, tmp_path: Path, page: int, dpi: int = 300) -> Image.Image:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    source = tmp_path / "card.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-png",
            "-singlefile",
            str(source),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    return Image.open(tmp_path / "page.png")


def image_subtypes(resources_owner: Any) -> set[str]:
    """The subtypes of every XObject a page uses, forms followed into their own resources."""
    found = set()
    for ref in resources_owner.get("/Resources", {}).get("/XObject", {}).values():
        xobject = ref.get_object()
        found.add(str(xobject["/Subtype"]))
        found |= image_subtypes(xobject)
    return found


def test_card_pdf_pages_are_cr80_with_the_particulars_in_the_embedded_font() -> None:
    card = face(7)
    reader = PdfReader(BytesIO(card_pdf(card)))
    assert len(reader.pages) == 2
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(CR80_PT[0], abs=0.01)
        assert float(page.mediabox.height) == pytest.approx(CR80_PT[1], abs=0.01)
    front = reader.pages[0].extract_text()
    for text in (
        "保安员证",
        "欧阳明轩",
        "男",
        "1990年3月7日",
        "330106199003070031",
        card.certificate_number,
        "杭州市公安局西湖区分局",
        "2026年11月24日",
    ):
        assert text in front
    assert "扫码核验" in reader.pages[1].extract_text()
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert all("WenQuanYiMicroHei" in name for name in fonts), fonts
    assert all(
        "/FontFile2" in font.get_object()["/FontDescriptor"]  # the subset is in the file
        for font in reader.pages[0]["/Resources"]["/Font"].values()
    )


def test_the_qr_in_the_pdf_is_vector_and_decodes_to_the_payload(tmp_path: Path) -> None:
    card = face(3)
    pdf = card_pdf(card)
    back = PdfReader(BytesIO(pdf)).pages[1]
    assert image_subtypes(back) == {"/Form"}  # no raster image on the back: the QR is paths
    barcodes = zxingcpp.read_barcodes(rendered(pdf, tmp_path, 2).convert("L"))
    assert [b.text for b in barcodes] == [card.qr_text]
    assert barcodes[0].format == zxingcpp.BarcodeFormat.QRCode


def test_the_drawn_qr_is_the_symbol_module_for_module_and_reads_back() -> None:
    """The runs drawn as one path in module units, rendered by pdfium (Chrome's PDF engine): every
    module centre has the symbol's colour, rows join without a light seam, a reader decodes it."""
    card = face(5)
    modules = qr_code(card.qr_text, QR_ERROR).with_quiet_zone(QR_QUIET_ZONE)
    dpi = 600
    page = pdfium.PdfDocument(card_pdf(card))[1]
    image = page.render(scale=dpi / 72).to_pil().convert("L")
    per_mm = dpi / 25.4
    unit = QR_BOX.w / modules.shape[0]

    def grey(x_mm: float, y_mm: float) -> int:
        value: int = image.getpixel((round(x_mm * per_mm), round(y_mm * per_mm)))
        return value

    size = modules.shape[0]
    drawn = [
        [
            int(grey(QR_BOX.x + (c + 0.5) * unit, QR_BOX.y + (r + 0.5) * unit) < 128)
            for c in range(size)
        ]
        for r in range(size)
    ]
    assert drawn == modules.tolist()
    joins = [
        grey(QR_BOX.x + (c + 0.5) * unit, QR_BOX.y + (r + 1) * unit)
        for r in range(size - 1)
        for c in range(size)
        if modules[r, c] and modules[r + 1, c]
    ]
    assert joins and max(joins) < 64  # where two dark modules meet, no lighter line between
    assert [b.text for b in zxingcpp.read_barcodes(image)] == [card.qr_text]


def test_a_jpeg_photo_goes_in_as_it_is() -> None:
    card = face(6)
    page = PdfReader(BytesIO(card_pdf(card))).pages[0]
    images = [
        x.get_object()
        for x in page["/Resources"]["/XObject"].values()
        if x.get_object()["/Subtype"] == "/Image"
    ]
    assert [(list(i["/Filter"]), i.get_data()) for i in images] == [(["/DCTDecode"], card.photo)]


def test_a_batch_writes_what_every_card_shares_once() -> None:
    cards = [face(seed) for seed in (21, 22, 23)]
    reader = PdfReader(BytesIO(cards_pdf(cards)))
    forms = [
        {
            ref.idnum
            for ref in page["/Resources"]["/XObject"].values()
            if ref.get_object()["/Subtype"] == "/Form"
        }
        for page in reader.pages
    ]
    fronts, backs = forms[0::2], forms[1::2]
    assert all(len(f) == 1 for f in forms)
    assert fronts == [fronts[0]] * 3 and backs == [backs[0]] * 3 and fronts[0] != backs[0]
    for index, page in enumerate(reader.pages):
        text = page.extract_text()
        assert ("姓" in text and "发证机关" in text) if index % 2 == 0 else "注意事项" in text


def test_a_png_photo_and_a_missing_photo(tmp_path: Path) -> None:
    import dataclasses

    with_png = dataclasses.replace(face(1), photo=portrait(1, "PNG"))
    assert PdfReader(BytesIO(card_pdf(with_png))).pages[0]["/Resources"]["/XObject"]
    missing = card_pdf(face(1, photo=False))
    assert "无照片" in PdfReader(BytesIO(missing)).pages[0].extract_text()


def test_the_photo_lands_in_its_box(tmp_path: Path) -> None:
    image = rendered(card_pdf(face(2)), tmp_path, 1, dpi=100).convert("RGB")
    per_mm = 100 / 25.4
    # the portrait's dark shoulders near the bottom of the photo box (61.1…81.1 × 13…39.5 mm)
    r, g, b = image.getpixel((round(71 * per_mm), round(37 * per_mm)))
    assert (r, g, b) < (90, 100, 130)
    assert image.getpixel((round(55 * per_mm), round(37 * per_mm))) == (255, 255, 255)


def test_the_a4_sheet_holds_both_sides() -> None:
    reader = PdfReader(BytesIO(card_sheet_pdf(face(4))))
    (page,) = reader.pages
    text = page.extract_text()
    assert "欧阳明轩" in text and "扫码核验" in text and "正面" in text and "背面" in text


def test_a_batch_holds_each_card_front_then_back_and_every_qr_decodes(tmp_path: Path) -> None:
    cards = [face(seed) for seed in (11, 12, 13)]
    pdf = cards_pdf(cards)
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 6
    for index, card in enumerate(cards):
        assert card.certificate_number in reader.pages[2 * index].extract_text()
        back = rendered(pdf, tmp_path, 2 * index + 2).convert("L")
        assert [b.text for b in zxingcpp.read_barcodes(back)] == [card.qr_text]
    with pytest.raises(ValueError, match="no cards"):
        cards_pdf([])


def test_the_layout_texts_have_a_font_of_their_own_subset_once_a_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A card's labels, titles and duties are in one font, its particulars in another (the
    same face, two names, so that no reader takes one subset for the other); the layout's
    subset is the same in every file and made once, the particulars' is each card's own."""
    from reportlab.pdfbase import pdfmetrics

    from server.services.documents.pdfbase import card_fonts

    layout, _ = card_fonts()
    card_pdf(face(30))  # the layout's subset made, if no test made it yet
    made: list[int] = []
    layout_face = pdfmetrics.getFont(layout).face
    make = layout_face.makeSubset

    def counted(subset: list[int]) -> bytes:
        made.append(len(subset))
        program: bytes = make(subset)
        return program

    monkeypatch.setattr(layout_face, "makeSubset", counted)

    import dataclasses

    cards = (face(31), dataclasses.replace(face(32), name="司马青云", gender="女"))

    def fonts(card: CardFace) -> dict[str, bytes]:
        reader = PdfReader(BytesIO(card_pdf(card)))
        assert card.name in reader.pages[0].extract_text()
        resources = cast(Any, reader.pages[0])["/Resources"]  # both pages share the fonts
        return {
            str(font["/BaseFont"]): font["/FontDescriptor"]["/FontFile2"].get_data()
            for font in (ref.get_object() for ref in resources["/Font"].values())
        }

    first, second = fonts(cards[0]), fonts(cards[1])
    assert made == []
    assert len(first) == 2 and first.keys() == second.keys()
    (layout_name,) = [name for name in first if name.startswith("/LAAAAA+")]
    (own_name,) = set(first) - {layout_name}
    assert own_name == "/AAAAAA+WenQuanYiMicroHei-0" == layout_name.replace("/L", "/A")
    assert first[layout_name] == second[layout_name]
    assert first[own_name] != second[own_name]  # another holder, other characters


def test_a_file_from_the_recorded_forms_is_byte_for_byte_the_file_drawn_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a palette's first card, a file gets the shared forms' operators and the layout
    font's codes as recorded instead of drawing them: the same file either way (reportlab's
    invariant mode fixes the dates and the file id), with or without a photo (its placeholder
    adds layout characters after the forms' ones), in colour and in black."""
    import dataclasses

    from reportlab import rl_config

    from server.services.documents import card_pdf as module
    from shared.card_layout import COLOUR, MONO

    monkeypatch.setattr(rl_config, "invariant", 1)
    drawn: list[int] = []
    draw = module._Side.draw

    def counted(self: Any, items: Any, card: CardFace) -> None:
        drawn.append(1)
        draw(self, items, card)

    monkeypatch.setattr(module._Side, "draw", counted)
    for palette in (COLOUR, MONO):
        for card in (face(3), dataclasses.replace(face(4), photo=None)):
            monkeypatch.setattr(module, "_FORMS", {})
            drawn.clear()
            afresh = card_pdf(card, palette=palette)
            assert len(drawn) == 4  # two forms, two sides' own
            drawn.clear()
            assert card_pdf(card, palette=palette) == afresh
            assert len(drawn) == 2
            monkeypatch.setattr(module, "_FORMS", {})
            batch = cards_pdf([face(5), card], palette=palette)
            assert cards_pdf([face(5), card], palette=palette) == batch
