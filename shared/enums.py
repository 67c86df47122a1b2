"""Closed vocabularies of the domain, each with the Chinese label clerks know."""

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members carry a Chinese label: `Member = ("value", "标签")`."""

    label: str

    def __new__(cls, value: str, label: str = "") -> "LabelledEnum":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class BusinessType(LabelledEnum):
    """The business types of the general approval inbox (docs/glossary.md: Business types):
    thirteen an applicant files, and those the system opens itself (``SYSTEM_OPENED``)."""

    company_licence = ("company_licence", "保安服务公司设立许可")
    foreign_company_licence = ("foreign_company_licence", "外资保安服务公司设立许可")
    training_licence = ("training_licence", "设立保安培训单位审批")
    guard_exam_enrolment = ("guard_exam_enrolment", "保安员资格证考试报名")
    branch_filing = ("branch_filing", "保安服务公司设立分公司备案")
    self_recruit_filing = ("self_recruit_filing", "自行招用保安员单位备案")
    self_recruit_revocation = ("self_recruit_revocation", "自行招用保安员单位撤销备案")
    cross_region_filing = ("cross_region_filing", "跨省（自治区、直辖市）提供保安服务备案")
    annual_report_filing = ("annual_report_filing", "保安服务公司年度报告备案")
    client_unit_filing = ("client_unit_filing", "自招单位客户单位备案")
    commendation = ("commendation", "表彰奖励")
    licence_item_change = ("licence_item_change", "保安服务（培训）许可证项目变更")
    legal_rep_change = ("legal_rep_change", "保安服务公司法定代表人变更")
    guard_certificate = ("guard_certificate", "保安员证制证审批")


SYSTEM_OPENED: frozenset[BusinessType] = frozenset({BusinessType.guard_certificate})
"""Types the server opens itself (D14): 制证审批 opens for each candidate who passed when the
scores are notified. Nobody files them: intake answers BUSINESS_TYPE_NOT_FILEABLE."""

APPLICANT_TYPES: tuple[BusinessType, ...] = tuple(b for b in BusinessType if b not in SYSTEM_OPENED)
"""The types an applicant files (intake, the extranet), in declaration order."""


class ApprovalRole(LabelledEnum):
    """Business approval roles a user may hold per business type.

    The approval log of seed 001 §4.1.2 shows these positions; the process definitions
    (approval engine) map each step to one of them.
    """

    county_clerk = ("county_clerk", "县级经办民警")
    county_leader = ("county_leader", "县级领导")
    city_clerk = ("city_clerk", "市经办民警")
    city_security_leader = ("city_security_leader", "市保安处领导")
    city_public_order_leader = ("city_public_order_leader", "市治安局领导")
    city_bureau_leader = ("city_bureau_leader", "市局领导")
    province_clerk = ("province_clerk", "省厅民警")
    province_section_chief = ("province_section_chief", "省厅科长")
    province_division_leader = ("province_division_leader", "省厅保安处领导")


class OrgType(LabelledEnum):
    """Kinds of organisation node. `rank` orders the hierarchy; offices sit anywhere."""

    province_department = ("province_department", "省级公安厅")
    city_bureau = ("city_bureau", "市级公安局")
    county_bureau = ("county_bureau", "县（区）级公安（分）局")
    police_station = ("police_station", "派出所")
    office = ("office", "内设部门")

    @property
    def rank(self) -> int | None:
        return _ORG_RANK.get(self)


_ORG_RANK = {
    OrgType.province_department: 1,
    OrgType.city_bureau: 2,
    OrgType.county_bureau: 3,
    OrgType.police_station: 4,
}


class DataScopeKind(LabelledEnum):
    """How far a role sees (seed 001 §2.2.3)."""

    own_org = ("own_org", "所在机构数据")
    own_subtree = ("own_subtree", "所在机构及下级机构数据")
    orgs = ("orgs", "指定机构数据")
    all = ("all", "全部数据")
