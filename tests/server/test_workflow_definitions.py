"""Process definitions as versioned data: files, validation, publishing, the CLI and the API."""

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import WorkflowDefinition
from server.db.models import AuditEntry
from server.db.session import create_session_factory
from server.services import audit, bootstrap
from server.services.approvals import publishing
from server.services.approvals.definition_files import (
    DefinitionError,
    Problem,
    default_definition_paths,
    load_definition,
    parse_definition,
)
from shared.approvals import AuthorityLevel, Gate
from shared.audit_actions import AuditAction
from shared.enums import APPLICANT_TYPES, ApprovalRole, BusinessType
from tests.server.conftest import Api
from tests.server.test_cli import Cli
from tests.server.world import make_user, root_id

BASE = """\
business_type: legal_rep_change
name: 保安服务公司法定代表人变更
steps:
  - key: county_confirm
    name: 县级确认
    level: county
    role: county_clerk
    time_limit_days: 5
    gates: [screening]
  - key: city_review
    name: 市级审核
    level: city
    role: city_clerk
    time_limit_days: 5
  - key: province_approval
    name: 省厅审批
    level: province
    role: province_clerk
    time_limit_days: 5
    final: true
"""

SOURCE = "legal_rep_change.yaml"


def edited(*pairs: tuple[str, str]) -> str:
    """BASE with each ``old`` (which must occur) replaced once by ``new``."""
    result = BASE
    for old, new in pairs:
        assert old in result, old
        result = result.replace(old, new, 1)
    return result


def problems_of(source: str) -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(source, SOURCE)
    return caught.value.problems


# --- the shipped files -------------------------------------------------------------------


def test_every_default_file_loads_and_covers_each_business_type() -> None:
    paths = default_definition_paths()
    processes = {path.stem: load_definition(path) for path in paths}
    assert set(processes) == {str(t) for t in BusinessType}
    for stem, process in processes.items():
        assert process.business_type == stem
        # an applicant's file starts at the county; 制证审批 (system-opened) at the city
        first = AuthorityLevel.county if stem in APPLICANT_TYPES else AuthorityLevel.city
        assert process.first.level == first
        assert all(step.time_limit_days == 5 for step in process.steps)
        walked, step = [], process.first
        while step is not None:
            walked.append(step.key)
            following = process.after(step.key)
            if following is None:
                assert step.final
            step = following
        assert walked == [s.key for s in process.steps]


def test_default_processes_match_the_sources() -> None:
    processes = {p.business_type: p for p in map(load_definition, default_definition_paths())}
    legal = processes[BusinessType.legal_rep_change]
    assert [(s.name, s.level, s.role) for s in legal.steps] == [
        ("县级确认", AuthorityLevel.county, ApprovalRole.county_clerk),
        ("市级审核", AuthorityLevel.city, ApprovalRole.city_clerk),
        ("省厅审批", AuthorityLevel.province, ApprovalRole.province_clerk),
    ]
    exam = processes[BusinessType.guard_exam_enrolment]
    assert [(s.name, s.role, s.gates) for s in exam.steps] == [
        ("一级审批", ApprovalRole.county_clerk, (Gate.screening,)),
        ("二级审批", ApprovalRole.county_leader, (Gate.fingerprint_card,)),
        ("三级审批", ApprovalRole.city_clerk, (Gate.payment,)),
    ]
    assert exam.steps[-1].final and exam.steps[-1].level == AuthorityLevel.city
    for licence in ("company_licence", "foreign_company_licence", "training_licence"):
        steps = processes[BusinessType(licence)].steps
        assert [s.level for s in steps] == ["county", "city", "province"]
        assert steps[0].gates == (Gate.screening,) and steps[2].final
    for filing in ("branch_filing", "self_recruit_filing", "cross_region_filing"):
        steps = processes[BusinessType(filing)].steps
        assert [(s.level, s.gates, s.final) for s in steps] == [
            ("county", (Gate.screening,), False),
            ("city", (), True),
        ]
    for plain in ("self_recruit_revocation", "annual_report_filing", "commendation"):
        steps = processes[BusinessType(plain)].steps
        assert [(s.role, s.gates) for s in steps] == [("county_clerk", ()), ("city_clerk", ())]


