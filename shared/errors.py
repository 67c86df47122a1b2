"""Stable error codes of the API: each member declares its code, HTTP status and the Chinese
message a clerk reads, in one line.

The server answers ``{"code", "message", "details"}``; the client shows ``message``, logs
``code`` and compares codes as members of this enum. A code, once published, never changes
meaning; ``tests/shared/test_catalogues.py`` holds every member to a status and a Chinese message.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    """``NAME = "NAME", status, "中文提示"``: the value is the code on the wire."""

    status: int
    message: str

    def __new__(cls, code: str, status: int, message: str) -> "ErrorCode":
        member = str.__new__(cls, code)
        member._value_ = code
        member.status = status
        member.message = message
        return member

    @classmethod
    def known(cls, code: str) -> "ErrorCode | None":
        """The member whose code is ``code``; None for a code this build does not know."""
        member = cls._value2member_map_.get(code)
        return member if isinstance(member, cls) else None

    VALIDATION_ERROR = "VALIDATION_ERROR", 422, "提交的数据有误，请检查后重试"
    BAD_REQUEST = "BAD_REQUEST", 400, "请求格式不正确，无法解析，请检查后重试"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE", 413, "提交的内容过大"
    NOT_FOUND = "NOT_FOUND", 404, "请求的记录不存在或不在您的数据范围内"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED", 405, "不支持该操作"
    CONFLICT = "CONFLICT", 409, "操作与现有数据冲突"
    STALE_VERSION = "STALE_VERSION", 409, "该记录已被他人修改，请刷新后重试"
    INTERNAL_ERROR = "INTERNAL_ERROR", 500, "服务器内部错误，请联系系统管理员"
    DATABASE_RECONNECTED = (
        "DATABASE_RECONNECTED",
        503,
        "服务器与数据库的连接曾中断，现已恢复，请重试",
    )
    SERVER_BUSY = "SERVER_BUSY", 503, "服务器繁忙，请稍后重试"

    AUTH_REQUIRED = "AUTH_REQUIRED", 401, "请先登录"
    AUTH_INVALID_CREDENTIALS = "AUTH_INVALID_CREDENTIALS", 401, "用户名或密码错误"
    AUTH_ACCOUNT_LOCKED = "AUTH_ACCOUNT_LOCKED", 423, "密码错误次数过多，账号已被锁定"
    AUTH_TOO_MANY_ATTEMPTS = "AUTH_TOO_MANY_ATTEMPTS", 429, "登录尝试过于频繁，请稍后再试"
    AUTH_ACCOUNT_DISABLED = "AUTH_ACCOUNT_DISABLED", 403, "账号已停用，请联系系统管理员"
    AUTH_TOKEN_INVALID = "AUTH_TOKEN_INVALID", 401, "登录状态无效，请重新登录"
    AUTH_TOKEN_EXPIRED = "AUTH_TOKEN_EXPIRED", 401, "登录已过期，请重新登录"
    PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED", 403, "首次登录或密码已重置，请先修改密码"
    PASSWORD_WEAK = "PASSWORD_WEAK", 422, "新密码不符合密码规则"
    PASSWORD_OLD_WRONG = "PASSWORD_OLD_WRONG", 422, "原密码错误"
    PASSWORD_REUSED = "PASSWORD_REUSED", 422, "新密码不能与原密码相同"
    VERIFICATION_CODE_INVALID = "VERIFICATION_CODE_INVALID", 422, "验证码错误或已过期"
    VERIFICATION_CODE_TOO_SOON = "VERIFICATION_CODE_TOO_SOON", 429, "验证码发送过于频繁，请稍后再试"
    MOBILE_MISSING = "MOBILE_MISSING", 422, "账号未登记手机号，无法发送验证码"
    PERMISSION_DENIED = "PERMISSION_DENIED", 403, "您没有执行该操作的权限"

    ORG_HAS_CHILDREN = "ORG_HAS_CHILDREN", 409, "该机构下还有下级机构，不能删除"
    ORG_HAS_USERS = "ORG_HAS_USERS", 409, "该机构下还有用户，不能删除"
    ORG_HAS_ROLES = "ORG_HAS_ROLES", 409, "该机构下还有角色，不能删除"
    ORG_INVALID_PARENT = "ORG_INVALID_PARENT", 422, "上级机构不合适：机构类型与层级不符"
    ORG_REGION_INVALID = "ORG_REGION_INVALID", 422, "所属区域无效或不在上级机构辖区内"
    ORG_NAME_TAKEN = "ORG_NAME_TAKEN", 409, "同一上级机构下已有同名机构"
    ORG_ROOT_PROTECTED = "ORG_ROOT_PROTECTED", 409, "不能删除根机构或您自己所在的机构"
    ORG_HAS_PENDING_STEPS = (
        "ORG_HAS_PENDING_STEPS",
        409,
        "该机构尚有待办的审批环节，不能修改其类型或所属区域",
    )

    ROLE_IN_USE = "ROLE_IN_USE", 409, "该角色仍有用户在使用，不能删除"
    ROLE_NAME_TAKEN = "ROLE_NAME_TAKEN", 409, "该机构下已有同名角色"
    ROLE_GRANT_EXCEEDS_OWN = "ROLE_GRANT_EXCEEDS_OWN", 403, "不能授予超出您自身权限或数据范围的权限"
    ROLE_NOT_APPLICABLE = "ROLE_NOT_APPLICABLE", 422, "所选角色不属于该用户所在机构或其上级机构"
    ROLE_BUILTIN = "ROLE_BUILTIN", 409, "内置的系统管理员角色不能修改或删除"

    USER_NAME_TAKEN = "USER_NAME_TAKEN", 409, "该用户名已被使用"
    USER_ROLES_REQUIRED = "USER_ROLES_REQUIRED", 422, "业务审批角色和自定义角色至少选一个"
    USER_SELF_ACTION = "USER_SELF_ACTION", 409, "不能对自己的账号执行该操作"
    USER_OUTRANKS_YOU = (
        "USER_OUTRANKS_YOU",
        403,
        "该用户的权限或数据范围超出您的权限，不能管理该账号",
    )
    USER_NOT_LOCKED = "USER_NOT_LOCKED", 409, "该账号未被锁定，无需解锁"
    LAST_ADMINISTRATOR = (
        "LAST_ADMINISTRATOR",
        409,
        "这是最后一个启用的系统管理员，不能停用或取消其系统管理员角色",
    )

    IMPORT_INVALID = "IMPORT_INVALID", 422, "导入文件有误，未导入任何数据"

    WORKFLOW_INVALID = "WORKFLOW_INVALID", 422, "审批流程定义有误"
    WORKFLOW_NOT_PUBLISHED = "WORKFLOW_NOT_PUBLISHED", 409, "该业务类型尚未发布审批流程，暂不能受理"
    ROUTING_NO_ORG = (
        "ROUTING_NO_ORG",
        422,
        "申请人所在辖区没有负责该审批环节的公安机关，请先在机构管理中建立",
    )
    APPLICATION_NOT_PENDING = "APPLICATION_NOT_PENDING", 409, "该申请当前不在审批中"
    APPLICATION_NOT_RETURNED = "APPLICATION_NOT_RETURNED", 409, "只有已退回申请人的申请才能重新提交"
    NOT_YOUR_STEP = "NOT_YOUR_STEP", 403, "该审批环节不在您的待办中"
    GATE_CLOSED = "GATE_CLOSED", 409, "审批条件尚未满足，不能同意"
    SCREENING_HIT = "SCREENING_HIT", 409, "背景审查命中，只能不同意"
    SCREENING_ERROR = "SCREENING_ERROR", 409, "背景审查查询失败，请重新审查后再审批"
    SCREENING_PROVIDER_UNAVAILABLE = (
        "SCREENING_PROVIDER_UNAVAILABLE",
        503,
        "背景审查服务暂不可用，请稍后重新审查",
    )
    NO_PREVIOUS_STEP = "NO_PREVIOUS_STEP", 409, "当前已是第一个审批环节，不能退回上一步"
    ASSIGNEE_INVALID = "ASSIGNEE_INVALID", 422, "被指派人不能办理该审批环节"
    NO_OTHER_APPROVER = "NO_OTHER_APPROVER", 409, "本单位没有其他能办理该审批环节的人员"
    STEP_NOT_ASSIGNED = "STEP_NOT_ASSIGNED", 409, "该审批环节未指派给个人，无需收回"
    CORRECTIONS_REQUIRED = "CORRECTIONS_REQUIRED", 422, "不同意时须一次性告知申请人需补正的全部内容"
    MATERIAL_TYPE_REFUSED = (
        "MATERIAL_TYPE_REFUSED",
        415,
        "材料只能是 PDF、JPEG 或 PNG 文件，且内容须与文件类型相符",
    )
    MATERIAL_TOO_LARGE = "MATERIAL_TOO_LARGE", 413, "材料文件过大"
    FINGERPRINT_CARD_INVALID = "FINGERPRINT_CARD_INVALID", 422, "指纹卡号格式不正确"
    FINGERPRINT_DUPLICATE = "FINGERPRINT_DUPLICATE", 409, "该指纹已在其他身份下登记，不能重复录入"
    DOCUMENT_NOT_ISSUED = (
        "DOCUMENT_NOT_ISSUED",
        404,
        "该申请尚无已签发的许可证或证明（未审批通过或该业务不发证）",
    )
    EXAM_NOT_DRAFT = "EXAM_NOT_DRAFT", 409, "考试安排已发布或已取消，考生名单不能再修改"
    EXAM_CANCELLED = "EXAM_CANCELLED", 409, "该考试已取消"
    EXAM_SEATS_FULL = "EXAM_SEATS_FULL", 409, "考位不足，不能再添加考生"
    EXAM_SEATS_BELOW_CANDIDATES = (
        "EXAM_SEATS_BELOW_CANDIDATES",
        409,
        "考位数不能少于已安排的考生人数",
    )
    EXAM_CANDIDATE_INELIGIBLE = (
        "EXAM_CANDIDATE_INELIGIBLE",
        422,
        "所选人员中有尚未完成全部审批、已在其他考试中或已考试合格的报名",
    )
    EXAM_CANDIDATE_BUSY = "EXAM_CANDIDATE_BUSY", 409, "所选人员已被安排在其他未结束的考试中"
    EXAM_NO_CANDIDATES = "EXAM_NO_CANDIDATES", 409, "考试尚未安排考生，不能发布"
    EXAM_TIME_INVALID = "EXAM_TIME_INVALID", 422, "考试结束时间须晚于开始时间"
    EXAM_RULE_UNKNOWN = "EXAM_RULE_UNKNOWN", 422, "所选的成绩合格标准不存在或已停用"
    CERTIFICATE_KEY_MISSING = (
        "CERTIFICATE_KEY_MISSING",
        409,
        "尚无可用的证书签名密钥，请运行 sgss-server certificate keys init",
    )
    CERTIFICATE_NOT_ACTIVE = "CERTIFICATE_NOT_ACTIVE", 409, "该证书已不是有效状态，不能执行该操作"
    CERTIFICATE_ALREADY_ISSUED = "CERTIFICATE_ALREADY_ISSUED", 409, "该报名申请已发放保安员证"
    CERTIFICATE_NO_CHANGE = "CERTIFICATE_NO_CHANGE", 422, "更正换发须至少更正一项证书信息"
    CERTIFICATE_PARTICULARS_INVALID = (
        "CERTIFICATE_PARTICULARS_INVALID",
        422,
        "证书信息有误（姓名过长或日期超出范围），无法生成二维码",
    )
    CERTIFICATE_LOOKUP_TOO_MANY = (
        "CERTIFICATE_LOOKUP_TOO_MANY",
        429,
        "查询过于频繁，请稍后再试",
    )
    SCORE_IMPORT_INVALID = "SCORE_IMPORT_INVALID", 422, "成绩导入文件有误，未导入任何数据"
    BUSINESS_TYPE_NOT_FILEABLE = (
        "BUSINESS_TYPE_NOT_FILEABLE",
        422,
        "该业务由系统自动发起（如考试合格后的制证审批），不能由申请人提交",
    )
    SCORES_LOCKED = (
        "SCORES_LOCKED",
        409,
        "本场考试已通知成绩，成绩已锁定；如需修改请使用【更正成绩】并填写原因",
    )
    SCORES_NOT_LOCKED = "SCORES_NOT_LOCKED", 409, "本场考试尚未通知成绩，请直接修改成绩"
    SCORES_EXAM_NOT_PUBLISHED = (
        "SCORES_EXAM_NOT_PUBLISHED",
        409,
        "考试安排尚未发布或已取消，不能录入成绩",
    )
    SCORES_EXAM_NOT_STARTED = "SCORES_EXAM_NOT_STARTED", 409, "考试尚未开始，不能录入成绩"
    SCORES_INCOMPLETE = (
        "SCORES_INCOMPLETE",
        409,
        "还有考生未录入成绩，也未标记缺考，不能通知成绩",
    )
    SCORE_INVALID = "SCORE_INVALID", 422, "成绩有误，未保存"
    SCORE_AMEND_REASON_REQUIRED = "SCORE_AMEND_REASON_REQUIRED", 422, "更正成绩须填写原因"
    SCORE_AMEND_NO_CHANGE = "SCORE_AMEND_NO_CHANGE", 422, "更正后的成绩与原成绩相同，无需更正"
    SCORE_AMEND_UNDER_REVIEW = (
        "SCORE_AMEND_UNDER_REVIEW",
        409,
        "该考生已进入制证审批或已发证，更正为不合格前须先在制证审批中不同意，或吊销已发的证",
    )
    CERTIFICATE_NO_PHOTO = (
        "CERTIFICATE_NO_PHOTO",
        409,
        "该证书没有照片，不能打印；请先通过更正换发补充照片",
    )
    CERTIFICATE_ALREADY_PRINTED = (
        "CERTIFICATE_ALREADY_PRINTED",
        409,
        "该证书已打印；再次打印请使用补打并填写原因",
    )
    CERTIFICATE_NOT_PRINTED = "CERTIFICATE_NOT_PRINTED", 409, "该证书尚未打印，请直接打印，无需补打"
    CERTIFICATE_REVIEW_IN_PROGRESS = (
        "CERTIFICATE_REVIEW_IN_PROGRESS",
        409,
        "该报名的制证审批正在办理中，不能重复提交",
    )
    ENROLMENT_NOT_CERTIFICATE_REFUSED = (
        "ENROLMENT_NOT_CERTIFICATE_REFUSED",
        409,
        "只有流程状态为“不予制证”的报名才能重新提交制证",
    )
    CERTIFICATE_HOLDER_ACTIVE = (
        "CERTIFICATE_HOLDER_ACTIVE",
        409,
        "该人员已持有有效的保安员证，无需重新制证",
    )
    SYNC_KEY_MISSING = (
        "SYNC_KEY_MISSING",
        409,
        "本节点的同步签名密钥尚未生成：请先运行 sgss-server sync keys init",
    )
    SYNC_KEY_AMBIGUOUS = (
        "SYNC_KEY_AMBIGUOUS",
        409,
        "同步密钥目录中有多个私钥文件，无法确定当前密钥：请只保留一个",
    )
    SYNC_PEER_KEY_INVALID = "SYNC_PEER_KEY_INVALID", 422, "对端公钥应为 32 字节的标准 Base64 编码"
    SYNC_PEER_KEY_NOT_FOUND = "SYNC_PEER_KEY_NOT_FOUND", 404, "没有这个对端公钥"
    SYNC_BUNDLE_NOT_FOUND = "SYNC_BUNDLE_NOT_FOUND", 404, "没有这个同步包"
    SYNC_BUNDLE_NOT_QUARANTINED = (
        "SYNC_BUNDLE_NOT_QUARANTINED",
        409,
        "只有被隔离的同步包才能丢弃",
    )
    SYNC_BUNDLE_NOT_RECHECKABLE = (
        "SYNC_BUNDLE_NOT_RECHECKABLE",
        409,
        "只有被隔离或等待中的同步包（且保存了内容）才能重新核验",
    )
    SYNC_RECORD_INVALID = "SYNC_RECORD_INVALID", 422, "同步记录的数据不符合约定"
    SYNC_RECORD_TYPE_UNKNOWN = "SYNC_RECORD_TYPE_UNKNOWN", 422, "内网不受理该类型的同步记录"
    SYNC_EXTERNAL_REF_TAKEN = "SYNC_EXTERNAL_REF_TAKEN", 409, "该外网申请已受理，不能重复提交"
    SYNC_APPLICATION_UNKNOWN = "SYNC_APPLICATION_UNKNOWN", 404, "外网申请在内网不存在"
    SYNC_FILE_MISSING = "SYNC_FILE_MISSING", 422, "同步记录引用的材料文件不在本记录的附件中"
    SYNC_PAYMENT_REFUSED = "SYNC_PAYMENT_REFUSED", 409, "该申请当前不能确认缴费"
    SYNC_EXAM_UNKNOWN = "SYNC_EXAM_UNKNOWN", 404, "成绩所属的考试在内网不存在"
    SYNC_NOT_CONFIGURED = (
        "SYNC_NOT_CONFIGURED",
        409,
        "本服务器未配置内外网数据同步（SGSS_SYNC_TRANSPORT），无法同步",
    )
    SYNC_RUNNING = "SYNC_RUNNING", 409, "正在同步，请等本次同步结束后再试"
    SYNC_CYCLE_FAILED = "SYNC_CYCLE_FAILED", 502, "同步未完成，请查看原因后重试"
    SYNC_SCOPE_REQUIRED = (
        "SYNC_SCOPE_REQUIRED",
        403,
        "内外网数据同步涉及所有地区的数据，须具有“全部数据”的数据范围",
    )
    SYNC_RECORD_FAILED = "SYNC_RECORD_FAILED", 422, "内网无法处理该记录，已由管理员退回"
    SYNC_RECORD_NOT_STUCK = (
        "SYNC_RECORD_NOT_STUCK",
        409,
        "该记录已不是卡住的待应用记录（可能已应用或已退回），无需退回",
    )
