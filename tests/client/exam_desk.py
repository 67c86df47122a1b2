"""Guard-exam enrolments for the desk's exam pages, driven through the real API of the test
server to a chosen stage by the approvers of ``approval_desk`` (county: screening, fingerprint
card; city: payment), and an exam clerk at the city bureau who may see, pay, export and
schedule."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from client.api import ApiClient
from client.jobs.runner import JobRunner
from client.preferences import Preferences
from client.session import Session
from shared.enums import BusinessType
from shared.schemas.applications import ApproveBody, FingerprintBody
from shared.schemas.roles import DataScope, RoleCreate
from shared.schemas.users import UserCreate
from tests.client.approval_desk import DeskWorld, build_desk_world
from tests.client.conftest import STRONG
from tests.server.approval_world import _valid_id, application_body

EXAM_CLERK_PERMISSIONS = [
    "applications:view",
    "exam_enrolments:view",
    "exam_enrolments:export",
    "exam_enrolments:confirm_payment",
    "exam_enrolments:resubmit",
    "exams:view",
    "exams:create",
    "exams:update",
    "exams:delete",
    "exams:publish",
]
UNITS = ("杭州平安保安培训学校", "浙江警安保安培训中心")
_serials = itertools.count(1)


@dataclass
class ExamDesk:
    world: DeskWorld
    clerk: str  # the exam clerk's username

    def clerk_api(self) -> ApiClient:
        api = ApiClient(self.world.admin.base_url)
        api.login(self.clerk, STRONG)
        return api

    def enrol(self, name: str, unit: str = UNITS[0]) -> int:
        """A new enrolment of ``name`` (an ID number of its own), waiting at level one."""
        serial = next(_serials)
        id_number = _valid_id("330106", "19970707", f"{serial:03d}")
        body = application_body(BusinessType.guard_exam_enrolment, name=name)
        body["applicant_code"] = id_number
        body["persons"] = [
            {**p, "name": name, "id_number": id_number, "mobile": "13900000000"}
            for p in body["persons"]
        ]
        body["form"] = {**body["form"], "training_unit": unit}
        return int(self.world.admin.request("POST", "/applications", json=body)["id"])

    def approve(self, app_id: int, steps: int) -> None:
        """Open the gate of and approve the next ``steps`` steps (at most three)."""
        county, city = self.world.signed_in("county"), self.world.signed_in("city")
        for step in range(steps):
            if step == 0:
                county.run_screening(app_id)
                api = county
            elif step == 1:
                version = county.application(app_id).version
                card = f"ZW330106{app_id:010d}"
                county.record_fingerprint(
                    app_id, FingerprintBody(version=version, card_number=card)
                )
                api = county
            else:
                city.confirm_payment([app_id])
                api = city
            version = api.application(app_id).version
            api.approve(app_id, ApproveBody(version=version, opinion="同意"))

    def at(self, name: str, steps: int, unit: str = UNITS[0]) -> int:
        """An enrolment with ``steps`` levels approved: 0 待背景审查, 1 待录入指纹, 2 待缴费,
        3 待安排考试."""
        app_id = self.enrol(name, unit)
        self.approve(app_id, steps)
        return app_id


def build_exam_desk(
    admin: ApiClient, prefix: str, permissions: list[str] | None = None
) -> ExamDesk:
    """The approval world of ``prefix`` and a city exam clerk holding ``permissions`` (by
    default ``EXAM_CLERK_PERMISSIONS``)."""
    world = build_desk_world(admin, prefix)
    role = admin.create_role(
        RoleCreate(
            name=f"考试民警{prefix}",
            org_id=world.orgs["root"],
            permissions=permissions or EXAM_CLERK_PERMISSIONS,
            data_scope=DataScope(kind="own_subtree"),
        )
    )
    username = f"{prefix}_exams"
    created = admin.create_user(
        UserCreate(
            username=username,
            name="考试民警",
            org_id=world.orgs["city"],
            mobile="13812345678",
            role_ids=[role.id],
        )
    )
    api = ApiClient(admin.base_url)
    api.login(username, created.initial_password)
    api.change_password(STRONG, old_password=created.initial_password)
    return ExamDesk(world, username)


def clerk_session(desk: ExamDesk, prefs: Preferences) -> Iterator[Session]:
    """The body of a ``clerk`` fixture: the desk's clerk signed in, with a job runner that is
    stopped when the test ends."""
    api = desk.clerk_api()
    runner = JobRunner()
    yield Session(api, runner, prefs, api.me())
    runner.cancel_all()
    runner.wait(10000)