def test_default_files_say_in_flight_applications_keep_their_version() -> None:
    for path in default_definition_paths():
        header = path.read_text(encoding="utf-8").split("business_type:")[0]
        assert "已在审批中的申请" in header, path.name


def test_parsed_definition_round_trips_through_json() -> None:
    process = parse_definition(BASE, SOURCE)
    assert process.to_json()["steps"][0] == {
        "key": "county_confirm",
        "name": "县级确认",
        "level": "county",
        "role": "county_clerk",
        "time_limit_days": 5,
        "gates": ["screening"],
        "final": False,
    }
    assert type(process).from_json(process.to_json()) == process


# --- validation: each rule, its message and its line ---------------------------------------


def test_unknown_role_names_file_and_line() -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(edited(("role: city_clerk", "role: foo")), SOURCE)
    err = caught.value
    assert str(err) == 'legal_rep_change.yaml 第13行：未知的审批角色 "foo"'
    assert (err.source_name, err.line, err.message) == (SOURCE, 13, '未知的审批角色 "foo"')


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        pytest.param("steps: [\n  - key: a\n", 2, "YAML 语法错误", id="syntax"),
        pytest.param("- a\n- b\n", 1, "文件内容必须是映射", id="not-a-mapping"),
        pytest.param("", None, "文件为空", id="empty-file"),
        pytest.param(
            edited(("name: 保安服务公司法定代表人变更\n", "name: x\nowner: 省厅\n")),
            3,
            '未知的键 "owner"',
            id="unknown-top-key",
        ),
        pytest.param(
            edited(("name: 保安服务公司法定代表人变更\n", "")), 1, '缺少必填项 "name"', id="missing"
        ),
        pytest.param(
            edited(("business_type: legal_rep_change", "business_type: pet_licence")),
            1,
            '未知的业务类型 "pet_licence"',
            id="business-type",
        ),
        pytest.param(
            edited(("level: city", "level: town")), 12, '未知的审批层级 "town"', id="level"
        ),
        pytest.param(
            edited(("gates: [screening]", "gates: [screening, stamp]")),
            9,
            '未知的审批条件 "stamp"',
            id="gate",
        ),
        pytest.param(
            edited(("gates: [screening]", "gates: screening")), 9, "gates 必须是列表", id="gates"
        ),
        pytest.param(
            edited(("time_limit_days: 5\n    gates", "time_limit_days: 0\n    gates")),
            8,
            '办理时限 "0" 无效',
            id="time-zero",
        ),
        pytest.param(
            edited(("time_limit_days: 5\n    final", "time_limit_days: 61\n    final")),
            19,
            "必须是 1 到 60 之间的整数",
            id="time-too-long",
        ),
        pytest.param(
            edited(
                ("time_limit_days: 5\n  - key: province", "time_limit_days: 2.5\n  - key: province")
            ),
            14,
            '办理时限 "2.5" 无效',
            id="time-fraction",
        ),
        pytest.param(
            edited(
                ("time_limit_days: 5\n  - key: province", "time_limit_days: 五\n  - key: province")
            ),
            14,
            '办理时限 "五" 无效',
            id="time-text",
        ),
        pytest.param(
            edited(("key: city_review", "key: county_confirm")),
            10,
            '环节键 "county_confirm" 重复（第4行已使用）',
            id="duplicate-step",
        ),
        pytest.param(
            edited(("role: city_clerk\n", "role: city_clerk\n    next: city_approval\n")),
            14,
            'next 指向不存在的环节 "city_approval"',
            id="next-unknown",
        ),
        pytest.param(edited(("    final: true\n", "")), 3, "没有最终环节", id="no-final-step"),
        pytest.param(
            edited(("    final: true\n", "    final: true\n    next: county_confirm\n")),
            21,
            "是最终环节（final: true），不能再指定 next",
            id="final-with-next",
        ),
        pytest.param(
            "business_type: commendation\nname: 表彰奖励\nsteps: []\n",
            3,
            "steps 不能为空",
            id="empty-steps",
        ),
        pytest.param(
            "business_type: commendation\nname: 表彰奖励\nsteps:\n",
            3,
            "steps 不能为空",
            id="null-steps",
        ),
        pytest.param(
            edited(("role: city_clerk", "role: county_leader")),
            13,
            '审批角色 "county_leader"（县级领导）属于县级，不能用于市级环节',
            id="role-level",
        ),
        pytest.param(
            edited(("key: city_review", "key: City-Review")),
            10,
            '环节键 "City-Review" 格式不正确',
            id="step-key-format",
        ),
        pytest.param(
            edited(
                ("    role: county_clerk\n", "    role: county_clerk\n    role: county_leader\n")
            ),
            8,
            '键 "role" 重复（第7行已出现）',
            id="duplicate-yaml-key",
        ),
        pytest.param(
            edited(("    final: true\n", "    final: 是\n")),
            20,
            "final 必须是 true 或 false",
            id="final-not-bool",
        ),
        pytest.param(
            edited(("    name: 县级确认\n", "    name: 县级确认\n    deadline: 3\n")),
            6,
            '环节 "county_confirm" 未知的键 "deadline"',
            id="unknown-step-key",
        ),
        pytest.param(
            edited(("    time_limit_days: 5\n    gates", "    gates")),
            4,
            '环节 "county_confirm" 缺少必填项 "time_limit_days"',
            id="missing-step-key",
        ),
    ],
)
def test_validation_rule(source: str, line: int | None, message: str) -> None:
    found = problems_of(source)
    assert any(p.line == line and message in p.message for p in found), found


