"""A small approval world built through the real API of the test server: 杭州市公安局 with
西湖区分局 under the province root, one approver per level, and helpers to submit applications.

Client tests of the inbox, the bell and the review dialog share it so they exercise the same
routing the server applies in production, not a hand-made inbox.
"""

from dataclasses import dataclass, field
from typing import Any

from client.api import ApiClient
from shared.enums import ApprovalRole, BusinessType, OrgType
from shared.schemas.orgs import OrgCreate
from shared.schemas.roles import DataScope, RoleCreate
from shared.schemas.users import UserCreate
from tests.client.conftest import STRONG
from tests.server.approval_world import APPROVER_PERMISSIONS, LEVEL_ROLES, application_body


@dataclass
class DeskWorld:
    admin: ApiClient
    orgs: dict[str, int] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)

    def signed_in(self, who: str) -> ApiClient:
        api = ApiClient(self.admin.base_url)
        api.login(self.usernames[who], STRONG)
        return api

    def submit(self, business_type: BusinessType, **kw: Any) -> dict[str, Any]:
        created: dict[str, Any] = self.admin.request(
            "POST", "/applications", json=application_body(business_type, **kw)
        )
        return created


def build_desk_world(admin: ApiClient, prefix: str) -> DeskWorld:
    """Users are named ``{prefix}_county`` and so on, so several modules can share a server."""
    world = DeskWorld(admin)
    root = admin.me().org_id
    city = admin.create_org(
        OrgCreate(
            name="杭州市公安局", parent_id=root, type=OrgType.city_bureau, region_code="330100"
        )
    )
    county = admin.create_org(
        OrgCreate(
            name="西湖区分局", parent_id=city.id, type=OrgType.county_bureau, region_code="330106"
        )
    )
    world.orgs = {"root": root, "city": city.id, "county": county.id}
    role = admin.create_role(
        RoleCreate(
            name=f"审批民警{prefix}",
            org_id=root,
            permissions=APPROVER_PERMISSIONS,
            data_scope=DataScope(kind="own_subtree"),
        )
    )
    for level, org_id in (("county", county.id), ("city", city.id), ("province", root)):
        username = f"{prefix}_{level}"
        roles: list[ApprovalRole] = LEVEL_ROLES[level]
        created = admin.create_user(
            UserCreate(
                username=username,
                name=f"{level}审批员",
                org_id=org_id,
                mobile="13812345678",
                role_ids=[role.id],
                approval_roles={bt: roles for bt in BusinessType},
            )
        )
        api = ApiClient(admin.base_url)
        api.login(username, created.initial_password)
        api.change_password(STRONG, old_password=created.initial_password)
        world.usernames[level] = username
    return world
