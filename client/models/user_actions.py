"""What the clerk may do to the selected account (用户管理), as the server says it: each
``UserPublic`` carries ``allowed_actions`` (allowed, and when not the Chinese reason), so the
page greys 编辑/重置密码/停用/解锁 and says why before anyone tries. The rule stays on the server;
this reads its answer. Plain Python."""

from dataclasses import dataclass

from shared.schemas.users import UserAction, UserPublic

NO_SELECTION = "请先在列表中选择一个用户"


@dataclass(frozen=True)
class Availability:
    allowed: bool
    reason: str = ""


def action_label(action: UserAction, user: UserPublic | None = None) -> str:
    """The button's text for ``user``: 停用 an enabled account, 启用 a disabled one."""
    if action == UserAction.set_enabled:
        if user is None:
            return "停用/启用"
        return "停用" if user.enabled else "启用"
    return {
        UserAction.edit: "编辑",
        UserAction.reset_password: "重置密码",
        UserAction.unlock: "解锁",
    }[action]


def availability(user: UserPublic | None, action: UserAction) -> Availability:
    """Whether ``action`` on ``user`` may be tried; an answer without the action (an older
    server) leaves it to the server to refuse."""
    if user is None:
        return Availability(False, NO_SELECTION)
    state = user.allowed_actions.get(action)
    if state is None or state.allowed:
        return Availability(True)
    return Availability(False, state.reason or "服务器不允许对该用户执行此操作")


def unavailable_note(user: UserPublic | None, actions: list[UserAction]) -> str:
    """One line for the status bar: which of ``actions`` the clerk cannot take, and why."""
    if user is None:
        return ""
    parts = []
    for action in actions:
        state = availability(user, action)
        if not state.allowed:
            parts.append(f"{action_label(action, user)}不可用：{state.reason}")
    if not parts:
        return ""
    return f"{user.name}（{user.username}）— " + "；".join(parts)