def test_cycle_is_reported_at_the_link_that_closes_it() -> None:
    source = edited(
        ("role: county_clerk\n", "role: county_clerk\n    next: city_review\n"),
        ("role: city_clerk\n", "role: city_clerk\n    next: county_confirm\n"),
    )
    found = problems_of(source)
    assert (
        Problem(
            15,
            '环节 "city_review" 的 next 指回环节 "county_confirm"，流程形成循环，'
            "永远到不了最终环节",
        )
        in found
    )
    assert any(p.line == 17 and "无法到达" in p.message for p in found)  # province_approval


def test_path_that_runs_off_the_end_without_a_final_step() -> None:
    """county → province (final) is fine, but county → (next) city → end is not."""
    source = edited(
        ("    gates: [screening]\n", "    gates: [screening]\n    next: spare\n"),
        (
            "    final: true\n",
            "    final: true\n  - key: spare\n    name: 备用\n    level: city\n"
            "    role: city_clerk\n    time_limit_days: 5\n",
        ),
    )
    found = problems_of(source)
    assert [p.line for p in found] == [11, 16, 22]
    assert "无法到达" in found[0].message and "city_review" in found[0].message
    assert "无法到达" in found[1].message and "province_approval" in found[1].message
    assert '走到环节 "spare"后流程就结束了' in found[2].message


def test_unreachable_step_after_a_final_step() -> None:
    source = edited(("role: city_clerk\n", "role: city_clerk\n    final: true\n"))
    found = problems_of(source)
    assert found == [Problem(16, '环节 "province_approval" 从第一个环节出发无法到达')]


def test_all_problems_of_a_file_are_reported_in_line_order() -> None:
    source = edited(
        ("business_type: legal_rep_change", "business_type: nope"),
        ("role: county_clerk", "role: foo"),
        ("time_limit_days: 5\n  - key: province", "time_limit_days: 99\n  - key: province"),
        ("level: province", "level: moon"),
    )
    with pytest.raises(DefinitionError) as caught:
        parse_definition(source, SOURCE)
    err = caught.value
    assert [p.line for p in err.problems] == [1, 7, 14, 17]
    assert str(err) == 'legal_rep_change.yaml 第1行：未知的业务类型 "nope"'
    assert err.lines()[1] == 'legal_rep_change.yaml 第7行：未知的审批角色 "foo"'


