"""The 保安员证 (guard certificate) vocabulary both sides share: statuses, lifecycle events,
their reasons, and the numbering rule.

Numbering (docs/certificates.md): one rule per deployment, i.e. per province, written as a
Python format string over ``province`` (the province's one-character abbreviation, 浙),
``region`` (its six-digit code), ``year`` (the Beijing-time year of issue) and ``serial``
(the gap-free counter). The default ``{province}{year}{serial:08d}`` gives ``浙202600000001``:
no spaces or separators, so it reads the same on the card, in the QR and when typed into the
public lookup. The counter restarts each year when the rule contains ``{year``.
"""

from shared.enums import LabelledEnum

DEFAULT_NUMBER_FORMAT = "{province}{year}{serial:08d}"
PHOTO_TITLE = "证件照"
"""The title of the material that is the holder's photo: an enrolment's JPEG or PNG material
whose title starts with it reaches the card (``Certificate.photo_ref``, its SHA-256)."""
NUMBER_MAX_LENGTH = 40

PROVINCE_ABBREVIATIONS: dict[str, str] = {
    "11": "京",
    "12": "津",
    "13": "冀",
    "14": "晋",
    "15": "蒙",
    "21": "辽",
    "22": "吉",
    "23": "黑",
    "31": "沪",
    "32": "苏",
    "33": "浙",
    "34": "皖",
    "35": "闽",
    "36": "赣",
    "37": "鲁",
    "41": "豫",
    "42": "鄂",
    "43": "湘",
    "44": "粤",
    "45": "桂",
    "46": "琼",
    "50": "渝",
    "51": "川",
    "52": "黔",
    "53": "滇",
    "54": "藏",
    "61": "陕",
    "62": "甘",
    "63": "青",
    "64": "宁",
    "65": "新",
    "71": "台",
    "81": "港",
    "82": "澳",
}
"""Province (first two digits of the region code) → the abbreviation that starts a number."""


def province_abbreviation(region_code: str) -> str:
    return PROVINCE_ABBREVIATIONS[region_code[:2]]


def format_number(rule: str, *, region_code: str, year: int, serial: int) -> str:
    """A certificate number by ``rule`` (see the module docstring); ``ValueError`` when the
    rule names anything else or gives a number too long for the column."""
    try:
        number = rule.format(
            province=province_abbreviation(region_code),
            region=region_code,
            year=year,
            serial=serial,
        )
    except (KeyError, IndexError, ValueError) as err:
        raise ValueError(f"证书编号规则无效：{rule}") from err
    if not number or len(number) > NUMBER_MAX_LENGTH or "{" in number:
        raise ValueError(f"证书编号规则无效：{rule}")
    return number


def counter_name(rule: str, *, region_code: str, year: int) -> str:
    """The name of the gap-free counter a rule draws from: one per province, and per year when
    the year is part of the number (otherwise serials would repeat across years)."""
    yearly = "{year" in rule
    return f"certificate:{region_code[:2]}:{year}" if yearly else f"certificate:{region_code[:2]}"


class CertificateStatus(LabelledEnum):
    active = ("active", "有效")
    replaced = ("replaced", "已作废")  # a newer card (补发 or 更正换发) took its place
    revoked = ("revoked", "已吊销")
    cancelled = ("cancelled", "已注销")


class CertificateEventKind(LabelledEnum):
    issue = ("issue", "发证")
    reissue = ("reissue", "补发")
    correct = ("correct", "更正换发")
    revoke = ("revoke", "吊销")
    cancel = ("cancel", "注销")
    reprint = ("reprint", "补打")
    replaced = ("replaced", "作废（已换发新证）")
    printed = ("printed", "打印")
    print_failed = ("print_failed", "打印未完成")


class ReissueReason(LabelledEnum):
    lost = ("lost", "遗失")
    damaged = ("damaged", "损毁")


class CancelReason(LabelledEnum):
    death = ("death", "持证人死亡")
    holder_request = ("holder_request", "持证人申请")
    other = ("other", "其他")


class Gender(LabelledEnum):
    male = ("male", "男")
    female = ("female", "女")


class PrintState(LabelledEnum):
    """Whether the card has left a printer: first printed once (补打 later keeps it 已打印);
    a failed or cancelled first print leaves it 打印未完成, with the reason in its history."""

    not_printed = ("not_printed", "未打印")
    printed = ("printed", "已打印")
    print_failed = ("print_failed", "打印未完成")


class PrintChannel(LabelledEnum):
    """Where the desk sent the card: the server's PDF, the operating system's printer (CR80,
    colour), or the card printer on its serial port (the Evolis direct path, K panel)."""

    pdf = ("pdf", "打印到PDF")
    os = ("os", "系统打印机")
    evolis = ("evolis", "制证机")
