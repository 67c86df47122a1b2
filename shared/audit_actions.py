"""Chinese names of the audit log's actions, for lists and filters."""

AUDIT_ACTIONS: dict[str, str] = {
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.lockout": "账号锁定",
    "auth.throttled": "登录限流",
    "auth.logout": "退出登录",
    "auth.verification_code_sent": "发送验证码",
    "user.create": "新增用户",
    "user.update": "修改用户",
    "user.password_changed": "修改密码",
    "user.password_reset": "重置密码",
    "user.unlock": "解锁账号",
    "org.create": "新增机构",
    "org.update": "修改机构",
    "org.delete": "删除机构",
    "role.create": "新增角色",
    "role.update": "修改角色",
    "role.delete": "删除角色",
    "demo.generate": "生成演示数据",
    "screening.run": "人员背景审查",
    "screening.watchlist_import": "导入背景审查比对名单",
    "material.upload": "上传申请材料",
    "workflow.publish": "发布审批流程",
    "document.issue": "签发许可证或证明",
    "document.print": "打印许可证或证明",
    "application.print": "打印申请材料及审批进度",
    "application.reassign": "收回、认领或改派审批环节",
    "application.release": "被指派人不能办理，审批环节退回本单位",
}


def action_label(action: str) -> str:
    return AUDIT_ACTIONS.get(action, action)


SCREENING_RUN = "screening.run"
WATCHLIST_IMPORT = "screening.watchlist_import"
MATERIAL_UPLOAD = "material.upload"
WORKFLOW_PUBLISH = "workflow.publish"
DOCUMENT_ISSUE = "document.issue"
DOCUMENT_PRINT = "document.print"
APPLICATION_PRINT = "application.print"
APPLICATION_REASSIGN = "application.reassign"
APPLICATION_RELEASE = "application.release"
