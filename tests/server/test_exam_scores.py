"""录入成绩 through the API on SQLite and PostgreSQL, with real xlsx files: the template
downloaded and filled with openpyxl as a clerk's Excel would, the import (every problem in one
answer, nothing written on error, dry run, grading, re-import), the grid, 通知成绩, 更正成绩,
permissions, scope, size, and two imports at once."""

import io
import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Text, cast, func, select, text
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import Application
from server.db.exam_models import ExamCandidate, ExamScoreAmendment
from server.db.models import AuditEntry, Notification, User
from server.db.session import create_session_factory
from server.services.authz import principal_for
from server.services.exams import scores
from server.services.scoresheets.spec import CHECK_SHEET, SCORES_SHEET, SUMMARY_SHEET
from server.services.spreadsheets import ImportLimits
from shared.exams import EnrolmentStatus
from tests.server.approval_world import World, build
from tests.server.conftest import Api
from tests.server.exam_world import approved
from tests.server.test_exams import new_exam
from tests.server.world import _valid_id

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# columns of the template: A 准考证号, B 姓名, C 身份证号, D 理论, E 实操, F 缺考
X_N = next(n for n in range(50, 999) if _valid_id("330106", "19950505", f"{n:03d}").endswith("X"))


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


def published(
    world: World,
    admin: Api,
    session: Session,
    clock: FrozenClock,
    numbers: tuple[int, ...] = (1, 2, 3),
    *,
    name: str = "2026年第一期保安员资格考试",
    api: Api | None = None,
    sit: bool = True,
) -> dict[str, Any]:
    """An exam of the candidates 考生<n>, published; with ``sit`` it took place an hour ago,
    otherwise it begins in ten minutes (the clock cannot move far: sign-ins would expire)."""
    api = api or admin
    ids = [approved(world, n) for n in numbers]
    start = clock.now() + (timedelta(hours=-3) if sit else timedelta(minutes=10))
    exam = new_exam(
        api,
        session,
        clock,
        seats=len(ids),
        name=name,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
    )
    exam = api.post(
        f"/exams/{exam['id']}/candidates", json={"version": exam["version"], "application_ids": ids}
    ).json()
    result: dict[str, Any] = api.post(
        f"/exams/{exam['id']}/publish", json={"version": exam["version"]}
    ).json()
    return result


def sheet(api: Api, exam_id: int) -> dict[str, Any]:
    result: dict[str, Any] = api.get(f"/exams/{exam_id}/scores").json()
    return result


