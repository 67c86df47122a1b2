import pytest
from PySide6.QtCore import Qt

from client.api import ApiClient
from client.models.permission_matrix import PermissionMatrix
from client.session import Session
from client.views.system.role_dialog import RoleDialog
from client.views.system.roles import RolePage
from shared.enums import DataScopeKind
from shared.permissions import all_permissions
from shared.schemas.roles import PermissionCatalogue
from tests.client.modal import when_modal


def test_matrix_model_select_all_per_module_and_overall() -> None:
    matrix = PermissionMatrix(PermissionCatalogue.build(), ["orgs:view", "nonsense:x"])
    assert matrix.result() == ["orgs:view"]
    matrix.set_module("inspections", True)
    assert matrix.module_full("inspections")
    assert {"inspections:export", "inspections:import"} <= set(matrix.result())
    matrix.set("inspections:delete", False)
    assert not matrix.module_full("inspections")
    matrix.set_everything(True)
    assert matrix.everything() and set(matrix.result()) == all_permissions()
    matrix.set_everything(False)
    assert matrix.result() == []


@pytest.fixture
def page(qtbot, context: Session, admin_api: ApiClient) -> RolePage:  # type: ignore[no-untyped-def]
    context.api.login("root", "Adm1n#Sgss!")
    context.me = context.api.me()
    page = RolePage(context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.total > 0, timeout=10000)
    return page


def test_role_round_trip_through_the_editor(qtbot, page: RolePage) -> None:  # type: ignore[no-untyped-def]
    def fill(dialog: RoleDialog) -> None:
        dialog.name.setText("监督检查民警")
        dialog.module_boxes["inspections"].click()  # 全选 of one module
        dialog.action_boxes["search:view"].click()
        dialog.action_boxes["inspections:delete"].click()  # then one taken back
        dialog.scope_radios[DataScopeKind.own_subtree].setChecked(True)
        dialog._check_and_accept()

    when_modal(RoleDialog, fill)
    with qtbot.waitSignal(page.changed, timeout=15000) as created:
        page.add()
    role = created.args[0]
    assert role.permissions == [
        "inspections:create",
        "inspections:export",
        "inspections:import",
        "inspections:update",
        "inspections:view",
        "search:view",
    ]
    assert role.data_scope.kind == DataScopeKind.own_subtree

    qtbot.waitUntil(lambda: any(r.name == "监督检查民警" for r in page.model.rows), timeout=10000)
    row = next(i for i, r in enumerate(page.model.rows) if r.name == "监督检查民警")
    page.table.view.selectRow(row)
    seen: dict[str, bool] = {}

    def check_and_widen(dialog: RoleDialog) -> None:
        seen["module_full"] = dialog.module_boxes["inspections"].isChecked()
        seen["search"] = dialog.action_boxes["search:view"].isChecked()
        seen["scope"] = dialog.scope_radios[DataScopeKind.own_subtree].isChecked()
        dialog.scope_radios[DataScopeKind.orgs].setChecked(True)
        dialog._check_and_accept()  # no organisation ticked: refused in the dialog
        seen["refused"] = "至少勾选一个机构" in dialog.error.text()
        root = dialog.scope_tree.topLevelItem(0)
        root.setCheckState(0, Qt.CheckState.Checked)
        dialog.everything.click()
        dialog._check_and_accept()

    when_modal(RoleDialog, check_and_widen)
    with qtbot.waitSignal(page.changed, timeout=15000) as updated:
        page.edit()
    assert seen == {"module_full": False, "search": True, "scope": True, "refused": True}
    assert set(updated.args[0].permissions) == all_permissions()
    assert updated.args[0].data_scope.kind == DataScopeKind.orgs
