"""Validation errors in Chinese, for the API's 422 and for the desk, from one table.

A request the schemas refuse is answered (``server/api/errors``) and a body the desk builds
from a form before sending it (``client``) is refused by the same schemas: both say which field
and what is wrong in the clerk's words, never pydantic's English. The organisation import
reports its rows with them too.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from shared.errors import ErrorCode

MESSAGES = {
    "missing": "为必填项",
    "string_too_short": "长度不足",
    "string_too_long": "长度超出限制",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "bool_parsing": "须为是或否",
    "bool_type": "须为是或否",
    "string_type": "须为文本",
    "list_type": "须为列表",
    "enum": "取值无效",
    "literal_error": "取值无效",
    "json_invalid": "不是有效的JSON",
    "model_attributes_type": "格式不正确",
    "dict_type": "格式不正确",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "greater_than": "数值过小",
    "less_than": "数值过大",
    "too_long": "项目过多",
    "too_short": "项目过少",
    "finite_number": "须为有限的数值",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "int_from_float": "须为整数",
    "date_parsing": "日期格式应为 yyyy-mm-dd",
    "date_from_datetime_parsing": "日期格式应为 yyyy-mm-dd",
    "datetime_parsing": "时间格式不正确",
    "datetime_from_date_parsing": "时间格式不正确",
    "extra_forbidden": "不是可提交的字段",
}

_TEXT_LENGTH = {"too_long": "string_too_long", "too_short": "string_too_short"}


FIELD_LABELS = {
    "username": "用户名",
    "password": "密码",
    "old_password": "原密码",
    "new_password": "新密码",
    "verification_code": "验证码",
    "name": "名称",
    "parent_id": "上级机构",
    "type": "机构类型",
    "region_code": "所属区域",
    "phone": "联系电话",
    "address": "地址",
    "org_id": "所属机构",
    "mobile": "联系手机",
    "id_number": "证件号",
    "police_number": "警号",
    "role_ids": "自定义角色",
    "approval_roles": "业务审批角色",
    "permissions": "操作权限",
    "data_scope": "数据范围",
    "version": "版本",
    "title": "材料名称",
    "file": "上传的文件",
    # every other field a request may carry (a test walks the API description for them), so a
    # message never names a field in English: the desk shows it to the clerk as it is
    "absent": "缺考",
    "action": "操作类型",
    "actor_id": "操作人",
    "applicant": "申请人",
    "applicant_code": "申请人证件号码",
    "applicant_kind": "申请人类型",
    "applicant_name": "申请人名称",
    "application_id": "申请",
    "application_ids": "所选申请",
    "assignee_id": "承办人",
    "basis": "法律依据",
    "birth_date": "出生日期",
    "box": "事项类别",
    "bundle_id": "数据包",
    "business_type": "业务类型",
    "candidate_id": "考生",
    "card_number": "卡号",
    "certificate_id": "证书",
    "channel": "渠道",
    "code": "核验码",
    "corrections": "需补正的内容",
    "date_from": "开始日期",
    "date_to": "结束日期",
    "description": "说明",
    "device_id": "设备",
    "dry_run": "仅检查",
    "enabled": "启用状态",
    "ends_at": "结束时间",
    "entity_id": "对象编号",
    "entity_type": "对象类型",
    "exam_id": "考试",
    "external_ref": "外网编号",
    "form": "申请表",
    "gender": "性别",
    "has_photo": "有无照片",
    "holder_name": "持证人姓名",
    "include_subtree": "包含下级机构",
    "is_police": "是否民警",
    "issued_from": "发证日期（起）",
    "issued_to": "发证日期（止）",
    "key_id": "密钥",
    "material_id": "材料",
    "note": "备注",
    "number": "编号",
    "opinion": "意见",
    "overdue": "是否超期",
    "page": "页码",
    "page_size": "每页条数",
    "pass_rule_id": "成绩合格标准",
    "payload": "二维码内容",
    "persons": "人员",
    "photo_ref": "照片",
    "print_state": "打印状态",
    "public_key": "公钥",
    "q": "查询内容",
    "reason": "原因",
    "region": "区域",
    "role_id": "角色",
    "round": "轮次",
    "score": "成绩",
    "scores": "成绩",
    "seats": "考位数",
    "seq": "序号",
    "since": "开始时间",
    "slot": "存储位置",
    "sort": "排序",
    "source_name": "来源",
    "starts_at": "开始时间",
    "state": "状态",
    "status": "状态",
    "text": "内容",
    "training_unit": "培训单位",
    "until": "结束时间",
    "user_id": "用户",
    "with_counts": "是否统计",
}


def field_label(field: str, labels: Mapping[str, str] | None = None) -> str:
    """The Chinese name of the field at ``field`` (a dotted location, "persons.0.id_number"):
    its innermost named part with a label, after the label of the part that holds it and the
    item's number when it is one of several ("人员第1项的证件号"), else a generic name (never
    the English one). ``labels``: names for this form that read better than the general ones
    (a user's ``name`` is 姓名)."""
    table = {**FIELD_LABELS, **labels} if labels else FIELD_LABELS
    parts = [part for part in field.split(".") if part]
    named = [(i, part) for i, part in enumerate(parts) if not part.isdigit()]
    for k in range(len(named) - 1, -1, -1):
        i, part = named[k]
        label = table.get(part)
        if label is None:
            continue
        outer = next((table[p] for _, p in reversed(named[:k]) if p in table), None)
        item = parts[i - 1] if i > 0 and parts[i - 1].isdigit() else None
        if outer is None:
            return label
        return f"{outer}第{int(item) + 1}项的{label}" if item is not None else f"{outer}的{label}"
    return "提交的数据" if named else "请求"


_WHERE = ("body", "query", "path", "header", "cookie")


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """pydantic's errors (``ValidationError.errors()``) as ``{"field", "message", "type"}``
    with a Chinese message: a validator's own (already Chinese), else the table's."""
    found = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in _WHERE]
        if error["type"] == "value_error":
            text = str(error.get("ctx", {}).get("error", error["msg"]))
            text = text.removeprefix("Value error, ")
        elif error["type"] in _TEXT_LENGTH and isinstance(error.get("input"), str):
            # a length bound applied after a validator (a form field of ``Text``) reports
            # the generic sequence error: for text it is about characters, not items
            text = MESSAGES[_TEXT_LENGTH[error["type"]]]
        else:
            text = MESSAGES.get(error["type"], "取值无效")
        found.append({"field": ".".join(loc), "message": text, "type": error["type"]})
    return found


def said(found: list[dict[str, str]], labels: Mapping[str, str] | None = None) -> str:
    """The first of ``field_errors``' problems as a clerk reads it ("机构名称：长度超出限制";
    ``labels``: as in ``field_label``), or the general refusal when there is none."""
    if not found:
        return ErrorCode.VALIDATION_ERROR.message
    return f"{field_label(found[0]['field'], labels)}：{found[0]['message']}"


def summary(errors: Iterable[Mapping[str, Any]], labels: Mapping[str, str] | None = None) -> str:
    """``said`` of pydantic's errors (``ValidationError.errors()``): what the desk shows for a
    body its own copy of the server's schema refuses."""
    return said(field_errors(errors), labels)