def test_load_definition_uses_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(edited(("level: county", "level: village")), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    assert str(caught.value) == 'mine.yaml 第6行：未知的审批层级 "village"'
    path.write_bytes("name: 县级".encode("gbk"))
    with pytest.raises(DefinitionError, match="UTF-8"):
        load_definition(path)


# --- publishing --------------------------------------------------------------------------


def _publish(session: Session, source: str, now: FrozenClock) -> WorkflowDefinition:
    return publishing.publish(
        session,
        parse_definition(source, SOURCE),
        source_name=SOURCE,
        source_text=source,
        now=now.now(),
        actor=audit.CLI_ACTOR,
    )


def _publish_audits(session: Session) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.action == AuditAction.WORKFLOW_PUBLISH)
        .order_by(AuditEntry.seq)
    )
    return list(session.scalars(stmt))


def test_publish_counts_versions_and_is_idempotent(session: Session, clock: FrozenClock) -> None:
    first = _publish(session, BASE, clock)
    session.commit()
    assert (first.business_type, first.version) == ("legal_rep_change", 1)
    assert first.content == parse_definition(BASE, SOURCE).to_json()

    again = _publish(session, "# 只改了注释和空行\n\n" + BASE, clock)
    session.commit()
    assert again.id == first.id and again.version == 1

    changed = edited(("time_limit_days: 5\n    final", "time_limit_days: 10\n    final"))
    second = _publish(session, changed, clock)
    session.commit()
    assert second.version == 2 and second.sha256 != first.sha256

    assert publishing.latest(session, BusinessType.legal_rep_change) == second
    assert [r.version for r in publishing.list_published(session)] == [2, 1]
    assert publishing.process_of(second).version == 2
    assert publishing.process_of(second).steps[-1].time_limit_days == 10
    assert publishing.process_of(first).steps[-1].time_limit_days == 5  # v1 never changes

    back = _publish(session, BASE, clock)  # going back to v1's content is a new version
    session.commit()
    assert back.version == 3

    entries = _publish_audits(session)
    assert [e.after["version"] for e in entries] == [1, 2, 3]  # type: ignore[index]
    assert entries[1].before == {"version": 1, "sha256": first.sha256}
    assert entries[1].after["source_text"] == changed  # type: ignore[index]
    assert audit.verify_chain(session).ok


def test_publish_defaults_only_fills_missing_types(session: Session, clock: FrozenClock) -> None:
    changed = edited(("name: 市级审核", "name: 地市审核"))
    _publish(session, changed, clock)
    published = publishing.publish_defaults(session, now=clock.now(), actor=audit.CLI_ACTOR)
    session.commit()
    assert len(published) == len(BusinessType) - 1
    assert "legal_rep_change" not in {r.business_type for r in published}
    assert publishing.publish_defaults(session, now=clock.now(), actor=audit.CLI_ACTOR) == []
    latest = {r.business_type: r for r in publishing.latest_all(session)}
    assert len(latest) == len(BusinessType) and all(r.version == 1 for r in latest.values())
    assert publishing.process_of(latest["legal_rep_change"]).steps[1].name == "地市审核"
    assert [r.business_type for r in publishing.latest_all(session)] == [
        str(t) for t in BusinessType
    ]


def test_init_db_publishes_every_default(
    app,
    initialised: Session,
    clock: FrozenClock,  # type: ignore[no-untyped-def]
) -> None:
    rows = publishing.latest_all(initialised)
    assert {r.business_type for r in rows} == {str(t) for t in BusinessType}
    assert all(r.version == 1 and r.published_by == "系统管理命令" for r in rows)
    assert {r.source_name for r in rows} == {f"{t}.yaml" for t in BusinessType}
    bootstrap.init_db(app.state.engine, initialised, now=clock.now(), province="330000")
    count = initialised.scalar(select(func.count()).select_from(WorkflowDefinition))
    assert count == len(BusinessType)
    assert len(_publish_audits(initialised)) == len(BusinessType)


