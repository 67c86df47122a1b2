"""Evolis escape language, panel bitmaps and the test card: pure functions, byte-exact."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.evolis import codec
from drivers.evolis.panel import (
    BYTES_PER_LINE,
    DOTS_PER_LINE,
    LINES,
    PANEL_BYTES,
    Panel,
    PanelSizeError,
    compress_line,
    compress_lines,
    decompress,
    landscape_rect,
)
from drivers.evolis.test_card import BIG_SQUARE, SMALL_SQUARE, build_test_card

CJK = re.compile(r"[\u4e00-\u9fff]")


# commands ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (codec.encode("Pr", "ko"), b"\x1bPr;ko\r"),
        (codec.encode("Ss"), b"\x1bSs\r"),
        (codec.encode("Pc", "k", "=", 10), b"\x1bPc;k;=;10\r"),
        (codec.set_ribbon("ymcko"), b"\x1bPr;ymcko\r"),
        (codec.set_ribbon("ko"), b"\x1bPr;ko\r"),
        (codec.set_feeder("F"), b"\x1bPmi;F\r"),
        (codec.set_feeder("M"), b"\x1bPmi;M\r"),
        (codec.set_feeder("B"), b"\x1bPmi;B\r"),
        (codec.set_contrast("k", 10), b"\x1bPc;k;=;10\r"),
        (codec.set_contrast("o", 2, "+"), b"\x1bPc;o;+;2\r"),
        (codec.set_error_mode(0), b"\x1bPem;0\r"),
        (codec.set_error_mode(2), b"\x1bPem;2\r"),
        (codec.start_sequence(), b"\x1bSs\r"),
        (codec.front_side(), b"\x1bSr\r"),
        (codec.back_side(), b"\x1bSv\r"),
        (codec.end_sequence(), b"\x1bSe\r"),
        (codec.eject(), b"\x1bSe\r"),
        (codec.insert_card(), b"\x1bSi\r"),
        (codec.to_contact_station(), b"\x1bSis\r"),
        (codec.to_contactless_station(), b"\x1bSic\r"),
        (codec.reject_card(), b"\x1bSer\r"),
        (codec.reject_card(alternate=True), b"\x1bSeb\r"),
        (codec.move_card("+", 120), b"\x1bMc;+;120\r"),
        (codec.reset(), b"\x1bSrs\r"),
        (codec.read_firmware(), b"\x1bRfv\r"),
        (codec.read_serial_number(), b"\x1bRsn\r"),
        (codec.read_model(), b"\x1bRtp\r"),
        (codec.read_ribbon_type(), b"\x1bRr\r"),
        (codec.read_ribbon_state(), b"\x1bRcr\r"),
        (codec.read_counters(), b"\x1bRco\r"),
        (codec.read_last_print(), b"\x1bRlr;p\r"),
        (codec.read_cleaning(), b"\x1bRlr;r\r"),
        (codec.feeder_query("f"), b"\x1bSk;f\r"),
        (codec.feeder_query("w"), b"\x1bSk;w\r"),
        (codec.feeder_query("s"), b"\x1bSk;s\r"),
        (codec.serial_config(), b"\x1bPcom;1;9600;N;8;1;ACK/NACK;E\r"),
        (
            codec.serial_config(2, 115200, flow="XON/XOFF", enable="R"),
            b"\x1bPcom;2;115200;N;8;1;XON/XOFF;R\r",
        ),
        (codec.read_serial_config(), b"\x1bRcom;1\r"),
    ],
)
def test_command_frames(frame: bytes, expected: bytes) -> None:
    assert frame == expected


def test_bitmap_frames_carry_raw_binary_data() -> None:
    data = bytes(range(256)) * 3  # ESC, CR and ';' bytes inside the data go out untouched
    assert codec.download_bitmap("k", data) == b"\x1bDb;k;2;" + data + b"\r"
    packed = b"\x00\xff\x02\x1b\x0d"
    assert codec.download_compressed("o", packed) == b"\x1bDbc;o;2;0;5;" + packed + b"\r"
    assert codec.download_compressed("k", b"\x00", first_line=7) == b"\x1bDbc;k;2;7;1;\x00\r"


@pytest.mark.parametrize(
    "build",
    [
        lambda: codec.set_feeder("X"),
        lambda: codec.set_ribbon("rainbow"),
        lambda: codec.set_contrast("q", 1),
        lambda: codec.set_error_mode(5),
        lambda: codec.download_bitmap("k", b"", levels=3),
        lambda: codec.encode("Pr", "k;o"),
        lambda: codec.encode("Pr", "k\r"),
        lambda: codec.encode("P r"),
        lambda: codec.encode(""),
    ],
)
def test_invalid_parameters_are_refused_before_sending(build) -> None:
    with pytest.raises(ValueError):
        build()


# NACK table ----------------------------------------------------------------------------------
def test_nack_table_covers_every_documented_code() -> None:
    assert set(codec.NACK_CODES) == {"1", "2", "T", "C", "F", "R", "K", "D", "W"}
    names = [info.name for info in codec.NACK_CODES.values()]
    assert len(set(names)) == len(names)
    for code, info in codec.NACK_CODES.items():
        assert info.code == code
        assert re.fullmatch(r"[A-Z_]+", info.name)
        assert CJK.search(info.message) and "请" in info.message
        assert CJK.search(info.interrupted_message(rejected=True))
        assert codec.text_error_code(info.text_reply) == code  # the text dialect maps back


@pytest.mark.parametrize(
    ("code", "name", "message"),
    [
        ("1", "COMMAND_ERROR", "卡片打印机不支持该指令，请确认打印机型号与驱动设置一致"),
        ("2", "PARAMETER_ERROR", "卡片打印机拒绝了指令参数，请检查色带类型和进卡方式设置"),
        (
            "T",
            "MECHANICAL_ERROR",
            "卡片打印机机械故障或动作超时（可能卡卡），请打开上盖取出卡住的卡片",
        ),
        ("C", "COVER_OPEN", "卡片打印机上盖未关闭，请合上上盖"),
        ("F", "FEEDER_ERROR", "进卡器无卡，请放入空白卡"),
        ("R", "RIBBON_ERROR", "色带用完或未安装，请更换色带"),
    ],
)
def test_nack_messages(code: str, name: str, message: str) -> None:
    info = codec.nack_info(code)
    assert (info.name, info.message) == (name, message)


def test_interrupted_messages_say_where_the_card_is() -> None:
    cover = codec.nack_info("C")
    assert cover.interrupted_message(rejected=True) == (
        "卡片打印机上盖被打开，未完成的卡片已退入废卡盒；请合上上盖后重新打印"
    )
    assert cover.interrupted_message(rejected=False) == (
        "卡片打印机上盖被打开，未完成的卡片未能退入废卡盒；请取出该卡片并合上上盖后重新打印"
    )


def test_unknown_nack_code_still_has_a_message() -> None:
    info = codec.nack_info("Z")
    assert info.name == "UNKNOWN_ERROR"
    assert "Z" in info.message and "请" in info.message
    assert "0x07" in codec.nack_info("\x07").message


def test_text_errors() -> None:
    assert codec.text_error_code("OK") is None
    assert codec.text_error_code("ERR COVER OPEN") == "C"
    assert codec.text_error_code("err ribbon end") == "R"
    assert codec.text_error_code("ERR SOMETHING NEW") == "?"


# replies -------------------------------------------------------------------------------------
@pytest.mark.parametrize("ending", [b"\r", b"\x00", b"\r\n", b"\n"])
def test_text_reply_terminators(ending: bytes) -> None:
    raw = b"Evolis Dualys" + ending
    reply, used = codec.take_reply(raw, text=True)
    assert reply == codec.Text("Evolis Dualys")
    assert raw[used:] in (b"", b"\n")  # a CR LF leaves its LF, skipped before the next reply
    assert codec.take_reply(raw[used:], text=True) == (None, len(raw[used:]))


def test_ack_and_nack() -> None:
    assert codec.take_reply(b"\x06", text=False) == (codec.Ack(), 1)
    assert codec.take_reply(b"\r\n\x00\x06\r", text=False) == (codec.Ack(), 4)
    assert codec.take_reply(b"\x15C", text=False) == (codec.Nack("C"), 2)
    assert codec.take_reply(b"\x15", text=False) == (None, 0)  # the code is still on its way
    assert codec.Nack("R").info.name == "RIBBON_ERROR"


def test_partial_text_waits_and_text_mode_skips_a_leading_ack() -> None:
    assert codec.take_reply(b"Evol", text=True) == (None, 0)
    assert codec.take_reply(b"\x06OK\r", text=True) == (codec.Text("OK"), 4)
    assert codec.take_reply(b"\x06", text=True) == (None, 1)
    assert codec.take_reply(b"\x15F", text=True) == (codec.Nack("F"), 2)
    assert codec.take_reply(b"OK\r", text=False) == (codec.Text("OK"), 3)


def test_terminator_names() -> None:
    assert codec.terminator_bytes("CRLF") == b"\r\n"
    assert codec.terminator_bytes("nul") == b"\x00"
    with pytest.raises(ValueError):
        codec.terminator_bytes("etx")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CARDS=12;REJECTED=1;PANELS=30", {"cards": 12, "rejected": 1, "panels": 30}),
        ("Total: 1520, Head: 300", {"total": 1520, "head": 300}),
        ("1520", {"cards": 1520}),
        ("1520 300 7", {"counter_1": 1520, "counter_2": 300, "counter_3": 7}),
        ("", {}),
    ],
)
def test_counter_answers(text: str, expected: dict[str, int]) -> None:
    assert codec.parse_counters(text) == expected


def test_ribbon_and_sensor_answers() -> None:
    assert codec.parse_ribbon_type("KO") == "ko"
    assert codec.parse_ribbon_type("RIBBON YMCKO") == "ymcko"
    assert codec.parse_ribbon_type("NONE") is None
    assert codec.parse_sensor("0") == 0
    assert codec.parse_sensor(" 3\r") == 3
    assert codec.parse_sensor("?") is None


# panels --------------------------------------------------------------------------------------
def test_panel_geometry() -> None:
    assert (LINES, DOTS_PER_LINE, BYTES_PER_LINE, PANEL_BYTES) == (1016, 648, 81, 82_296)
    assert len(Panel.blank().to_bytes()) == PANEL_BYTES
    assert Panel.full().to_bytes() == b"\xff" * PANEL_BYTES


@pytest.mark.parametrize("size", [0, PANEL_BYTES - 1, PANEL_BYTES + 1, 84_624])
def test_panel_size_is_validated(size: int) -> None:
    with pytest.raises(PanelSizeError, match="82296"):
        Panel.from_bytes(bytes(size))


def test_set_and_clear_rect_msb_first() -> None:
    panel = Panel.blank().set_rect(0, 0, 1, 1)
    assert panel.line(0)[0] == 0x80 and panel.get(0, 0) and not panel.get(1, 0)
    panel = Panel.blank().set_rect(7, 2, 1, 1)
    assert panel.line(2)[0] == 0x01
    panel = Panel.blank().set_rect(4, 5, 8, 2)
    assert panel.line(5)[:3] == b"\x0f\xf0\x00" and panel.line(6) == panel.line(5)
    assert panel.ink_dots() == 16
    panel.clear_rect(6, 5, 2, 1)
    assert panel.line(5)[:2] == b"\x0c\xf0"
    full = Panel.blank().set_rect(0, 0, DOTS_PER_LINE, LINES)
    assert full == Panel.full()
    with pytest.raises(ValueError):
        Panel.blank().set_rect(640, 0, 9, 1)
    with pytest.raises(ValueError):
        Panel.blank().set_rect(0, 1010, 1, 7)


def test_landscape_rect_maps_columns_to_lines() -> None:
    panel = Panel.blank().set_rect(*landscape_rect(100, 20, 3, 2))  # x, y, w, h
    assert panel.get(20, 100) and panel.get(21, 102)
    assert not panel.get(22, 100) and not panel.get(20, 103)


def test_compression_known_vectors() -> None:
    white = bytes(BYTES_PER_LINE)
    black = b"\xff" * BYTES_PER_LINE
    assert compress_line(white) == b"\x00"
    assert compress_line(black) == b"\xff"
    assert compress_line(b"\x80" + bytes(80)) == b"\x01\x80"
    assert compress_line(b"\x00\x00\x3c" + bytes(78)) == b"\x03\x00\x00\x3c"
    last = bytes(80) + b"\x01"
    assert compress_line(last) == bytes([81]) + last
    almost_black = b"\xff" * 80 + b"\xfe"
    assert compress_line(almost_black) == bytes([81]) + almost_black
    assert compress_lines(Panel.blank()) == b"\x00" * LINES
    assert compress_lines(Panel.full()) == b"\xff" * LINES


def test_decompress_rejects_malformed_data() -> None:
    with pytest.raises(ValueError, match="count 82"):
        decompress(b"\x52" + bytes(82))
    with pytest.raises(ValueError, match="data ends"):
        decompress(b"\x05\x01\x02")
    with pytest.raises(ValueError, match="past line"):
        decompress(b"\x00" * (LINES + 1))
    with pytest.raises(ValueError):
        decompress(b"", first_line=LINES + 1)


def test_decompress_from_a_first_line_leaves_the_rest_white() -> None:
    data = decompress(b"\xff\x01\x80", first_line=10)
    panel = Panel.from_bytes(data)
    assert panel.line(9) == bytes(81)
    assert panel.line(10) == b"\xff" * 81
    assert panel.line(11) == b"\x80" + bytes(80)
    assert panel.line(12) == bytes(81)


lines_with_trailing_white = st.builds(
    lambda body, pad: (body + bytes(pad))[:BYTES_PER_LINE].ljust(BYTES_PER_LINE, b"\x00"),
    st.binary(max_size=BYTES_PER_LINE),
    st.integers(0, BYTES_PER_LINE),
)


@given(st.one_of(lines_with_trailing_white, st.binary(min_size=81, max_size=81)))
def test_line_round_trip(line: bytes) -> None:
    packed = compress_line(line)
    assert len(packed) <= BYTES_PER_LINE + 1
    assert decompress(packed)[:BYTES_PER_LINE] == line


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.integers(0, LINES - 1),
        st.one_of(
            st.just(b"\xff" * BYTES_PER_LINE),
            lines_with_trailing_white,
            st.binary(min_size=81, max_size=81),
        ),
        max_size=40,
    )
)
def test_panel_round_trip(changed: dict[int, bytes]) -> None:
    raw = bytearray(PANEL_BYTES)
    for index, line in changed.items():
        raw[index * BYTES_PER_LINE : (index + 1) * BYTES_PER_LINE] = line
    panel = Panel.from_bytes(raw)
    assert decompress(compress_lines(panel)) == bytes(raw)


# test card -----------------------------------------------------------------------------------
def landscape_ink(panel: Panel, x: int, y: int) -> bool:
    dot, line, _, _ = landscape_rect(x, y, 1, 1)
    return panel.get(dot, line)


def test_test_card_marks_prove_orientation() -> None:
    card = build_test_card()
    assert card != Panel.blank()
    mark = 16 + 6 + 12 + 60
    # big square top-left, small square top-right, bars bottom-left, nothing bottom-right
    assert landscape_ink(card, mark + BIG_SQUARE // 2, mark + BIG_SQUARE // 2)
    assert landscape_ink(card, 1016 - mark - SMALL_SQUARE // 2, mark + SMALL_SQUARE // 2)
    assert not landscape_ink(card, 1016 - mark - BIG_SQUARE // 2, mark + BIG_SQUARE - 5)
    assert landscape_ink(card, mark + 10, 648 - mark - 6)
    assert not any(
        landscape_ink(card, x, y) for x in range(800, 960, 8) for y in range(480, 590, 8)
    )
    # the frame runs all around, just inside the edge
    assert all(landscape_ink(card, x, 18) for x in range(16, 1000, 50))
    assert all(landscape_ink(card, 18, y) for y in range(16, 632, 50))
    assert not landscape_ink(card, 5, 5)
    # the frame's bottom edge ends every line, so little trailing white is trimmed here
    assert decompress(compress_lines(card)) == card.to_bytes()