def fill(data: bytes, values: dict[int, tuple[Any, ...]]) -> bytes:
    """The workbook with row r's cells from column D set to ``values[r]`` (theory, practice,
    absent, …), saved as Excel would; other rows are left as they are."""
    book = load_workbook(io.BytesIO(data))
    grid = book[SCORES_SHEET]
    for row, cells in values.items():
        for offset, value in enumerate(cells):
            grid.cell(row=row, column=4 + offset, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(api: Api, exam_id: int, data: bytes, expect: int = 200, *, dry_run: bool = False) -> Any:
    params = {"dry_run": "true"} if dry_run else {}
    return api.post(
        f"/exams/{exam_id}/scores/import",
        expect,
        params=params,
        files={"file": ("成绩.xlsx", data, XLSX)},
    )


def template(api: Api, exam_id: int) -> bytes:
    response = api.get(f"/exams/{exam_id}/score-template")
    assert response.headers["content-type"] == XLSX
    return bytes(response.content)


def audit_actions(session: Session, action: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0


def test_template_round_trip_grades_by_the_rule_and_a_reimport_changes_nothing(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    exam = published(world, admin, session, clock)
    response = admin.get(f"/exams/{exam['id']}/score-template")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "filename*=UTF-8''" in disposition and "%E6%88%90%E7%BB%A9" in disposition  # 成绩
    book = load_workbook(io.BytesIO(response.content))
    assert book[CHECK_SHEET].sheet_state == "veryHidden"
    rows = [list(r) for r in book[SCORES_SHEET].iter_rows(values_only=True)]
    assert rows[0] == ["准考证号", "姓名", "身份证号", "理论（满分100）", "实操（满分100）", "缺考"]
    lines = sheet(admin, exam["id"])["lines"]
    assert [r[0] for r in rows[1:]] == [line["admission_number"] for line in lines]
    assert [r[1] for r in rows[1:]] == ["考生01", "考生02", "考生03"]
    assert rows[1][2] == _valid_id("330106", "19950505", "001")  # in full: the exam roll

    filled = fill(response.content, {2: (85, 70), 3: (59, 90), 4: (None, None, "是")})
    dry = upload(admin, exam["id"], filled, dry_run=True).json()
    assert dry == {
        "dry_run": True,
        "rows": 3,
        "scored": 2,
        "absent": 1,
        "passed": 1,
        "failed": 1,
        "unchanged": 0,
        "written": 3,
        "not_in_file": 0,
    }
    assert sheet(admin, exam["id"])["counts"]["entered"] == 0  # a dry run writes nothing
    assert audit_actions(session, "exam.scores_import") == 0

    done = upload(admin, exam["id"], filled).json()
    assert {k: done[k] for k in ("dry_run", "rows", "passed", "failed", "absent", "written")} == {
        "dry_run": False,
        "rows": 3,
        "passed": 1,
        "failed": 1,
        "absent": 1,
        "written": 3,
    }
    grid = sheet(admin, exam["id"])
    by_name = {line["name"]: line for line in grid["lines"]}
    assert by_name["考生01"]["result"] == "passed" and by_name["考生01"]["total"] == 155
    assert by_name["考生02"]["result_label"] == "不合格"
    assert by_name["考生02"]["reasons"] == ["理论 59 分，低于合格分数 60 分"]
    assert by_name["考生03"]["absent"] and by_name["考生03"]["scores"] == {}
    assert by_name["考生01"]["id_number"] == _valid_id("330106", "19950505", "001")  # admin
    assert grid["counts"] == {
        "candidates": 3,
        "entered": 3,
        "passed": 1,
        "failed": 1,
        "absent": 1,
        "missing": 0,
    }
    session.expire_all()
    stored = session.scalars(select(ExamCandidate).order_by(ExamCandidate.admission_number))
    assert [s.scores for s in stored] == [
        {"theory": 85, "practice": 70},
        {"theory": 59, "practice": 90},
        {},
    ]

    again = upload(admin, exam["id"], filled).json()
    assert (again["unchanged"], again["written"]) == (3, 0)
    # the template downloaded now carries the marks entered: importing it changes nothing
    refilled = template(admin, exam["id"])
    assert upload(admin, exam["id"], refilled).json()["unchanged"] == 3
    assert audit_actions(session, "exam.scores_import") == 1


def test_every_problem_is_reported_in_one_answer_and_nothing_is_written(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    other = published(
        world, admin, session, clock, (9,), name="2026年第二期保安员资格考试", sit=False
    )
    exam = published(world, admin, session, clock, (1, 2, 3, 4))
    stranger = sheet(admin, other["id"])["lines"][0]["admission_number"]
    data = template(admin, exam["id"])
    book = load_workbook(io.BytesIO(data))
    grid = book[SCORES_SHEET]
    grid["D2"], grid["E2"] = "八十五", 101  # not a number; out of range
    grid["D3"], grid["E3"], grid["F3"] = 80, 70, "是"  # absent and scored
    grid["D4"] = 75  # 实操 missing
    grid["B5"], grid["D5"], grid["E5"] = "别人", 60, 60  # name not the listed one
    grid.append([grid["A2"].value, "考生01", grid["C2"].value, 90, 90])  # duplicate of row 2
    grid.append(["2026999999", "某人", _valid_id("330106"), 90, 90])  # unknown
    grid.append([stranger, "考生09", _valid_id("330106", "19950505", "009"), 90, 90])  # other exam
    buffer = io.BytesIO()
    book.save(buffer)
    bad = buffer.getvalue()

    answer = upload(admin, exam["id"], bad, 422).json()
    assert answer["code"] == "SCORE_IMPORT_INVALID"
    found = {(p["row"], p["column"]): p["message"] for p in answer["details"]["rows"]}
    assert all(p["sheet"] == "成绩" for p in answer["details"]["rows"])
    assert found[(2, "理论（满分100）")] == "“八十五”不是数字"
    assert found[(2, "实操（满分100）")] == "成绩101超出范围，应在0至100之间"
    assert found[(3, "理论（满分100）")] == "已标记缺考，不应填写成绩"
    assert found[(4, "实操（满分100）")] == "缺少该科目成绩"
    assert found[(5, "姓名")] == "姓名与考试名单不符，请勿修改考生信息"
    assert found[(6, "准考证号")] == "与第2行重复（准考证号相同）"
    assert found[(7, "准考证号")] == "准考证号“2026999999”不在本场考试名单中"
    assert found[(8, "准考证号")].startswith("该考生属于其他考试（2026年第二期保安员资格考试）")
    assert answer["details"]["total"] == len(found) == 9
    assert upload(admin, exam["id"], bad, 422, dry_run=True).json()["details"] == answer["details"]
    assert sheet(admin, exam["id"])["counts"]["entered"] == 0  # nothing written
    assert audit_actions(session, "exam.scores_import") == 0

    marked = admin.post(
        f"/exams/{exam['id']}/scores/error-workbook", files={"file": ("成绩.xlsx", bad, XLSX)}
    )
    assert marked.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in marked.headers["content-disposition"]
    errors = load_workbook(io.BytesIO(marked.content))
    assert errors.sheetnames[0] == SUMMARY_SHEET
    assert errors[SCORES_SHEET]["D2"].comment.text == "“八十五”不是数字"
    assert errors[SCORES_SHEET]["D2"].fill.fgColor.rgb.endswith("FFC7CE")

    # the clerk corrects the red cells in the error workbook and imports that file
    fixed = errors[SCORES_SHEET]
    fixed["D2"], fixed["E2"] = 85, 100
    fixed["D3"] = fixed["E3"] = None
    fixed["E4"] = 30
    fixed["B5"] = "考生04"
    fixed.delete_rows(6, 3)
    buffer = io.BytesIO()
    errors.save(buffer)
    done = upload(admin, exam["id"], buffer.getvalue()).json()
    assert {k: done[k] for k in ("rows", "passed", "failed", "absent")} == {
        "rows": 4,
        "passed": 2,
        "failed": 1,
        "absent": 1,
    }


def test_what_clerks_type_is_accepted(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    exam = published(world, admin, session, clock, (1, 2, X_N))
    data = template(admin, exam["id"])
    book = load_workbook(io.BytesIO(data))
    grid = book[SCORES_SHEET]
    assert grid["C4"].value.endswith("X")
    grid["D2"], grid["E2"] = "８５", " 60.0 "  # full-width digits; "60.0" with spaces
    grid["D3"], grid["E3"] = "85.0", "７０．５"
    grid["C4"] = grid["C4"].value.lower()  # lower-case x in the ID number
    grid["F4"] = " 是 "
    buffer = io.BytesIO()
    book.save(buffer)
    done = upload(admin, exam["id"], buffer.getvalue()).json()
    assert (done["passed"], done["absent"]) == (2, 1)
    lines = sheet(admin, exam["id"])["lines"]
    assert [line["scores"] for line in lines] == [
        {"theory": 85, "practice": 60},
        {"theory": 85, "practice": 70.5},
        {},
    ]


def test_a_template_of_another_exam_is_refused(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    one = published(world, admin, session, clock, (1,), sit=False)
    two = published(world, admin, session, clock, (2,), name="2026年第二期保安员资格考试")
    foreign = fill(template(admin, one["id"]), {2: (90, 90)})
    answer = upload(admin, two["id"], foreign, 422).json()
    assert [p["message"] for p in answer["details"]["rows"]] == [
        "该模板属于其他考试（2026年第一期保安员资格考试），请使用本系统下载的本场考试成绩模板"
    ]
    assert answer["details"]["rows"][0]["sheet"] == CHECK_SHEET


def test_the_grid_saves_one_candidate_with_the_same_rules(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    exam = published(world, admin, session, clock, (1, 2))
    first, second = sheet(admin, exam["id"])["lines"]
    path = f"/exams/{exam['id']}/candidates/{first['id']}/scores"
    line = admin.call("PUT", path, 200, json={"scores": {"theory": "８５", "practice": 59}}).json()
    assert (line["result"], line["total"], line["entered"]) == ("failed", 144, True)
    bad = admin.call(
        "PUT", path, 422, json={"absent": True, "scores": {"theory": "abc", "practice": 50}}
    ).json()
    assert bad["code"] == "SCORE_INVALID"
    assert bad["details"]["rows"] == [
        {"sheet": None, "row": None, "column": "理论", "message": "“abc”不是数字"},
        {"sheet": None, "row": None, "column": "实操", "message": "已标记缺考，不应填写成绩"},
    ]
    empty = admin.call("PUT", path, 422, json={"scores": {}}).json()
    assert empty["details"]["rows"][0]["message"] == "未填写成绩；缺考请在“缺考”列填“是”"
    absent = admin.call(
        "PUT", f"/exams/{exam['id']}/candidates/{second['id']}/scores", json={"absent": True}
    ).json()
    assert absent["result_label"] == "缺考"
    admin.call("PUT", f"/exams/{exam['id']}/candidates/999999/scores", 404, json={"absent": True})
    assert audit_actions(session, "exam.scores_update") == 2
    # saving the same values again writes nothing
    admin.call("PUT", path, 200, json={"scores": {"theory": 85, "practice": 59}})
    assert audit_actions(session, "exam.scores_update") == 2


def test_notify_locks_the_scores_and_queues_one_sms_and_one_app_notice_each(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    exam = published(world, admin, session, clock)
    data = template(admin, exam["id"])
    book = load_workbook(io.BytesIO(fill(data, {2: (85, 70), 3: (59, 90)})))
    book[SCORES_SHEET].delete_rows(4)  # a candidate left out of the file: not entered yet
    buffer = io.BytesIO()
    book.save(buffer)
    assert upload(admin, exam["id"], buffer.getvalue()).json()["not_in_file"] == 1
    version = admin.get(f"/exams/{exam['id']}").json()["version"]
    incomplete = admin.post(f"/exams/{exam['id']}/scores/notify", 409, json={"version": version})
    assert incomplete.json()["code"] == "SCORES_INCOMPLETE"
    assert incomplete.json()["details"]["missing"] == 1
    upload(admin, exam["id"], fill(data, {2: (85, 70), 3: (59, 90), 4: (None, None, "是")}))
    stale = admin.post(f"/exams/{exam['id']}/scores/notify", 409, json={"version": version + 1})
    assert stale.json()["code"] == "STALE_VERSION"
    session.expire_all()
    before = session.scalar(select(func.count()).select_from(Notification)) or 0

    grid = admin.post(f"/exams/{exam['id']}/scores/notify", json={"version": version}).json()
    assert (
        grid["locked"]
        and not grid["may_enter"]
        and grid["refusal"].startswith("本场考试已通知成绩")
    )
    session.expire_all()
    notices = session.scalars(
        select(Notification).where(Notification.subject == "保安员资格考试成绩通知")
    ).all()
    assert (session.scalar(select(func.count()).select_from(Notification)) or 0) - before == 6
    assert sorted(n.channel for n in notices) == ["app"] * 3 + ["sms"] * 3
    texts = sorted(n.body for n in notices if n.channel == "sms")
    assert any("理论 85 分、实操 70 分，结果：合格" in t for t in texts)
    assert any("结果：不合格（理论 59 分，低于合格分数 60 分）" in t for t in texts)
    assert any("缺考" in t for t in texts)
    seats = session.scalars(select(ExamCandidate)).all()
    assert all(s.scores_locked and not s.is_open and s.scores_notified_at for s in seats)
    assert audit_actions(session, "exam.scores_notify") == 1
    statuses = {
        line["name"]: line["status"] for line in admin.get("/exam-enrolments").json()["items"]
    }
    assert statuses == {
        "考生01": EnrolmentStatus.certificate_review,
        "考生02": EnrolmentStatus.failed,
        "考生03": EnrolmentStatus.failed,
    }

    locked = upload(admin, exam["id"], data, 409).json()
    assert (locked["code"], locked["message"]) == (
        "SCORES_LOCKED",
        "本场考试已通知成绩，成绩已锁定；如需修改请使用【更正成绩】并填写原因",
    )
    line = grid["lines"][0]
    admin.call(
        "PUT", f"/exams/{exam['id']}/candidates/{line['id']}/scores", 409, json={"absent": True}
    )
    again = admin.post(f"/exams/{exam['id']}/scores/notify", 409, json={"version": version + 1})
    assert again.json()["code"] == "SCORES_LOCKED"


def test_an_amendment_after_the_lock_needs_a_reason_is_audited_and_notified(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    exam = published(world, admin, session, clock, (1, 2))
    upload(admin, exam["id"], fill(template(admin, exam["id"]), {2: (85, 70), 3: (59, 90)}))
    second = sheet(admin, exam["id"])["lines"][1]
    body = {"candidate_id": second["id"], "scores": {"theory": 61, "practice": 90}}
    early = admin.post(f"/exams/{exam['id']}/scores/amend", 409, json={**body, "reason": "复核"})
    assert early.json()["code"] == "SCORES_NOT_LOCKED"
    version = admin.get(f"/exams/{exam['id']}").json()["version"]
    admin.post(f"/exams/{exam['id']}/scores/notify", json={"version": version})
    session.expire_all()
    before = session.scalar(select(func.count()).select_from(Notification)) or 0

    for reason in ("", "  ", "复"):
        refused = admin.post(
            f"/exams/{exam['id']}/scores/amend", 422, json={**body, "reason": reason}
        )
        assert refused.json()["code"] == "SCORE_AMEND_REASON_REQUIRED"
    same = {**body, "scores": {"theory": 59, "practice": 90}, "reason": "复核无误"}
    assert admin.post(f"/exams/{exam['id']}/scores/amend", 422, json=same).json()["code"] == (
        "SCORE_AMEND_NO_CHANGE"
    )
    line = admin.post(
        f"/exams/{exam['id']}/scores/amend", json={**body, "reason": "试卷复核，理论漏计2分"}
    ).json()
    assert (line["result"], line["amendments"]) == ("passed", 1)
    session.expire_all()
    amendment = session.scalars(select(ExamScoreAmendment)).one()
    assert amendment.before == {
        "absent": False,
        "scores": {"theory": 59, "practice": 90},
        "result": "failed",
    }
    assert amendment.after["result"] == "passed" and amendment.reason == "试卷复核，理论漏计2分"
    assert amendment.amended_by_id is not None
    told = session.scalars(
        select(Notification).where(Notification.subject == "保安员资格考试成绩更正通知")
    ).all()
    assert len(told) == 2 and all("成绩已更正" in n.body and "合格" in n.body for n in told)
    assert (session.scalar(select(func.count()).select_from(Notification)) or 0) - before == 2
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "exam.scores_amend")
    ).one()
    assert entry.after["reason"] == "试卷复核，理论漏计2分"  # type: ignore[index]
    assert entry.before["result"] == "failed"  # type: ignore[index]
    history = admin.get(f"/exams/{exam['id']}/scores/amendments").json()
    assert [(h["name"], h["reason"]) for h in history] == [("考生02", "试卷复核，理论漏计2分")]
    application = session.get(Application, second["application_id"])
    assert application is not None
    enrolments = admin.get("/exam-enrolments").json()["items"]
    statuses = {line["application_id"]: line["status"] for line in enrolments}
    assert statuses[application.id] == EnrolmentStatus.certificate_review


def test_scores_wait_for_a_published_exam_that_has_begun(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    draft = new_exam(admin, session, clock)
    refused = admin.get(f"/exams/{draft['id']}/score-template", 409).json()
    assert refused["code"] == "SCORES_EXAM_NOT_PUBLISHED"
    exam = published(world, admin, session, clock, (1,), sit=False)
    data = fill(template(admin, exam["id"]), {2: (90, 90)})  # the template is ready at once
    early = upload(admin, exam["id"], data, 409).json()
    assert (early["code"], early["message"]) == (
        "SCORES_EXAM_NOT_STARTED",
        "考试尚未开始，不能录入成绩",
    )
    assert sheet(admin, exam["id"])["refusal"] == "考试尚未开始，不能录入成绩"
    clock.advance(minutes=11)  # the exam has begun
    assert upload(admin, exam["id"], data).json()["passed"] == 1


def test_permissions_and_data_scope_are_enforced(
    world: World, admin: Api, session: Session, clock: FrozenClock, client: TestClient
) -> None:
    everything = [
        "exams:view",
        "exams:create",
        "exams:update",
        "exams:publish",
        "exam_scores:view",
        "exam_scores:update",
        "exam_scores:import",
        "exam_scores:notify",
        "exam_scores:amend",
        "applications:view",
    ]
    clerks = world.role("考试民警", world.orgs["root"], everything, "own_subtree")
    viewers = world.role("成绩查看", world.orgs["root"], ["exam_scores:view"], "own_subtree")
    hz = world.user("hz_exams", world.orgs["hz"], clerks)
    nb = world.user("nb_exams", world.orgs["nb"], clerks)
    looker = world.user("hz_looker", world.orgs["hz"], viewers)
    exam = published(world, admin, session, clock, (1, 2), api=hz)
    data = fill(template(hz, exam["id"]), {2: (90, 90), 3: (None, None, "是")})

    lines = sheet(looker, exam["id"])["lines"]
    assert lines[0]["id_number"] != _valid_id("330106", "19950505", "001")  # masked
    assert "*" in lines[0]["id_number"]
    denied = upload(looker, exam["id"], data, 403).json()
    assert denied["details"] == {"permission": "exam_scores:import"}
    looker.get(f"/exams/{exam['id']}/score-template", 403)
    path = f"/exams/{exam['id']}/candidates/{lines[0]['id']}/scores"
    looker.call("PUT", path, 403, json={"absent": True})
    # a clerk of another city holds every permission and still does not find the exam
    assert nb.get(f"/exams/{exam['id']}/scores", 404).json()["code"] == "NOT_FOUND"
    nb.get(f"/exams/{exam['id']}/score-template", 404)
    upload(nb, exam["id"], data, 404)
    nb.call("PUT", path, 404, json={"absent": True})
    nb.post(f"/exams/{exam['id']}/scores/notify", 404, json={"version": 1})
    assert upload(hz, exam["id"], data).json()["written"] == 2


def test_an_oversized_upload_is_refused_before_it_is_read(
    world: World, admin: Api, session: Session, clock: FrozenClock, settings: Settings
) -> None:
    exam = published(world, admin, session, clock, (1,))
    huge = b"PK" + b"\0" * (settings.import_max_bytes + 128 * 1024)
    refused = upload(admin, exam["id"], huge, 413).json()
    assert refused["code"] == "REQUEST_TOO_LARGE"


def test_two_identical_imports_at_once_leave_one_set_of_scores(
    world: World, app: Any, admin: Api, session: Session, clock: FrozenClock
) -> None:
    exam = published(world, admin, session, clock)
    data = fill(template(admin, exam["id"]), {2: (85, 70), 3: (59, 90), 4: (None, None, "是")})
    root = session.scalar(select(User).where(User.username == "root"))
    assert root is not None
    factory = create_session_factory(app.state.engine)
    key = app.state.context.signer.key
    barrier = threading.Barrier(2)
    outcomes: list[tuple[int, int]] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with factory() as own:
                principal = principal_for(own, own.get(User, root.id))  # type: ignore[arg-type]
                barrier.wait()
                counts = scores.import_scores(
                    own, principal, exam["id"], data, key=key, limits=ImportLimits(),
                    dry_run=False, now=clock.now(),
                )  # fmt: skip
                outcomes.append((counts.written, counts.unchanged))
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert sorted(outcomes) == [(0, 3), (3, 0)]
    assert audit_actions(session, "exam.scores_import") == 1
    session.expire_all()
    assert [
        s.result for s in session.scalars(select(ExamCandidate).order_by(ExamCandidate.id))
    ] == [
        "passed",
        "failed",
        "absent",
    ]


def test_notify_opens_certificate_reviews_and_an_amendment_respects_them(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    """通知成绩 opens one 制证审批 per pass; 更正成绩 cannot take a pass away while its review is
    in the inbox, may once the review said 不同意, and a new pass opens a review."""
    exam = published(world, admin, session, clock, (1, 2))
    upload(admin, exam["id"], fill(template(admin, exam["id"]), {2: (85, 70), 3: (59, 90)}))
    version = admin.get(f"/exams/{exam['id']}").json()["version"]
    admin.post(f"/exams/{exam['id']}/scores/notify", json={"version": version})
    first, second = sheet(admin, exam["id"])["lines"]

    def reviews() -> dict[int, Application]:
        session.expire_all()
        rows = session.scalars(
            select(Application).where(Application.business_type == "guard_certificate")
        )
        return {row.source_application_id: row for row in rows}  # type: ignore[misc]

    assert list(reviews()) == [first["application_id"]]
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "exam.scores_notify")
    ).one()
    assert entry.after["reviews"] == 1  # type: ignore[index]

    take_away = {
        "candidate_id": first["id"],
        "scores": {"theory": 50, "practice": 70},
        "reason": "复核发现理论成绩登记错误",
    }
    refused = admin.post(f"/exams/{exam['id']}/scores/amend", 409, json=take_away)
    assert refused.json()["code"] == "SCORE_AMEND_UNDER_REVIEW"
    assert sheet(admin, exam["id"])["lines"][0]["result"] == "passed"  # nothing written

    give = {"candidate_id": second["id"], "scores": {"theory": 60, "practice": 90}}
    admin.post(f"/exams/{exam['id']}/scores/amend", json={**give, "reason": "复核，漏计1分"})
    assert sorted(reviews()) == sorted([first["application_id"], second["application_id"]])

    review = reviews()[first["application_id"]]
    city = world.apis["hz_clerk"]
    detail = city.get(f"/applications/{review.id}").json()
    city.post(
        f"/applications/{review.id}/reject",
        json={"version": detail["version"], "reason": "成绩待复核", "corrections": ["复核成绩"]},
    )
    statuses = {
        line["application_id"]: line["status"]
        for line in admin.get("/exam-enrolments").json()["items"]
    }
    assert statuses[first["application_id"]] == EnrolmentStatus.certificate_refused
    line = admin.post(f"/exams/{exam['id']}/scores/amend", json=take_away).json()
    assert line["result"] == "failed"
    statuses = {
        line["application_id"]: line["status"]
        for line in admin.get("/exam-enrolments").json()["items"]
    }
    assert statuses[first["application_id"]] == EnrolmentStatus.failed


def _stored(session: Session) -> list[tuple[Any, ...]]:
    """Every seat as the database holds it, the JSON as its text."""
    session.expire_all()
    rows = session.execute(
        select(
            ExamCandidate.admission_number,
            ExamCandidate.absent,
            cast(ExamCandidate.scores, Text),
            ExamCandidate.result,
            ExamCandidate.scored_at,
            ExamCandidate.scored_by_id,
        ).order_by(ExamCandidate.admission_number)
    )
    return [tuple(row) for row in rows]


def test_an_import_writes_what_changed_the_same_way_on_both_engines(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    """The set-based write stores the JSON text and timestamps the grid would, compares a
    stored value written some other way by its meaning, and rewrites only what changed."""
    exam = published(world, admin, session, clock)
    data = template(admin, exam["id"])
    first = fill(data, {2: (85, "７０．５"), 3: (59, 90), 4: (None, None, "是")})
    root = session.scalar(select(User.id).where(User.username == "root"))
    imported_at = clock.now()
    assert upload(admin, exam["id"], first).json()["written"] == 3
    numbers = [line["admission_number"] for line in sheet(admin, exam["id"])["lines"]]
    stored = _stored(session)
    assert [row[:4] for row in stored] == [
        (numbers[0], False, '{"practice": 70.5, "theory": 85}', "passed"),
        (numbers[1], False, '{"practice": 90, "theory": 59}', "failed"),
        (numbers[2], True, "{}", "absent"),
    ]
    assert all(row[4] == imported_at and row[5] == root for row in stored)
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "exam.scores_import")
    ).one()
    after_import = dict(entry.after or {})
    assert re.fullmatch("[0-9a-f]{64}", after_import.pop("digest"))
    assert after_import == {
        "rows": 3,
        "scored": 2,
        "absent": 1,
        "passed": 1,
        "failed": 1,
        "unchanged": 0,
        "written": 3,
        "not_in_file": 0,
        "filename": "成绩.xlsx",
    }

    # 考生02's marks as another writer might have stored them: same meaning, other text
    other_text = '{"theory":59,"practice":90}'
    as_json = (
        "CAST(:marks AS json)" if session.get_bind().dialect.name == "postgresql" else ":marks"
    )
    session.execute(
        text(f"UPDATE exam_candidates SET scores = {as_json} WHERE admission_number = :number"),
        {"marks": other_text, "number": numbers[1]},
    )
    session.commit()
    clock.advance(minutes=5)
    second = fill(data, {2: (86, 70.5), 3: (59, 90), 4: (None, None, "是")})
    dry = upload(admin, exam["id"], second, dry_run=True).json()
    done = upload(admin, exam["id"], second).json()
    assert {k: v for k, v in dry.items() if k != "dry_run"} == {
        k: v for k, v in done.items() if k != "dry_run"
    }
    assert (done["written"], done["unchanged"], done["passed"]) == (1, 2, 1)
    after = _stored(session)
    assert after[0][2:5] == ('{"practice": 70.5, "theory": 86}', "passed", clock.now())
    assert after[1] == (*stored[1][:2], other_text, *stored[1][3:])  # left as it was
    assert after[2] == stored[2]
    assert audit_actions(session, "exam.scores_import") == 2

    # one bad row after good ones: 422, and not one row of the file is written
    clock.advance(minutes=5)
    third = fill(data, {2: (40, 40), 3: (100, 100), 4: (None, None, "待定")})
    answer = upload(admin, exam["id"], third, 422).json()
    assert [(p["row"], p["column"]) for p in answer["details"]["rows"]] == [(4, "缺考")]
    assert _stored(session) == after
    assert audit_actions(session, "exam.scores_import") == 2
