"""The main menu, derived from the permission catalogue: one entry per module page, shown only
to users holding its ``view`` permission. The group order mirrors the source manuals."""

from dataclasses import dataclass

from shared.permissions import MODULES

GROUP_ORDER = (
    "待办事项",
    "许可管理",
    "备案管理",
    "变更管理",
    "保安员资格许可",
    "行业信息",
    "地图可视化",
    "统计管理",
    "建议管理",
    "系统管理",
)


@dataclass(frozen=True)
class MenuEntry:
    key: str
    label: str
    group: str

    @property
    def permission(self) -> str:
        return f"{self.key}:view"


@dataclass(frozen=True)
class MenuGroup:
    label: str
    entries: tuple[MenuEntry, ...]


def all_entries() -> list[MenuEntry]:
    return [
        MenuEntry(m.key, m.label, m.group) for m in MODULES if m.has_page and "view" in m.actions
    ]


def visible_menu(permissions: set[str] | frozenset[str]) -> list[MenuGroup]:
    """Groups in manual order with only the entries the user may open; empty groups vanish."""
    groups = []
    for label in GROUP_ORDER:
        entries = tuple(
            e for e in all_entries() if e.group == label and e.permission in permissions
        )
        if entries:
            groups.append(MenuGroup(label, entries))
    return groups
