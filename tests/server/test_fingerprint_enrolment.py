"""Fingerprints enrolled on a station module: card numbers issued, duplicates refused, flagged."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import Application, FingerprintEnrolment
from server.db.models import AuditEntry
from shared.enums import BusinessType
from tests.server.approval_world import World, _valid_id, application_body, build
from tests.server.test_approvals import approve_current, detail

DEVICE = "fp-3f2a9c"


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


def enrolment_at_level_two(world: World, id_number: str | None = None, name: str = "王小明") -> int:
    body = application_body(BusinessType.guard_exam_enrolment, name=name)
    if id_number:
        body["applicant_code"] = id_number
        body["persons"] = [{**p, "id_number": id_number} for p in body["persons"]]
    body["persons"] = [{**p, "name": name} for p in body["persons"]]
    app_id = int(world.apis["intake"].post("/applications", 201, json=body).json()["id"])
    approve_current(world, app_id, "一级通过")
    return app_id


def enrol(world: World, app_id: int, slot: int, status: int = 200) -> dict[str, Any]:
    clerk = world.apis["xh_clerk"]
    version = detail(clerk, app_id)["version"]
    return clerk.post(
        f"/applications/{app_id}/fingerprint/enrolment",
        status,
        json={"version": version, "device_id": DEVICE, "slot": slot},
    ).json()


def match(world: World, app_id: int, slot: int) -> dict[str, Any]:
    return (
        world.apis["xh_clerk"]
        .post(
            f"/applications/{app_id}/fingerprint/match",
            json={"device_id": DEVICE, "slot": slot, "score": 180},
        )
        .json()
    )


def test_enrolment_issues_a_card_number_and_opens_level_two(world: World) -> None:
    app_id = enrolment_at_level_two(world)
    assert detail(world.apis["xh_clerk"], app_id)["gate"]["label"] == "获取指纹卡号"
    enrolled = enrol(world, app_id, slot=7)
    # ZW + the enrolling station's region (the county bureau's 330106) + a 10-digit serial
    assert enrolled["fingerprint_card_no"] == "ZW3301060000000001"
    assert enrolled["gate"]["label"] == "同意" and enrolled["gate"]["approve_allowed"]
    second = enrolment_at_level_two(world, _valid_id("330106", "19960606", "051"), "李四")
    assert enrol(world, second, slot=8)["fingerprint_card_no"] == "ZW3301060000000002"
    session = world.session
    session.expire_all()
    if True:
        rows = session.scalars(select(FingerprintEnrolment).order_by(FingerprintEnrolment.id)).all()
        assert [(r.slot, r.person_name, r.device_id) for r in rows] == [
            (7, "王小明", DEVICE),
            (8, "李四", DEVICE),
        ]
    again = enrol(world, app_id, slot=9, status=409)
    assert "已有指纹卡号" in again["message"]


def test_a_finger_enrolled_under_another_identity_is_refused_and_flagged(world: World) -> None:
    first = enrolment_at_level_two(world)
    enrol(world, first, slot=3)
    other = enrolment_at_level_two(world, _valid_id("330106", "19960606", "051"), "李四")
    before = detail(world.apis["xh_clerk"], other)["version"]
    verdict = match(world, other, slot=3)
    assert verdict["verdict"] == "duplicate"
    assert "王小明" in verdict["message"] and verdict["application_number"]
    assert verdict["id_number"] is not None and "*" in verdict["id_number"]
    after = detail(world.apis["xh_clerk"], other)
    assert after["fingerprint_card_no"] is None and after["version"] == before
    progress = world.apis["xh_clerk"].get(f"/applications/{other}/progress").json()
    flagged = [e for e in progress["entries"] if e["action"] == "fp_duplicate"]
    assert len(flagged) == 1 and "王小明" in flagged[0]["opinion"]
    session = world.session
    session.expire_all()
    if True:
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "application.fingerprint_duplicate" in actions
    # the applicant may not see the flag: it is an internal line
    external = world.apis["xh_clerk"].get(f"/applications/{other}/external").json()
    assert "王小明" not in str(external)


def test_the_same_person_again_and_an_unregistered_slot(world: World) -> None:
    first = enrolment_at_level_two(world)
    enrol(world, first, slot=3)
    retake = enrolment_at_level_two(world)  # the same ID number applies for a later exam
    assert match(world, retake, slot=3)["verdict"] == "same_person"
    assert enrol(world, retake, slot=3)["fingerprint_card_no"] == "ZW3301060000000002"
    assert match(world, retake, slot=40)["verdict"] == "unknown"


def test_a_reused_slot_releases_the_stale_record(world: World) -> None:
    first = enrolment_at_level_two(world)
    enrol(world, first, slot=5)
    # the module was emptied; a different person's template now sits in slot 5
    other = enrolment_at_level_two(world, _valid_id("330106", "19960606", "051"), "李四")
    enrol(world, other, slot=5)
    session = world.session
    session.expire_all()
    if True:
        rows = session.scalars(select(FingerprintEnrolment).order_by(FingerprintEnrolment.id)).all()
        assert [r.released_at is not None for r in rows] == [True, False]
        assert match(world, other, slot=5)["verdict"] == "same_person"


def test_enrolment_needs_the_permission_and_an_open_enrolment(world: World) -> None:
    app_id = enrolment_at_level_two(world)
    version = detail(world.apis["xh_clerk"], app_id)["version"]
    body = {"version": version, "device_id": DEVICE, "slot": 1}
    world.apis["intake"].post(f"/applications/{app_id}/fingerprint/enrolment", 403, json=body)
    stale = {**body, "version": version - 1}
    world.apis["xh_clerk"].post(f"/applications/{app_id}/fingerprint/enrolment", 409, json=stale)
    licence = world.apis["intake"].post(
        "/applications", 201, json=application_body(BusinessType.company_licence)
    )
    world.apis["xh_clerk"].post(
        f"/applications/{licence.json()['id']}/fingerprint/match",
        409,
        json={"device_id": DEVICE, "slot": 1, "score": 100},
    )
    session = world.session
    session.expire_all()
    if True:
        assert session.get(Application, app_id).fingerprint_card_no is None


def test_an_issued_number_skips_one_typed_in_from_another_system(world: World) -> None:
    typed = enrolment_at_level_two(world)
    clerk = world.apis["xh_clerk"]
    clerk.post(
        f"/applications/{typed}/fingerprint",
        json={"version": detail(clerk, typed)["version"], "card_number": "ZW3301060000000001"},
    )
    other = enrolment_at_level_two(world, _valid_id("330106", "19960606", "051"), "李四")
    assert enrol(world, other, slot=2)["fingerprint_card_no"] == "ZW3301060000000002"