def test_concurrent_publishers_take_turns_on_postgresql(
    app,
    database_url: str,
    clock: FrozenClock,  # type: ignore[no-untyped-def]
) -> None:
    """The second publisher waits for the first to commit, then reads its version: no
    duplicate version and no conflict for the administrator to retry."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite allows one writer at a time")
    factory = create_session_factory(app.state.engine)
    ten_days = edited(("time_limit_days: 5\n    final", "time_limit_days: 10\n    final"))
    three_days = edited(("time_limit_days: 5\n    final", "time_limit_days: 3\n    final"))
    outcome: dict[str, int] = {}

    def second() -> None:
        with factory() as session:
            outcome["version"] = _publish(session, three_days, clock).version
            session.commit()

    with factory() as first, factory() as observer:
        assert _publish(first, ten_days, clock).version == 1
        worker = threading.Thread(target=second)
        worker.start()
        _wait_until(
            lambda: (
                observer.scalar(
                    text(
                        "select count(*) from pg_locks where locktype = 'advisory' and not granted"
                    )
                )
                == 1
            )
        )
        first.commit()
        worker.join(timeout=30)
    assert outcome == {"version": 2}


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


# --- the CLI -----------------------------------------------------------------------------


@pytest.fixture
def cli(settings: Settings) -> Cli:
    return Cli(settings)


def test_cli_validate(cli: Cli, tmp_path: Path) -> None:
    paths = [str(p) for p in default_definition_paths()]
    result = cli("workflow", "validate", *paths)
    lines = result.stdout.splitlines()
    assert len(lines) == len(BusinessType) and all(line.startswith("✓ ") for line in lines)
    assert any(
        line.endswith("legal_rep_change.yaml: 保安服务公司法定代表人变更, 3 个环节")
        for line in lines
    )

    bad = tmp_path / "legal_rep_change.yaml"
    bad.write_text(
        edited(("role: city_clerk", "role: foo"), ("level: county", "level: x")), encoding="utf-8"
    )
    failed = cli("workflow", "validate", paths[0], str(bad), str(tmp_path / "none.yaml"), ok=False)
    assert failed.stdout.count("✓") == 1
    assert 'legal_rep_change.yaml 第6行：未知的审批层级 "x"' in failed.stderr
    assert 'legal_rep_change.yaml 第13行：未知的审批角色 "foo"' in failed.stderr
    assert "none.yaml：文件不存在" in failed.stderr
    assert "2 个文件未通过校验" in failed.stderr


def test_cli_publish_and_list(cli: Cli, tmp_path: Path) -> None:
    cli("init-db")
    listed = cli("workflow", "list").stdout.splitlines()
    assert len(listed) == len(BusinessType) and all("\t第1版\t" in line for line in listed)
    legal = next(line for line in listed if line.startswith("legal_rep_change\t"))
    assert legal.split("\t")[1] == "保安服务公司法定代表人变更"
    assert legal.endswith("\t县级确认→市级审核→省厅审批")

    file = tmp_path / "legal_rep_change.yaml"
    file.write_text(edited(("name: 市级审核", "name: 地市审核")), encoding="utf-8")
    published = cli("workflow", "publish", str(file)).stdout
    assert "已发布 legal_rep_change（保安服务公司法定代表人变更）第 2 版" in published
    assert "未发布新版本" in cli("workflow", "publish", str(file)).stdout

    file.write_text(
        edited(("time_limit_days: 5\n    final", "time_limit_days: 0\n    final")), encoding="utf-8"
    )
    refused = cli("workflow", "publish", str(file), ok=False)
    assert "第19行" in refused.stderr and "未发布" in refused.stderr

    legal = next(
        line
        for line in cli("workflow", "list").stdout.splitlines()
        if line.startswith("legal_rep_change\t")
    )
    assert "\t第2版\t" in legal and legal.endswith("县级确认→地市审核→省厅审批")


# --- the API -----------------------------------------------------------------------------


def test_api_lists_latest_definitions(admin: Api) -> None:
    items = admin.get("/workflows").json()
    assert [i["business_type"] for i in items] == [str(t) for t in BusinessType]
    legal = next(i for i in items if i["business_type"] == "legal_rep_change")
    assert legal["label"] == "保安服务公司法定代表人变更" and legal["version"] == 1
    assert legal["steps"][0] == {
        "key": "county_confirm",
        "name": "县级确认",
        "level": "county",
        "level_label": "县级",
        "role": "county_clerk",
        "role_label": "县级经办民警",
        "time_limit_days": 5,
        "gates": ["screening"],
        "gate_labels": ["人员背景审查"],
        "final": False,
        "next": None,
    }
    assert legal["steps"][-1]["final"] is True


def test_api_publish_and_versions(admin: Api, session: Session) -> None:
    body = {"source_name": SOURCE, "text": edited(("name: 省厅审批", "name: 省厅终审"))}
    created = admin.post("/workflows", 201, json=body).json()
    assert created["version"] == 2 and created["steps"][2]["name"] == "省厅终审"
    assert created["published_by"] == "系统管理员(root)"
    assert admin.post("/workflows", 201, json=body).json()["id"] == created["id"]
    versions = admin.get("/workflows/legal_rep_change/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert admin.get("/workflows/commendation/versions").json()[0]["version"] == 1
    assert admin.get("/workflows/pet_licence/versions", 422).json()["code"] == "VALIDATION_ERROR"
    entry = _publish_audits(session)[-1]
    assert entry.actor_name == "系统管理员(root)" and entry.after["version"] == 2  # type: ignore[index]


def test_api_invalid_definition_lists_every_problem(admin: Api) -> None:
    text_ = "\n\n" + edited(("role: city_clerk", "role: foo"), ("level: province", "level: x"))
    answer = admin.post("/workflows", 422, json={"source_name": SOURCE, "text": text_}).json()
    assert answer["code"] == "WORKFLOW_INVALID"
    assert answer["details"] == [
        {"line": 15, "message": '未知的审批角色 "foo"'},
        {"line": 19, "message": '未知的审批层级 "x"'},
    ]
    assert answer["message"].startswith("审批流程定义有误：legal_rep_change.yaml 第15行")
    broken = admin.post("/workflows", 422, json={"source_name": "x.yaml", "text": "a: [1,"}).json()
    assert broken["details"][0]["line"] == 1 and "YAML 语法错误" in broken["details"][0]["message"]
    assert [i["version"] for i in admin.get("/workflows").json()] == [1] * len(BusinessType)


def test_api_publish_needs_its_permission(client: TestClient, admin: Api) -> None:
    root = root_id(admin)

    def user_with(name: str, permissions: list[str]) -> Api:
        role = admin.post(
            "/roles",
            201,
            json={
                "name": name,
                "org_id": root,
                "permissions": permissions,
                "data_scope": {"kind": "all"},
            },
        ).json()
        return make_user(admin, client, name.lower(), root, role["id"])[1]

    viewer = user_with("Viewer", ["workflows:view"])
    assert len(viewer.get("/workflows").json()) == len(BusinessType)
    denied = viewer.post("/workflows", 403, json={"source_name": SOURCE, "text": BASE}).json()
    assert denied["code"] == "PERMISSION_DENIED"
    assert denied["details"] == {"permission": "workflows:publish"}

    nobody = user_with("Nobody", [])
    assert nobody.get("/workflows", 403).json()["details"] == {"permission": "workflows:view"}
    assert nobody.get("/workflows/legal_rep_change/versions", 403).status_code == 403

    publisher = user_with("Publisher", ["workflows:publish"])
    body = {"source_name": SOURCE, "text": edited(("name: 县级确认", "name: 县级核实"))}
    assert publisher.post("/workflows", 201, json=body).json()["version"] == 2
