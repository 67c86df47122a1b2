"""Confirmation codes: every code a module may answer, a stable name, and what the clerk does.

The messages are written for the person at the desk, not for the programmer: "手指太干，请擦拭湿润
后重试" rather than "image too dry". ``drivers.fingerprint.errors.error_for`` turns a code into
the exception that carries this message.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Confirmation:
    code: int
    name: str
    message: str


OK = 0x00
NO_FINGER = 0x02
NO_MATCH = 0x08
NOT_FOUND = 0x09
MERGE_FAILED = 0x0A
# AS608 acknowledges a command that is followed by data packets with F0/F1 instead of 00
BULK_OK = frozenset({0x00, 0xF0, 0xF1})

_TABLE = [
    Confirmation(0x00, "OK", "操作成功"),
    Confirmation(0x01, "PACKET_ERROR", "指纹模块接收数据出错，请重试；多次出现请检查数据线"),
    Confirmation(0x02, "NO_FINGER", "请将手指平放在采集窗口"),
    Confirmation(0x03, "CAPTURE_FAILED", "指纹采集失败，请将手指平放在采集窗口并保持不动后重试"),
    Confirmation(0x04, "TOO_DRY", "手指太干，请擦拭湿润后重试"),
    Confirmation(0x05, "TOO_WET", "手指太湿，请擦干后重试"),
    Confirmation(0x06, "TOO_MESSY", "指纹图像不清晰，请清洁采集窗口和手指后重新按压"),
    Confirmation(0x07, "TOO_FEW_FEATURES", "指纹特征太少，请将手指平放并稍加用力后重新按压"),
    Confirmation(0x08, "NO_MATCH", "指纹不匹配"),
    Confirmation(0x09, "NOT_FOUND", "指纹库中没有找到该指纹"),
    Confirmation(0x0A, "MERGE_FAILED", "两次按压不是同一手指，请重新录入"),
    Confirmation(0x0B, "SLOT_OUT_OF_RANGE", "指纹编号超出指纹库范围，请检查编号"),
    Confirmation(0x0C, "TEMPLATE_INVALID", "指纹模板读取失败或无效，请重新录入该指纹"),
    Confirmation(0x0D, "TEMPLATE_UPLOAD_FAILED", "从指纹模块读取模板失败，请重试"),
    Confirmation(0x0E, "RECEIVE_FAILED", "指纹模块无法接收后续数据，请重试"),
    Confirmation(0x0F, "IMAGE_UPLOAD_FAILED", "从指纹模块读取图像失败，请重试"),
    Confirmation(0x10, "DELETE_FAILED", "删除指纹失败，请重试"),
    Confirmation(0x11, "EMPTY_FAILED", "清空指纹库失败，请重试"),
    Confirmation(0x13, "WRONG_PASSWORD", "指纹模块口令错误，请在“设备设置”中填写正确的模块口令"),
    Confirmation(0x15, "NO_VALID_IMAGE", "没有采集到有效的指纹图像，请重新按压手指"),
    Confirmation(0x17, "FINGER_NOT_MOVED", "两次采集之间手指没有移开，请抬起手指后再次按压"),
    Confirmation(0x18, "FLASH_ERROR", "指纹模块存储器读写出错，请重试；多次出现请更换模块"),
    Confirmation(0x1A, "INVALID_REGISTER", "指纹模块不支持该参数设置"),
    Confirmation(0x1F, "LIBRARY_FULL", "指纹库已满，请删除不再使用的指纹后再录入"),
    Confirmation(0x20, "WRONG_ADDRESS", "指纹模块地址错误，请在“设备设置”中检查模块地址"),
    Confirmation(0x21, "PASSWORD_REQUIRED", "指纹模块需要先验证口令，请在“设备设置”中填写模块口令"),
    Confirmation(0x22, "TEMPLATE_EMPTY", "指纹模板为空，请重新录入该指纹"),
    Confirmation(0x24, "LIBRARY_EMPTY", "指纹库为空，尚未录入任何指纹"),
    Confirmation(0x26, "MODULE_TIMEOUT", "指纹模块操作超时，请重试"),
    Confirmation(0x27, "ALREADY_EXISTS", "该指纹已经录入，无需重复录入"),
    Confirmation(0x29, "SENSOR_FAULT", "指纹传感器故障，请联系技术人员维修或更换模块"),
    Confirmation(0xF0, "ACK_WITH_DATA", "指纹模块已接收带后续数据的指令"),
    Confirmation(0xF1, "ACK_DATA_COMMAND", "指纹模块已接收后续数据的指令包"),
]

CONFIRMATIONS: dict[int, Confirmation] = {c.code: c for c in _TABLE}


def describe(code: int) -> Confirmation:
    """The table entry, or a generic one naming the hex code so a technician can look it up."""
    known = CONFIRMATIONS.get(code)
    if known is not None:
        return known
    return Confirmation(
        code,
        f"UNKNOWN_{code:02X}",
        f"指纹模块报告未知错误（代码 0x{code:02X}），请重试；多次出现请联系技术人员",
    )
