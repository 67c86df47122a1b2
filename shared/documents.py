"""The documents a final approval issues (docs/glossary.md: Documents) and how they are numbered.

Which business type yields which document:

- licences: ``company_licence`` and ``foreign_company_licence`` → 保安服务许可证,
  ``training_licence`` → 保安培训许可证;
- ``guard_exam_enrolment`` → nothing here. Approving the enrolment only admits the person to the
  qualification exam; the 保安员证 is issued by the certificate module after the exam is passed,
  with numbers of its own, so no document is made at this point;
- ``guard_certificate`` (制证审批) → nothing here either: its approval issues the 保安员证 record
  through the certificate module (``server/services/certificates/from_review.py``);
- filings → 备案证明, except ``self_recruit_revocation`` (撤销备案证明, it proves the end of a
  filing) and ``commendation`` (表彰证书, a reward rather than a filing);
- changes (``licence_item_change``, ``legal_rep_change``) → 变更证明. The licence keeps its number;
  the change certificate names it and states what changed, so a licence is never renumbered.

Numbers read like the 发文字号 on real licences: province abbreviation, 公 (public security),
the kind's code, 字, the year in 〔〕 and a serial restarting every year per kind, e.g.
``浙公保服字〔2026〕第000123号``. The QR code on a document carries ``SGSS:<number>:<code>`` where
the code is the first 16 hex digits of the document's HMAC digest.
"""

from shared.enums import BusinessType, LabelledEnum


class DocumentKind(LabelledEnum):
    service_licence = ("service_licence", "保安服务许可证")
    training_licence = ("training_licence", "保安培训许可证")
    filing_certificate = ("filing_certificate", "备案证明")
    revocation_certificate = ("revocation_certificate", "撤销备案证明")
    commendation_certificate = ("commendation_certificate", "表彰证书")
    change_certificate = ("change_certificate", "变更证明")

    @property
    def code(self) -> str:
        """The two characters of the number that name the kind (保服 in 浙公保服字…)."""
        return _CODES[self]


_CODES = {
    DocumentKind.service_licence: "保服",
    DocumentKind.training_licence: "保培",
    DocumentKind.filing_certificate: "保备",
    DocumentKind.revocation_certificate: "保撤",
    DocumentKind.commendation_certificate: "保奖",
    DocumentKind.change_certificate: "保变",
}

_KIND_OF: dict[BusinessType, DocumentKind | None] = {
    BusinessType.company_licence: DocumentKind.service_licence,
    BusinessType.foreign_company_licence: DocumentKind.service_licence,
    BusinessType.training_licence: DocumentKind.training_licence,
    BusinessType.guard_exam_enrolment: None,
    BusinessType.branch_filing: DocumentKind.filing_certificate,
    BusinessType.self_recruit_filing: DocumentKind.filing_certificate,
    BusinessType.self_recruit_revocation: DocumentKind.revocation_certificate,
    BusinessType.cross_region_filing: DocumentKind.filing_certificate,
    BusinessType.annual_report_filing: DocumentKind.filing_certificate,
    BusinessType.client_unit_filing: DocumentKind.filing_certificate,
    BusinessType.commendation: DocumentKind.commendation_certificate,
    BusinessType.licence_item_change: DocumentKind.change_certificate,
    BusinessType.legal_rep_change: DocumentKind.change_certificate,
    BusinessType.guard_certificate: None,
}


def kind_for(business_type: BusinessType) -> DocumentKind | None:
    """The document a final approval of ``business_type`` issues; None when it issues none."""
    return _KIND_OF[business_type]


PROVINCE_ABBREVIATIONS: dict[str, str] = {
    "11": "京", "12": "津", "13": "冀", "14": "晋", "15": "蒙",
    "21": "辽", "22": "吉", "23": "黑",
    "31": "沪", "32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣", "37": "鲁",
    "41": "豫", "42": "鄂", "43": "湘", "44": "粤", "45": "桂", "46": "琼",
    "50": "渝", "51": "川", "52": "黔", "53": "滇", "54": "藏",
    "61": "陕", "62": "甘", "63": "青", "64": "宁", "65": "新",
    "71": "台", "81": "港", "82": "澳",
}  # fmt: skip


def document_number(region_code: str, kind: DocumentKind, year: int, serial: int) -> str:
    """``浙公保服字〔2026〕第000123号`` for a Zhejiang service licence, the 123rd of 2026."""
    province = PROVINCE_ABBREVIATIONS[region_code[:2]]
    return f"{province}公{kind.code}字〔{year}〕第{serial:06d}号"


QR_PREFIX = "SGSS"
CODE_LENGTH = 16


def verification_code(digest: str) -> str:
    """What is printed and put in the QR code: enough of the digest that guessing is hopeless."""
    return digest[:CODE_LENGTH]


def qr_payload(number: str, digest: str) -> str:
    return f"{QR_PREFIX}:{number}:{verification_code(digest)}"


def parse_qr_payload(text: str) -> tuple[str, str] | None:
    """``(number, code)`` from a scanned QR code, or None when it is not one of ours."""
    prefix, _, rest = text.strip().partition(":")
    number, _, code = rest.rpartition(":")
    if prefix != QR_PREFIX or not number or not code:
        return None
    return number, code
