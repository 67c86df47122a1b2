"""Stable error codes of the API, each with its HTTP status and the Chinese message a clerk reads.

The server answers ``{"code", "message", "details"}``; the client shows ``message`` and logs
``code``. A code, once published, never changes meaning.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    BAD_REQUEST = "BAD_REQUEST"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    CONFLICT = "CONFLICT"
    STALE_VERSION = "STALE_VERSION"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    DATABASE_RECONNECTED = "DATABASE_RECONNECTED"
    SERVER_BUSY = "SERVER_BUSY"

    AUTH_REQUIRED = "AUTH_REQUIRED"
    AUTH_INVALID_CREDENTIALS = "AUTH_INVALID_CREDENTIALS"
    AUTH_ACCOUNT_LOCKED = "AUTH_ACCOUNT_LOCKED"
    AUTH_TOO_MANY_ATTEMPTS = "AUTH_TOO_MANY_ATTEMPTS"
    AUTH_ACCOUNT_DISABLED = "AUTH_ACCOUNT_DISABLED"
    AUTH_TOKEN_INVALID = "AUTH_TOKEN_INVALID"
    AUTH_TOKEN_EXPIRED = "AUTH_TOKEN_EXPIRED"
    PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED"
    PASSWORD_WEAK = "PASSWORD_WEAK"
    PASSWORD_OLD_WRONG = "PASSWORD_OLD_WRONG"
    PASSWORD_REUSED = "PASSWORD_REUSED"
    VERIFICATION_CODE_INVALID = "VERIFICATION_CODE_INVALID"
    VERIFICATION_CODE_TOO_SOON = "VERIFICATION_CODE_TOO_SOON"
    MOBILE_MISSING = "MOBILE_MISSING"
    PERMISSION_DENIED = "PERMISSION_DENIED"

    ORG_HAS_CHILDREN = "ORG_HAS_CHILDREN"
    ORG_HAS_USERS = "ORG_HAS_USERS"
    ORG_HAS_ROLES = "ORG_HAS_ROLES"
    ORG_INVALID_PARENT = "ORG_INVALID_PARENT"
    ORG_REGION_INVALID = "ORG_REGION_INVALID"
    ORG_NAME_TAKEN = "ORG_NAME_TAKEN"
    ORG_ROOT_PROTECTED = "ORG_ROOT_PROTECTED"
    ORG_HAS_PENDING_STEPS = "ORG_HAS_PENDING_STEPS"

    ROLE_IN_USE = "ROLE_IN_USE"
    ROLE_NAME_TAKEN = "ROLE_NAME_TAKEN"
    ROLE_GRANT_EXCEEDS_OWN = "ROLE_GRANT_EXCEEDS_OWN"
    ROLE_NOT_APPLICABLE = "ROLE_NOT_APPLICABLE"
    ROLE_BUILTIN = "ROLE_BUILTIN"

    USER_NAME_TAKEN = "USER_NAME_TAKEN"
    USER_ROLES_REQUIRED = "USER_ROLES_REQUIRED"
    USER_SELF_ACTION = "USER_SELF_ACTION"
    USER_OUTRANKS_YOU = "USER_OUTRANKS_YOU"
    LAST_ADMINISTRATOR = "LAST_ADMINISTRATOR"
    USER_NOT_LOCKED = "USER_NOT_LOCKED"

    IMPORT_INVALID = "IMPORT_INVALID"

    WORKFLOW_INVALID = "WORKFLOW_INVALID"
    WORKFLOW_NOT_PUBLISHED = "WORKFLOW_NOT_PUBLISHED"
    ROUTING_NO_ORG = "ROUTING_NO_ORG"
    APPLICATION_NOT_PENDING = "APPLICATION_NOT_PENDING"
    APPLICATION_NOT_RETURNED = "APPLICATION_NOT_RETURNED"
    NOT_YOUR_STEP = "NOT_YOUR_STEP"
    GATE_CLOSED = "GATE_CLOSED"
    SCREENING_HIT = "SCREENING_HIT"
    SCREENING_ERROR = "SCREENING_ERROR"
    SCREENING_PROVIDER_UNAVAILABLE = "SCREENING_PROVIDER_UNAVAILABLE"
    NO_PREVIOUS_STEP = "NO_PREVIOUS_STEP"
    ASSIGNEE_INVALID = "ASSIGNEE_INVALID"
    STEP_NOT_ASSIGNED = "STEP_NOT_ASSIGNED"
    NO_OTHER_APPROVER = "NO_OTHER_APPROVER"
    CORRECTIONS_REQUIRED = "CORRECTIONS_REQUIRED"
    MATERIAL_TYPE_REFUSED = "MATERIAL_TYPE_REFUSED"
    MATERIAL_TOO_LARGE = "MATERIAL_TOO_LARGE"
    FINGERPRINT_CARD_INVALID = "FINGERPRINT_CARD_INVALID"
    FINGERPRINT_DUPLICATE = "FINGERPRINT_DUPLICATE"
    DOCUMENT_NOT_ISSUED = "DOCUMENT_NOT_ISSUED"

    @property
    def status(self) -> int:
        return _STATUS[self]

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_STATUS: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.REQUEST_TOO_LARGE: 413,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CONFLICT: 409,
    ErrorCode.STALE_VERSION: 409,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.DATABASE_RECONNECTED: 503,
    ErrorCode.SERVER_BUSY: 503,
    ErrorCode.AUTH_REQUIRED: 401,
    ErrorCode.AUTH_INVALID_CREDENTIALS: 401,
    ErrorCode.AUTH_ACCOUNT_LOCKED: 423,
    ErrorCode.AUTH_TOO_MANY_ATTEMPTS: 429,
    ErrorCode.AUTH_ACCOUNT_DISABLED: 403,
    ErrorCode.AUTH_TOKEN_INVALID: 401,
    ErrorCode.AUTH_TOKEN_EXPIRED: 401,
    ErrorCode.PASSWORD_CHANGE_REQUIRED: 403,
    ErrorCode.PASSWORD_WEAK: 422,
    ErrorCode.PASSWORD_OLD_WRONG: 422,
    ErrorCode.PASSWORD_REUSED: 422,
    ErrorCode.VERIFICATION_CODE_INVALID: 422,
    ErrorCode.VERIFICATION_CODE_TOO_SOON: 429,
    ErrorCode.MOBILE_MISSING: 422,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.ORG_HAS_CHILDREN: 409,
    ErrorCode.ORG_HAS_USERS: 409,
    ErrorCode.ORG_HAS_ROLES: 409,
    ErrorCode.ORG_INVALID_PARENT: 422,
    ErrorCode.ORG_REGION_INVALID: 422,
    ErrorCode.ORG_NAME_TAKEN: 409,
    ErrorCode.ORG_ROOT_PROTECTED: 409,
    ErrorCode.ORG_HAS_PENDING_STEPS: 409,
    ErrorCode.ROLE_IN_USE: 409,
    ErrorCode.ROLE_NAME_TAKEN: 409,
    ErrorCode.ROLE_GRANT_EXCEEDS_OWN: 403,
    ErrorCode.ROLE_NOT_APPLICABLE: 422,
    ErrorCode.ROLE_BUILTIN: 409,
    ErrorCode.USER_NAME_TAKEN: 409,
    ErrorCode.USER_ROLES_REQUIRED: 422,
    ErrorCode.USER_SELF_ACTION: 409,
    ErrorCode.USER_OUTRANKS_YOU: 403,
    ErrorCode.LAST_ADMINISTRATOR: 409,
    ErrorCode.USER_NOT_LOCKED: 409,
    ErrorCode.IMPORT_INVALID: 422,
    ErrorCode.WORKFLOW_INVALID: 422,
    ErrorCode.WORKFLOW_NOT_PUBLISHED: 409,
    ErrorCode.ROUTING_NO_ORG: 422,
    ErrorCode.APPLICATION_NOT_PENDING: 409,
    ErrorCode.APPLICATION_NOT_RETURNED: 409,
    ErrorCode.NOT_YOUR_STEP: 403,
    ErrorCode.GATE_CLOSED: 409,
    ErrorCode.SCREENING_HIT: 409,
    ErrorCode.SCREENING_ERROR: 409,
    ErrorCode.SCREENING_PROVIDER_UNAVAILABLE: 503,
    ErrorCode.NO_PREVIOUS_STEP: 409,
    ErrorCode.ASSIGNEE_INVALID: 422,
    ErrorCode.STEP_NOT_ASSIGNED: 409,
    ErrorCode.NO_OTHER_APPROVER: 409,
    ErrorCode.CORRECTIONS_REQUIRED: 422,
    ErrorCode.MATERIAL_TYPE_REFUSED: 415,
    ErrorCode.MATERIAL_TOO_LARGE: 413,
    ErrorCode.FINGERPRINT_CARD_INVALID: 422,
    ErrorCode.FINGERPRINT_DUPLICATE: 409,
    ErrorCode.DOCUMENT_NOT_ISSUED: 404,
}

_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.VALIDATION_ERROR: "提交的数据有误，请检查后重试",
    ErrorCode.BAD_REQUEST: "请求格式不正确，无法解析，请检查后重试",
    ErrorCode.REQUEST_TOO_LARGE: "提交的内容过大",
    ErrorCode.NOT_FOUND: "请求的记录不存在或不在您的数据范围内",
    ErrorCode.METHOD_NOT_ALLOWED: "不支持该操作",
    ErrorCode.CONFLICT: "操作与现有数据冲突",
    ErrorCode.STALE_VERSION: "该记录已被他人修改，请刷新后重试",
    ErrorCode.INTERNAL_ERROR: "服务器内部错误，请联系系统管理员",
    ErrorCode.DATABASE_RECONNECTED: "服务器与数据库的连接曾中断，现已恢复，请重试",
    ErrorCode.SERVER_BUSY: "服务器繁忙，请稍后重试",
    ErrorCode.AUTH_REQUIRED: "请先登录",
    ErrorCode.AUTH_INVALID_CREDENTIALS: "用户名或密码错误",
    ErrorCode.AUTH_ACCOUNT_LOCKED: "密码错误次数过多，账号已被锁定",
    ErrorCode.AUTH_TOO_MANY_ATTEMPTS: "登录尝试过于频繁，请稍后再试",
    ErrorCode.AUTH_ACCOUNT_DISABLED: "账号已停用，请联系系统管理员",
    ErrorCode.AUTH_TOKEN_INVALID: "登录状态无效，请重新登录",
    ErrorCode.AUTH_TOKEN_EXPIRED: "登录已过期，请重新登录",
    ErrorCode.PASSWORD_CHANGE_REQUIRED: "首次登录或密码已重置，请先修改密码",
    ErrorCode.PASSWORD_WEAK: "新密码不符合密码规则",
    ErrorCode.PASSWORD_OLD_WRONG: "原密码错误",
    ErrorCode.PASSWORD_REUSED: "新密码不能与原密码相同",
    ErrorCode.VERIFICATION_CODE_INVALID: "验证码错误或已过期",
    ErrorCode.VERIFICATION_CODE_TOO_SOON: "验证码发送过于频繁，请稍后再试",
    ErrorCode.MOBILE_MISSING: "账号未登记手机号，无法发送验证码",
    ErrorCode.PERMISSION_DENIED: "您没有执行该操作的权限",
    ErrorCode.ORG_HAS_CHILDREN: "该机构下还有下级机构，不能删除",
    ErrorCode.ORG_HAS_USERS: "该机构下还有用户，不能删除",
    ErrorCode.ORG_HAS_ROLES: "该机构下还有角色，不能删除",
    ErrorCode.ORG_INVALID_PARENT: "上级机构不合适：机构类型与层级不符",
    ErrorCode.ORG_REGION_INVALID: "所属区域无效或不在上级机构辖区内",
    ErrorCode.ORG_NAME_TAKEN: "同一上级机构下已有同名机构",
    ErrorCode.ORG_ROOT_PROTECTED: "不能删除根机构或您自己所在的机构",
    ErrorCode.ORG_HAS_PENDING_STEPS: "该机构尚有待办的审批环节，不能修改其类型或所属区域",
    ErrorCode.ROLE_IN_USE: "该角色仍有用户在使用，不能删除",
    ErrorCode.ROLE_NAME_TAKEN: "该机构下已有同名角色",
    ErrorCode.ROLE_GRANT_EXCEEDS_OWN: "不能授予超出您自身权限或数据范围的权限",
    ErrorCode.ROLE_NOT_APPLICABLE: "所选角色不属于该用户所在机构或其上级机构",
    ErrorCode.ROLE_BUILTIN: "内置的系统管理员角色不能修改或删除",
    ErrorCode.USER_NAME_TAKEN: "该用户名已被使用",
    ErrorCode.USER_ROLES_REQUIRED: "业务审批角色和自定义角色至少选一个",
    ErrorCode.USER_SELF_ACTION: "不能对自己的账号执行该操作",
    ErrorCode.USER_OUTRANKS_YOU: "该用户的权限或数据范围超出您的权限，不能管理该账号",
    ErrorCode.LAST_ADMINISTRATOR: "这是最后一个启用的系统管理员，不能停用或取消其系统管理员角色",
    ErrorCode.USER_NOT_LOCKED: "该账号未被锁定，无需解锁",
    ErrorCode.IMPORT_INVALID: "导入文件有误，未导入任何数据",
    ErrorCode.WORKFLOW_INVALID: "审批流程定义有误",
    ErrorCode.WORKFLOW_NOT_PUBLISHED: "该业务类型尚未发布审批流程，暂不能受理",
    ErrorCode.ROUTING_NO_ORG: "申请人所在辖区没有负责该审批环节的公安机关，请先在机构管理中建立",
    ErrorCode.APPLICATION_NOT_PENDING: "该申请当前不在审批中",
    ErrorCode.APPLICATION_NOT_RETURNED: "只有已退回申请人的申请才能重新提交",
    ErrorCode.NOT_YOUR_STEP: "该审批环节不在您的待办中",
    ErrorCode.GATE_CLOSED: "审批条件尚未满足，不能同意",
    ErrorCode.SCREENING_HIT: "背景审查命中，只能不同意",
    ErrorCode.SCREENING_ERROR: "背景审查查询失败，请重新审查后再审批",
    ErrorCode.SCREENING_PROVIDER_UNAVAILABLE: "背景审查服务暂不可用，请稍后重新审查",
    ErrorCode.NO_PREVIOUS_STEP: "当前已是第一个审批环节，不能退回上一步",
    ErrorCode.ASSIGNEE_INVALID: "被指派人不能办理该审批环节",
    ErrorCode.STEP_NOT_ASSIGNED: "该审批环节未指派给个人，无需收回",
    ErrorCode.NO_OTHER_APPROVER: "本单位没有其他能办理该审批环节的人员",
    ErrorCode.CORRECTIONS_REQUIRED: "不同意时须一次性告知申请人需补正的全部内容",
    ErrorCode.MATERIAL_TYPE_REFUSED: "材料只能是 PDF、JPEG 或 PNG 文件，且内容须与文件类型相符",
    ErrorCode.MATERIAL_TOO_LARGE: "材料文件过大",
    ErrorCode.FINGERPRINT_CARD_INVALID: "指纹卡号格式不正确",
    ErrorCode.FINGERPRINT_DUPLICATE: "该指纹已在其他身份下登记，不能重复录入",
    ErrorCode.DOCUMENT_NOT_ISSUED: "该申请尚无已签发的许可证或证明（未审批通过或该业务不发证）",
}
