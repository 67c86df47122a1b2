"""Vocabulary of the approval engine: levels, gates, statuses, actions, screening.

The words are explained in docs/glossary.md: The approval flow."""

from shared.enums import LabelledEnum


class AuthorityLevel(LabelledEnum):
    """Which tier of the police hierarchy acts on a step; routing uses the applicant's region."""

    county = ("county", "县级")
    city = ("city", "市级")
    province = ("province", "省级")


class Gate(LabelledEnum):
    """A condition the server checks before a step may be approved (docs/glossary.md:
    The approval flow)."""

    screening = ("screening", "人员背景审查")
    fingerprint_card = ("fingerprint_card", "指纹卡号")
    payment = ("payment", "缴费确认")


class ApplicationStatus(LabelledEnum):
    in_review = ("in_review", "审批中")
    returned = ("returned", "已退回申请人")
    approved = ("approved", "审批通过")
    withdrawn = ("withdrawn", "已撤回")


class ApprovalAction(LabelledEnum):
    """What a log entry records; the label is what the progress view shows."""

    submit = ("submit", "提交申请")
    resubmit = ("resubmit", "重新提交")
    approve = ("approve", "同意")
    reject = ("reject", "不同意")
    assign = ("assign", "指派")
    take = ("take", "认领")
    reassign = ("reassign", "改派")
    release = ("release", "收回")
    return_back = ("return_back", "退回上一步")
    screening = ("screening", "背景审查")
    fingerprint = ("fingerprint", "录入指纹卡号")
    fingerprint_duplicate = ("fp_duplicate", "指纹重复，拒绝录入")
    payment = ("payment", "缴费确认")


class OpinionVisibility(LabelledEnum):
    internal = ("internal", "仅对内可见")
    external = ("external", "对外可见")


class PersonRole(LabelledEnum):
    """The part a person plays in an application; each one is screened at level one."""

    applicant = ("applicant", "申请人")
    legal_rep = ("legal_rep", "法定代表人")
    principal = ("principal", "主要负责人")
    proposed_legal_rep = ("proposed_legal_rep", "拟任法定代表人")


class ApplicantKind(LabelledEnum):
    unit = ("unit", "单位")
    person = ("person", "个人")


class ScreeningCategory(LabelledEnum):
    """The checks against the police databases (公安四大库) that [004] lists."""

    criminal_record = ("criminal_record", "刑事犯罪")
    detention_education = ("detention_education", "收容收教")
    drug_rehabilitation = ("drug_rehabilitation", "强制戒毒")
    wanted_fugitive = ("wanted_fugitive", "网上逃犯")
    mental_illness_incident = ("mental_illness_incident", "肇事肇祸精神病")


class ScreeningOutcome(LabelledEnum):
    clear = ("clear", "未见异常")
    hit = ("hit", "命中")
    error = ("error", "查询失败")


class InboxBox(LabelledEnum):
    pending = ("pending", "待我审批")
    done = ("done", "我已审批")


class MaterialKind(LabelledEnum):
    pdf = ("application/pdf", "PDF")
    jpeg = ("image/jpeg", "JPEG 图片")
    png = ("image/png", "PNG 图片")


FINGERPRINT_CARD_PATTERN = r"^ZW\d{6}\d{10}$"
"""A fingerprint card number (指纹卡号): ``ZW`` + the enrolling station's 6-digit region code +
a 10-digit serial, e.g. ``ZW3301020000000042``. The server issues it when a station enrols the
applicant's finger on its module (serial per region, gap-free); a station enrolling on another
system types the number that system issued."""


class FingerprintMatchVerdict(LabelledEnum):
    """What a hit of the module's library search means for the applicant being enrolled."""

    duplicate = ("duplicate", "该指纹已登记在他人名下")
    same_person = ("same_person", "该指纹已登记在本人名下")
    unknown = ("unknown", "指纹库中的该记录未在系统登记")


class ApplicationSource(LabelledEnum):
    """Where an application came in (``applications.source``): filed on the extranet portal and
    brought by sync (with the portal's ``external_ref``), taken in on the intranet, or opened by
    the system itself (D14)."""

    extranet = ("extranet", "外网门户")
    intranet = ("intranet", "内网受理")
    system = ("system", "系统生成")


def source_label(source: str) -> str:
    """The Chinese label of a stored source; one this build does not know shows as is."""
    try:
        return ApplicationSource(source).label
    except ValueError:
        return source
