"""The role editor's 操作权限 matrix as state: modules × actions, 全选 per module and overall."""

from psygnal import Signal

from shared.schemas.roles import PermissionCatalogue


class PermissionMatrix:
    changed = Signal()

    def __init__(self, catalogue: PermissionCatalogue, granted: list[str] | None = None) -> None:
        self.catalogue = catalogue
        self.all = {f"{m.key}:{a.key}" for m in catalogue.modules for a in m.actions}
        self.selected: set[str] = set(granted or []) & self.all

    def module_permissions(self, module: str) -> set[str]:
        return {p for p in self.all if p.split(":")[0] == module}

    def set(self, permission: str, on: bool) -> None:
        before = set(self.selected)
        (self.selected.add if on else self.selected.discard)(permission)
        if before != self.selected:
            self.changed.emit()

    def set_module(self, module: str, on: bool) -> None:
        perms = self.module_permissions(module)
        self.selected = self.selected | perms if on else self.selected - perms
        self.changed.emit()

    def set_everything(self, on: bool) -> None:
        self.selected = set(self.all) if on else set()
        self.changed.emit()

    def module_full(self, module: str) -> bool:
        return self.module_permissions(module) <= self.selected

    def everything(self) -> bool:
        return self.selected == self.all

    def result(self) -> list[str]:
        return sorted(self.selected)
