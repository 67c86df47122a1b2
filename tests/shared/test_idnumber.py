from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.idnumber import IdNumberError, check_char, is_valid_id_number, parse_id_number
from shared.masking import mask_id_number, mask_mobile

TODAY = date(2026, 11, 22)


def make(region: str, birth: str, seq: str = "123") -> str:
    first17 = region + birth + seq
    return first17 + check_char(first17)


def test_known_check_digit_vector() -> None:
    # The worked example of GB 11643-1999: 11010519491231002X.
    assert check_char("11010519491231002") == "X"
    assert parse_id_number("11010519491231002X", today=TODAY).birth_date == date(1949, 12, 31)


def test_lowercase_x_is_accepted_and_normalised() -> None:
    assert parse_id_number("11010519491231002x", today=TODAY).value == "11010519491231002X"


def test_wrong_check_digit_is_rejected_with_reason() -> None:
    with pytest.raises(IdNumberError, match="校验位"):
        parse_id_number("110105194912310021", today=TODAY)


def test_29_february_only_in_leap_years() -> None:
    assert is_valid_id_number(make("330102", "20000229"), today=TODAY)  # 2000 is leap
    assert is_valid_id_number(make("330102", "19960229"), today=TODAY)
    with pytest.raises(IdNumberError, match="出生日期不存在"):
        parse_id_number(make("330102", "19000229"), today=TODAY)  # 1900 is not
    with pytest.raises(IdNumberError, match="出生日期不存在"):
        parse_id_number(make("330102", "20230229"), today=TODAY)


def test_future_birth_date_is_rejected() -> None:
    with pytest.raises(IdNumberError, match="晚于今天"):
        parse_id_number(make("330102", "20261123"), today=TODAY)
    assert is_valid_id_number(make("330102", "20261122"), today=TODAY)


def test_impossible_dates_and_shapes() -> None:
    for bad, reason in [
        (make("330102", "19901301"), "出生日期不存在"),
        (make("330102", "19900132"), "出生日期不存在"),
        (make("330102", "18991231"), "早于1900"),
        (make("990102", "19900101"), "省级"),
        ("33010219900101123", "18位"),
        ("3301021990010112345", "18位"),
        ("33010219900101A23X", "前17位"),
        ("33010219900101123Y", "前17位"),
    ]:
        with pytest.raises(IdNumberError, match=reason):
            parse_id_number(bad, today=TODAY)


def test_gender_from_sequence() -> None:
    assert parse_id_number(make("330102", "19900101", "121"), today=TODAY).is_male
    assert not parse_id_number(make("330102", "19900101", "122"), today=TODAY).is_male


@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_exactly_one_check_char_is_valid(first17: str) -> None:
    valid = [c for c in "0123456789X" if check_char(first17) == c]
    assert len(valid) == 1
    # ISO 7064 MOD 11-2: the weighted sum including the check character is 1 mod 11.
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    value = 10 if valid[0] == "X" else int(valid[0])
    assert (total + value) % 11 == 1


def test_masking() -> None:
    assert mask_id_number("330102199001011234") == "330102********1234"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_id_number(None) is None
