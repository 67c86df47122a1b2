"""The application form of each business type (申请表), and who must be named on it.

Field titles are the labels of the source manuals' forms; the client renders a form from these
titles and the server validates every submission against the same model.
"""

from datetime import date
from typing import Any

from pydantic import ConfigDict, Field, ValidationError

from shared.approvals import PersonRole
from shared.enums import BusinessType
from shared.schemas.common import INT32_MAX, Input

CREDIT_CODE = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"


class _Form(Input):
    """Strict: no field of another form, no NUL (``Input``), finite numbers."""

    model_config = ConfigDict(extra="forbid", from_attributes=False)


class _UnitForm(_Form):
    unit_name: str = Field(min_length=2, max_length=100, title="单位名称")
    credit_code: str = Field(pattern=CREDIT_CODE, title="统一社会信用代码")
    address: str = Field(min_length=2, max_length=200, title="住所")
    phone: str = Field(min_length=5, max_length=32, title="联系电话")


class CompanyLicenceForm(_UnitForm):
    registered_capital_wan: float = Field(gt=0, le=INT32_MAX, title="注册资本（万元）")
    service_scope: str = Field(min_length=2, max_length=500, title="服务范围")
    staff_planned: int = Field(ge=0, le=INT32_MAX, title="拟招用保安员人数")


class ForeignCompanyLicenceForm(CompanyLicenceForm):
    foreign_investor: str = Field(min_length=2, max_length=200, title="外方投资者")
    foreign_share_percent: float = Field(gt=0, le=100, title="外资比例（%）")


class TrainingLicenceForm(_UnitForm):
    procedure: str = Field(default="一般程序", pattern="^(一般程序|告知承诺)$", title="办理程序")
    training_scope: str = Field(min_length=2, max_length=500, title="培训范围")
    classroom_area_m2: float = Field(gt=0, le=INT32_MAX, title="教学场所面积（平方米）")
    teachers: int = Field(ge=1, le=INT32_MAX, title="专职教员人数")


class GuardExamEnrolmentForm(_Form):
    gender: str = Field(pattern="^(男|女)$", title="性别")
    education: str = Field(min_length=1, max_length=20, title="文化程度")
    address: str = Field(min_length=2, max_length=200, title="户籍地址")
    employer: str | None = Field(default=None, max_length=100, title="所在单位")
    training_unit: str | None = Field(default=None, max_length=100, title="培训单位")


class BranchFilingForm(_UnitForm):
    branch_name: str = Field(min_length=2, max_length=100, title="分公司名称")
    branch_address: str = Field(min_length=2, max_length=200, title="分公司住所")


class SelfRecruitFilingForm(_UnitForm):
    guards: int = Field(ge=1, le=INT32_MAX, title="自行招用保安员人数")
    posts: str = Field(min_length=2, max_length=500, title="保安服务岗位")


class SelfRecruitRevocationForm(_UnitForm):
    filing_number: str = Field(min_length=4, max_length=40, title="原备案证明编号")
    reason: str = Field(min_length=2, max_length=500, title="撤销原因")


class CrossRegionFilingForm(_UnitForm):
    licence_number: str = Field(min_length=4, max_length=40, title="保安服务许可证号")
    target_province: str = Field(pattern=r"^\d{2}0000$", title="服务所在省份代码")
    client_name: str = Field(min_length=2, max_length=100, title="服务对象")
    start: date = Field(title="服务开始日期")
    end: date = Field(title="服务结束日期")


class AnnualReportFilingForm(_UnitForm):
    year: int = Field(ge=2000, le=2100, title="报告年度")
    guards: int = Field(ge=0, le=INT32_MAX, title="在职保安员人数")
    clients: int = Field(ge=0, le=INT32_MAX, title="服务客户单位数")
    revenue_wan: float = Field(ge=0, le=INT32_MAX, title="营业收入（万元）")


class ClientUnitFilingForm(_UnitForm):
    client_name: str = Field(min_length=2, max_length=100, title="客户单位名称")
    client_tier: int = Field(ge=1, le=3, title="服务对象等级")
    guards: int = Field(ge=1, le=INT32_MAX, title="派驻保安员人数")


class CommendationForm(_UnitForm):
    nominee: str = Field(min_length=2, max_length=100, title="表彰对象")
    deeds: str = Field(min_length=2, max_length=2000, title="主要事迹")


class LicenceItemChangeForm(_UnitForm):
    licence_number: str = Field(min_length=4, max_length=40, title="许可证号")
    item: str = Field(min_length=2, max_length=50, title="变更事项")
    old_value: str = Field(min_length=1, max_length=500, title="变更前")
    new_value: str = Field(min_length=1, max_length=500, title="变更后")


