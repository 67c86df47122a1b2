"""The operation-permission catalogue: modules × actions, as data, in one place.

Seed 001 §2.2.2 shows the role editor as a matrix: one row per module, a 全选 box and one box
per action. A permission is written ``"module:action"``. Every endpoint of the server declares
one of these; the client builds its menus and the role editor's matrix from this catalogue.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

ACTION_LABELS: dict[str, str] = {
    "view": "查看",
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "import": "导入",
    "export": "导出",
    "approve": "审批",
    "reassign": "收回/改派",
    "intake": "受理",
    "print": "打印",
    "end": "结束",
    "run": "执行",
    "publish": "发布",
    "notify": "通知",
    "reset_password": "重置密码",
    "unlock": "解锁",
    "view_sensitive": "查看完整证件号和手机号",
    "view_internal": "查看内部意见",
    "confirm_payment": "缴费确认",
    "fingerprint": "录入指纹",
    "reissue": "补发/更正换发",
    "revoke": "吊销",
    "cancel": "注销",
    "amend": "更正",
    "reprint": "补打",
    "resubmit": "重新提交",
    "manage": "管理",
}


@dataclass(frozen=True)
class Module:
    key: str
    label: str
    group: str
    actions: tuple[str, ...]
    action_labels: tuple[tuple[str, str], ...] = ()
    has_page: bool = True  # False: used inside other screens, no menu entry of its own

    def label_of(self, action: str) -> str:
        return dict(self.action_labels).get(action, ACTION_LABELS[action])


_CRUD = ("view", "create", "update", "delete")
_LICENCE_LIST = ("view", "print", "export")

MODULES: tuple[Module, ...] = (
    # 待办事项 / 通用审批
    Module(
        "applications",
        "通用审批",
        "待办事项",
        ("view", "view_internal", "approve", "reassign", "intake", "import", "export", "print"),
    ),
    Module("screening", "人员背景审查", "待办事项", ("view", "run", "import"), has_page=False),
    # 许可管理
    Module("company_licences", "保安服务公司许可管理", "许可管理", _LICENCE_LIST),
    Module("training_licences", "保安培训单位许可管理", "许可管理", _LICENCE_LIST),
    # 备案管理
    Module("branch_filings", "保安服务公司设立分公司备案管理", "备案管理", _LICENCE_LIST),
    Module("self_recruit_filings", "自行招用保安员单位备案管理", "备案管理", _LICENCE_LIST),
    Module("cross_region_filings", "保安跨区域服务备案管理", "备案管理", _LICENCE_LIST),
    Module("annual_report_filings", "保安服务公司年度报告备案管理", "备案管理", _LICENCE_LIST),
    Module("client_unit_filings", "自招单位客户单位备案管理", "备案管理", _LICENCE_LIST),
    Module("commendations", "表彰奖励管理", "备案管理", _LICENCE_LIST),
    # 变更管理
    Module("licence_changes", "保安服务（培训）许可证项目变更", "变更管理", _LICENCE_LIST),
    Module("self_recruit_revocations", "自行招用保安员单位撤销备案", "变更管理", _LICENCE_LIST),
    Module("legal_rep_changes", "保安服务公司法定代表人变更", "变更管理", _LICENCE_LIST),
    # 保安员资格许可
    Module(
        "exam_enrolments",
        "保安员资格证考试报名",
        "保安员资格许可",
        ("view", "export", "confirm_payment", "fingerprint", "resubmit"),
        (("resubmit", "重新提交制证"),),
    ),
    Module(
        "exams",
        "考试安排",
        "保安员资格许可",
        (*_CRUD, "publish", "notify"),
        (("notify", "考试通知"),),
    ),
    Module(
        "exam_scores",
        "考试成绩",
        "保安员资格许可",
        ("view", "update", "import", "export", "notify", "amend"),
        (("update", "录入成绩"), ("notify", "通知成绩"), ("amend", "更正成绩")),
    ),
    Module(
        "certificates",
        "保安员资格证",
        "保安员资格许可",
        ("view", "print", "export", "reissue", "revoke", "cancel", "view_sensitive", "reprint"),
    ),
    # 行业信息
    Module("associations", "保安协会管理", "行业信息", (*_CRUD, "export")),
    Module("companies", "保安服务公司管理", "行业信息", (*_CRUD, "export", "reset_password")),
    Module("self_recruit_units", "自行招用保安员单位管理", "行业信息", (*_CRUD, "export")),
    Module("training_units", "保安培训单位信息管理", "行业信息", (*_CRUD, "export")),
    Module("guards", "保安员管理", "行业信息", ("view", "update", "export", "view_sensitive")),
    Module("good_deeds", "好人好事管理", "行业信息", ("view", "export")),
    # 地图可视化
    Module("search", "一键搜", "地图可视化", ("view",)),
    Module("person_center", "人员中心", "地图可视化", ("view",)),
    Module("task_center", "任务中心", "地图可视化", ("view",)),
    Module(
        "emergency_tasks",
        "紧急任务",
        "地图可视化",
        ("view", "create", "end"),
        (("create", "创建"),),
    ),
    # 统计管理
    Module("statistics", "统计管理", "统计管理", ("view", "export")),
    # 建议管理
    Module("inspections", "监督检查情况管理", "建议管理", (*_CRUD, "import", "export")),
    Module("suggestions", "市民意见建议", "建议管理", ("view",)),
    Module(
        "problem_persons",
        "问题人员",
        "建议管理",
        ("view", "update", "export"),
        (("update", "处理意见"),),
    ),
    # 系统管理
    Module("orgs", "机构管理", "系统管理", (*_CRUD, "import")),
    Module("roles", "角色管理", "系统管理", _CRUD),
    Module(
        "users",
        "用户管理",
        "系统管理",
        ("view", "create", "update", "reset_password", "unlock", "view_sensitive"),
    ),
    Module("audit", "审计日志", "系统管理", ("view",)),
    Module("outbox", "通知发件箱", "系统管理", ("view",)),
    Module("workflows", "审批流程定义", "系统管理", ("view", "publish")),
    Module(
        "sync",
        "内外网数据同步",
        "系统管理",
        ("view", "run", "manage"),
        (("run", "立即同步/重新校验"), ("manage", "丢弃同步包/管理对端公钥")),
    ),
)


APPROVE = "applications:approve"
REASSIGN = "applications:reassign"
"""The bureau leader's and the administrator's: take back (收回), take (认领) or hand on (改派)
any pending step of their bureau, whoever it is assigned to."""


def approval_role_permissions(pairs: Iterable[tuple[str, str]]) -> frozenset[str]:
    """What business approval roles (business type, approval role) let their holder exercise.

    Acting on a step is approving, so an approval role is a grant of ``applications:approve``:
    only a holder of that permission may hand one out (the granting rule), and a user acts on
    a step only while holding both the approval role and the permission."""
    return frozenset({APPROVE}) if any(True for _ in pairs) else frozenset()


@cache
def all_permissions() -> frozenset[str]:
    """Every ``module:action`` string of the catalogue."""
    return frozenset(f"{m.key}:{a}" for m in MODULES for a in m.actions)


def is_known(permission: str) -> bool:
    return permission in all_permissions()


def label_of(permission: str) -> str:
    """Chinese label of a permission, e.g. ``用户管理 / 重置密码``."""
    key, _, action = permission.partition(":")
    for module in MODULES:
        if module.key == key and action in module.actions:
            return f"{module.label} / {module.label_of(action)}"
    raise KeyError(permission)
