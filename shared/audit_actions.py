"""The audit log's vocabulary: every action the server writes and every kind of object it
writes about, each with the Chinese label the audit page shows and filters by.

``server.services.audit.record`` accepts only members of these enums, so an action cannot be
written before it has a label here; ``readable`` turns a record's before/after into the text a
clerk reads.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING

from shared.approvals import ApplicationStatus
from shared.documents import DocumentKind
from shared.enums import BusinessType, LabelledEnum

if TYPE_CHECKING:
    from shared.approvals import ApprovalAction


class AuditAction(LabelledEnum):
    """``MEMBER = ("area.verb", "中文")``: the value is what the log stores and the API filters."""

    AUTH_LOGIN = ("auth.login", "登录")
    AUTH_LOGIN_FAILED = ("auth.login_failed", "登录失败")
    AUTH_LOCKOUT = ("auth.lockout", "账号锁定")
    AUTH_THROTTLED = ("auth.throttled", "登录限流")
    AUTH_LOGOUT = ("auth.logout", "退出登录")
    AUTH_VERIFICATION_CODE_SENT = ("auth.verification_code_sent", "发送验证码")
    USER_CREATE = ("user.create", "新增用户")
    USER_UPDATE = ("user.update", "修改用户")
    USER_PASSWORD_CHANGED = ("user.password_changed", "修改密码")
    USER_PASSWORD_RESET = ("user.password_reset", "重置密码")
    USER_UNLOCK = ("user.unlock", "解锁账号")
    ORG_CREATE = ("org.create", "新增机构")
    ORG_UPDATE = ("org.update", "修改机构")
    ORG_DELETE = ("org.delete", "删除机构")
    ROLE_CREATE = ("role.create", "新增角色")
    ROLE_UPDATE = ("role.update", "修改角色")
    ROLE_DELETE = ("role.delete", "删除角色")
    DEMO_GENERATE = ("demo.generate", "生成演示数据")
    SCREENING_RUN = ("screening.run", "人员背景审查")
    WATCHLIST_IMPORT = ("screening.watchlist_import", "导入背景审查比对名单")
    MATERIAL_UPLOAD = ("material.upload", "上传申请材料")
    WORKFLOW_PUBLISH = ("workflow.publish", "发布审批流程")
    DOCUMENT_ISSUE = ("document.issue", "签发许可证或证明")
    DOCUMENT_PRINT = ("document.print", "打印许可证或证明")
    APPLICATION_SUBMIT = ("application.submit", "提交申请")
    APPLICATION_RESUBMIT = ("application.resubmit", "重新提交申请")
    APPLICATION_APPROVE = ("application.approve", "审批同意")
    APPLICATION_REJECT = ("application.reject", "审批不同意")
    APPLICATION_ASSIGN = ("application.assign", "指派审批环节")
    APPLICATION_RETURN_BACK = ("application.return_back", "退回上一审批环节")
    APPLICATION_FINGERPRINT = ("application.fingerprint", "录入指纹卡号")
    APPLICATION_FINGERPRINT_DUPLICATE = ("application.fingerprint_duplicate", "指纹重复，拒绝录入")
    APPLICATION_PAYMENT = ("application.payment", "缴费确认")
    APPLICATION_PRINT = ("application.print", "打印申请材料及审批进度")
    APPLICATION_REASSIGN = ("application.reassign", "收回、认领或改派审批环节")
    APPLICATION_RELEASE = ("application.release", "被指派人不能办理，审批环节退回本单位")
    EXAM_CREATE = ("exam.create", "新增考试")
    EXAM_UPDATE = ("exam.update", "修改考试安排")
    EXAM_CANCEL = ("exam.cancel", "取消考试")
    EXAM_PUBLISH = ("exam.publish", "发布考试安排")
    EXAM_CANDIDATES_ADD = ("exam.candidates_add", "添加考生")
    EXAM_CANDIDATES_REMOVE = ("exam.candidates_remove", "移除考生")
    CERTIFICATE_ISSUE = ("certificate.issue", "发放保安员证")
    CERTIFICATE_REISSUE = ("certificate.reissue", "补发保安员证")
    CERTIFICATE_CORRECT = ("certificate.correct", "更正换发保安员证")
    CERTIFICATE_REVOKE = ("certificate.revoke", "吊销保安员证")
    CERTIFICATE_CANCEL = ("certificate.cancel", "注销保安员证")
    CERTIFICATE_REPRINT = ("certificate.reprint", "补打保安员证")
    CERTIFICATE_KEY_CREATE = ("certificate.key_create", "生成证书签名密钥")
    CERTIFICATE_KEY_ROTATE = ("certificate.key_rotate", "轮换证书签名密钥")
    CERTIFICATE_LOOKUP_THROTTLED = ("certificate.lookup_throttled", "证书公开查询限流")
    EXAM_CERTIFICATE_REVIEWS = ("exam.certificate_reviews", "考试合格人员进入制证审批")
    EXAM_SCORES_IMPORT = ("exam.scores_import", "导入考试成绩")
    EXAM_SCORES_UPDATE = ("exam.scores_update", "录入考试成绩")
    EXAM_SCORES_NOTIFY = ("exam.scores_notify", "通知成绩")
    EXAM_SCORES_AMEND = ("exam.scores_amend", "更正成绩")
    CERTIFICATE_PRINT = ("certificate.print", "打印保安员证")
    CERTIFICATE_PRINT_FAILED = ("certificate.print_failed", "保安员证打印未完成")
    EXAM_CERTIFICATE_REVIEW_REOPEN = ("exam.certificate_review_reopen", "重新提交制证审批")
    SYNC_KEY_CREATE = ("sync.key_create", "生成同步签名密钥")
    SYNC_KEY_REPLACE = ("sync.key_replace", "更换同步签名密钥")
    SYNC_PEER_KEY_ADD = ("sync.peer_key_add", "登记外网门户公钥")
    SYNC_PEER_KEY_RETIRE = ("sync.peer_key_retire", "停用外网门户公钥")
    SYNC_BUNDLE_RECHECK = ("sync.bundle_recheck", "重新核验同步包")
    SYNC_BUNDLE_DISCARD = ("sync.bundle_discard", "丢弃被隔离的同步包")
    SYNC_RUN = ("sync.run", "立即同步")
    SYNC_RECORD_REJECT = ("sync.record_reject", "退回无法应用的外网记录")

    @classmethod
    def of_application(cls, action: "ApprovalAction") -> "AuditAction":
        """The audit action for a step of the approval engine: ``application.<its name>``.

        Raises ``ValueError`` for an engine action that has no audit action (and label) yet."""
        return cls(f"application.{action.name}")


class AuditEntity(LabelledEnum):
    """What kind of object a record is about (``entity_type``)."""

    USER = ("user", "用户")
    ORG = ("org", "机构")
    ROLE = ("role", "角色")
    APPLICATION = ("application", "申请")
    MATERIAL = ("material", "申请材料")
    DOCUMENT = ("document", "许可证或证明")
    WATCH_LIST = ("watch_list", "背景审查比对名单")
    WORKFLOW_DEFINITION = ("workflow_definition", "审批流程")
    SIGN_IN = ("sign_in", "登录")
    DATABASE = ("database", "数据库")
    EXAM = ("exam", "考试")
    CERTIFICATE = ("certificate", "保安员证")
    CERTIFICATE_KEY = ("certificate_key", "证书签名密钥")
    SYNC_KEY = ("sync_key", "同步签名密钥")
    SYNC_PEER_KEY = ("sync_peer_key", "外网门户公钥")
    SYNC_BUNDLE = ("sync_bundle", "同步包")
    SYNC = ("sync", "内外网数据同步")


def action_label(action: str) -> str:
    """The Chinese label of a stored action; an action this desk does not know shows as is."""
    try:
        return AuditAction(action).label
    except ValueError:
        return action


def entity_label(entity_type: str) -> str:
    try:
        return AuditEntity(entity_type).label
    except ValueError:
        return entity_type


FIELD_LABELS: Mapping[str, str] = {
    "name": "名称",
    "username": "用户名",
    "full_name": "姓名",
    "status": "状态",
    "org_id": "所属机构",
    "parent_id": "上级机构",
    "type": "类型",
    "region_code": "所属区域",
    "role_ids": "自定义角色",
    "approval_roles": "业务审批角色",
    "permissions": "操作权限",
    "data_scope": "数据范围",
    "enabled": "启用",
    "locked": "锁定",
    "mobile": "联系手机",
    "phone": "联系电话",
    "address": "地址",
    "step": "审批环节",
    "assignee": "被指派人",
    "assignee_id": "被指派人编号",
    "version": "版本",
    "business_type": "业务类型",
    "applicant_name": "申请人",
    "reason": "原因",
    "ip": "IP地址",
    "number": "编号",
    "round": "轮次",
    "application_id": "申请ID",
    "application_number": "申请编号",
    "title": "材料名称",
    "filename": "文件名",
    "media_type": "文件类型",
    "size": "大小",
    "sha256": "校验值",
    "provider": "审查来源",
    "persons": "审查人数",
    "hits": "命中",
    "errors": "未能审查",
    "opinion": "意见",
    "kind": "证件种类",
    "holder_name": "持证人",
    "issued_by": "发证机关",
    "source_name": "定义文件",
    "source_text": "定义内容",
    "fingerprint_card_no": "指纹卡号",
    "failed_attempts": "连续失败次数",
    "other_application": "已登记的申请",
    "device_id": "采集设备",
    "slot": "指纹库位置",
    "score": "比对分数",
    "seed": "随机种子",
    "orgs": "机构数",
    "users": "用户数",
    "roles": "角色数",
    "starts_at": "开始时间",
    "ends_at": "结束时间",
    "seats": "考位数",
    "pass_rule": "成绩合格标准",
    "application_ids": "报名ID",
    "candidates": "考生人数",
    "edition": "证书版次",
    "basis": "法律依据",
    "key_id": "密钥编号",
    "new_certificate_id": "新证书ID",
    "id_number_masked": "身份证号（部分隐藏）",
    "admission_number": "准考证号",
    "absent": "缺考",
    "scores": "成绩",
    "result": "考试结果",
    "scored": "参考人数",
    "passed": "合格人数",
    "failed": "不合格人数",
    "unchanged": "未变化",
    "written": "写入人数",
    "notified": "通知人数",
    "public_key": "公钥",
    "retired_at": "停用时间",
    "summary": "同步结果",
}
"""Chinese names for the fields that recur in before/after; others show under their own key."""

LOGIN_FAILURE_REASONS: Mapping[str, str] = {
    "wrong_password": "密码错误",
    "unknown_user": "用户名不存在",
    "disabled": "账号已停用",
}

VALUE_LABELS: Mapping[str, Mapping[str, str]] = {
    "business_type": {m.value: m.label for m in BusinessType},
    "status": {m.value: m.label for m in ApplicationStatus},
    "kind": {m.value: m.label for m in DocumentKind},
    "reason": LOGIN_FAILURE_REASONS,
}
"""Codes stored under a field, in Chinese (a code not listed, or free text, shows as stored)."""


def readable(value: object) -> str:
    """A record's before or after as one line a clerk reads: ``名称：某某；状态：启用``.

    Nested values are shown the same way in brackets, lists joined by ``、``, yes/no in
    Chinese, nothing for an absent value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Mapping):
        parts = [
            f"{FIELD_LABELS.get(str(k), str(k))}：{_nested(_value_label(str(k), v))}"
            for k, v in value.items()
        ]
        return "；".join(parts)
    if isinstance(value, list | tuple):
        return "、".join(_nested(v) for v in value)
    return str(value)


def _value_label(field: str, value: object) -> object:
    if isinstance(value, str):
        return VALUE_LABELS.get(field, {}).get(value, value)
    return value


def _nested(value: object) -> str:
    text = readable(value)
    if isinstance(value, Mapping) and value:
        return f"（{text}）"
    return text or "无"