class LegalRepChangeForm(_UnitForm):
    licence_number: str = Field(min_length=4, max_length=40, title="保安服务许可证号")
    current_legal_rep: str = Field(min_length=2, max_length=50, title="原法定代表人")
    reason: str = Field(min_length=2, max_length=500, title="变更原因")


class GuardCertificateForm(_Form):
    """制证审批: what the server copies from the passed enrolment and its exam when it opens the
    review (nobody types it); the card states the holder's particulars as given here."""

    holder_name: str = Field(min_length=1, max_length=50, title="姓名")
    gender: str = Field(pattern="^(男|女)$", title="性别")
    birth_date: date = Field(title="出生日期")
    id_number: str = Field(pattern=r"^\d{17}[\dX]$", title="公民身份号码")
    exam_id: int = Field(ge=1, le=INT32_MAX, title="考试编号")
    exam_name: str = Field(min_length=1, max_length=100, title="考试名称")
    admission_number: str | None = Field(default=None, max_length=32, title="准考证号")
    result: str = Field(min_length=1, max_length=16, title="考试结果")
    score_summary: str = Field(min_length=1, max_length=200, title="考试成绩")
    enrolment_application_id: int = Field(ge=1, le=INT32_MAX, title="报名申请编号")
    enrolment_number: str = Field(min_length=1, max_length=32, title="报名申请号")


FORMS: dict[BusinessType, type[_Form]] = {
    BusinessType.company_licence: CompanyLicenceForm,
    BusinessType.foreign_company_licence: ForeignCompanyLicenceForm,
    BusinessType.training_licence: TrainingLicenceForm,
    BusinessType.guard_exam_enrolment: GuardExamEnrolmentForm,
    BusinessType.branch_filing: BranchFilingForm,
    BusinessType.self_recruit_filing: SelfRecruitFilingForm,
    BusinessType.self_recruit_revocation: SelfRecruitRevocationForm,
    BusinessType.cross_region_filing: CrossRegionFilingForm,
    BusinessType.annual_report_filing: AnnualReportFilingForm,
    BusinessType.client_unit_filing: ClientUnitFilingForm,
    BusinessType.commendation: CommendationForm,
    BusinessType.licence_item_change: LicenceItemChangeForm,
    BusinessType.legal_rep_change: LegalRepChangeForm,
    BusinessType.guard_certificate: GuardCertificateForm,
}

_UNIT_PEOPLE = frozenset({PersonRole.legal_rep})
REQUIRED_PERSONS: dict[BusinessType, frozenset[PersonRole]] = {
    BusinessType.company_licence: frozenset({PersonRole.legal_rep, PersonRole.principal}),
    BusinessType.foreign_company_licence: frozenset({PersonRole.legal_rep, PersonRole.principal}),
    BusinessType.training_licence: frozenset({PersonRole.legal_rep, PersonRole.principal}),
    BusinessType.guard_exam_enrolment: frozenset({PersonRole.applicant}),
    BusinessType.branch_filing: frozenset({PersonRole.principal}),
    BusinessType.self_recruit_filing: frozenset({PersonRole.legal_rep, PersonRole.principal}),
    BusinessType.self_recruit_revocation: _UNIT_PEOPLE,
    BusinessType.cross_region_filing: frozenset({PersonRole.legal_rep, PersonRole.principal}),
    BusinessType.annual_report_filing: _UNIT_PEOPLE,
    BusinessType.client_unit_filing: _UNIT_PEOPLE,
    BusinessType.commendation: _UNIT_PEOPLE,
    BusinessType.licence_item_change: _UNIT_PEOPLE,
    BusinessType.legal_rep_change: frozenset({PersonRole.legal_rep, PersonRole.proposed_legal_rep}),
    BusinessType.guard_certificate: frozenset({PersonRole.applicant}),
}


def form_problems(business_type: BusinessType, data: dict[str, Any]) -> list[dict[str, str]]:
    """Each problem as ``{"field", "label", "message"}``; empty when the form is valid."""
    model = FORMS[business_type]
    try:
        model.model_validate(data)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            info = model.model_fields.get(field)
            label = info.title if info is not None and info.title else field
            problems.append({"field": field, "label": label, "message": _message(error)})
        return problems
    return []


def normalised_form(business_type: BusinessType, data: dict[str, Any]) -> dict[str, Any]:
    return FORMS[business_type].model_validate(data).model_dump(mode="json")


def _message(error: Any) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "必填"
    if kind == "extra_forbidden":
        return "不是该业务申请表的字段"
    if kind.startswith("string_pattern"):
        return "格式不正确"
    if kind in ("string_too_short", "string_too_long"):
        return "长度不符合要求"
    if kind.startswith(("greater", "less")):
        return "数值超出范围"
    return "内容无效"
