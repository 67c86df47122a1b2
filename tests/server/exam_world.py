"""Guard-exam enrolments driven through the API to a chosen stage, for the exam tests."""

from typing import Any

from server.db.approval_models import Application
from shared.enums import BusinessType
from tests.server.approval_world import World, application_body
from tests.server.world import _valid_id

ACTOR_OF_LEVEL = {"county": "xh_clerk", "city": "hz_clerk"}


def enrol(world: World, n: int) -> int:
    """A new enrolment of 考生<n> (its own ID number), waiting at level one."""
    body = application_body(BusinessType.guard_exam_enrolment, name=f"考生{n:02d}")
    id_number = _valid_id("330106", "19950505", f"{n:03d}")
    body["applicant_code"] = id_number
    body["persons"][0].update(id_number=id_number, name=f"考生{n:02d}", mobile="13900000000")
    body["form"] = {**body["form"], "training_unit": "杭州平安保安培训学校"}
    return int(world.apis["intake"].post("/applications", 201, json=body).json()["id"])


def _detail(world: World, api_name: str, app_id: int) -> dict[str, Any]:
    result: dict[str, Any] = world.apis[api_name].get(f"/applications/{app_id}").json()
    return result


def approve_steps(world: World, app_id: int, steps: int) -> None:
    """Open the gates of and approve the next ``steps`` steps."""
    for _ in range(steps):
        level = _detail(world, "intake", app_id)["current_task"]["level"]
        name = ACTOR_OF_LEVEL[level]
        api = world.apis[name]
        app = _detail(world, name, app_id)
        if not app["gate"]["approve_allowed"]:
            action = app["gate"]["action"]
            if action == "fingerprint":
                card = f"ZW330106{app_id:010d}"
                api.post(
                    f"/applications/{app_id}/fingerprint",
                    json={"version": app["version"], "card_number": card},
                )
            elif action == "payment":
                api.post("/applications/payments", json={"application_ids": [app_id]})
            else:
                api.post(f"/applications/{app_id}/screening")
        version = _detail(world, name, app_id)["version"]
        api.post(f"/applications/{app_id}/approve", json={"version": version, "opinion": "同意"})


def approved(world: World, n: int) -> int:
    app_id = enrol(world, n)
    approve_steps(world, app_id, 3)
    world.session.expire_all()
    application = world.session.get(Application, app_id)
    assert application is not None and application.status == "approved"
    return app_id
