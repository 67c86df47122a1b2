"""Validation errors in Chinese (``shared/validation``) and the one rule for names
(``shared/schemas/common.Name``): what the API answers, the desk says and an import reports."""

import pytest
from pydantic import ValidationError

from shared.schemas.orgs import OrgCreate
from shared.schemas.roles import RoleCreate
from shared.validation import field_label, summary


def test_a_nested_field_is_named_with_what_holds_it() -> None:
    assert field_label("name") == "名称"
    assert field_label("persons.0.id_number") == "人员第1项的证件号"
    assert field_label("persons.2.zzz") == "人员"
    assert field_label("form.zzz.name") == "申请表的名称"
    assert field_label("zzz") == "提交的数据"
    assert field_label("") == "请求"
    assert field_label("name", {"name": "姓名"}) == "姓名"


def _refusal(**fields: object) -> str:
    body = {"parent_id": 1, "type": "city_bureau", "region_code": "330100", **fields}
    with pytest.raises(ValidationError) as refused:
        OrgCreate.model_validate(body)
    return summary(refused.value.errors(), {"name": "机构名称"})


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("杭州市\u2028公安局", "机构名称：不能包含换行、制表符等控制字符"),  # drawn as a new line
        ("杭州市\u2029公安局", "机构名称：不能包含换行、制表符等控制字符"),
        ("杭州市\t公安局", "机构名称：不能包含换行、制表符等控制字符"),
        ("杭\u200b", "机构名称：长度不足"),  # one character once the invisible one is gone
        ("局" * 101, "机构名称：长度超出限制"),
    ],
)
def test_a_name_is_one_line_of_what_shows(name: str, said: str) -> None:
    assert _refusal(name=name) == said


def test_a_validators_own_message_is_said_as_it_is() -> None:
    assert _refusal(name="杭州市公安局", region_code="3301") == "所属区域：区划代码应为6位数字"


@pytest.mark.parametrize(
    "twin",
    [
        "系统管理员\ufe0f",  # a variation selector
        "系统管理员\U000e0041",  # a tag character
        "系统\u034f管理员",  # the combining grapheme joiner
        "系统管理员\u3164",  # a Hangul filler
        "\u200e系统管理员\u2066",  # direction marks and isolates
    ],
)
def test_characters_that_draw_nothing_are_dropped(twin: str) -> None:
    role = RoleCreate.model_validate(
        {"name": twin, "org_id": 1, "permissions": [], "data_scope": {"kind": "own_org"}}
    )
    assert role.name == "系统管理员"
