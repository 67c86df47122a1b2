"""The admin CLI through its real entry point, on SQLite and PostgreSQL."""

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.models import Notification
from server.db.session import create_db_engine
from shared.enums import BusinessType
from tests.server.approval_world import application_body, build


class Cli:
    def __init__(self, settings: Settings) -> None:
        self.env = {
            **os.environ,
            "SGSS_DATABASE_URL": settings.database_url,
            "SGSS_DATA_DIR": str(settings.data_dir),
            "SGSS_ARGON2_TIME_COST": "1",
            "SGSS_ARGON2_MEMORY_KIB": "1024",
            "SGSS_ARGON2_PARALLELISM": "1",
        }

    def __call__(
        self, *args: str, stdin: str = "", ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "server.cli.main", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )
        assert (result.returncode == 0) == ok, (args, result.stdout, result.stderr)
        return result


@pytest.fixture
def cli(settings: Settings) -> Cli:
    return Cli(settings)


def _login(settings: Settings, username: str, password: str) -> int:
    from fastapi.testclient import TestClient

    from server.app import create_app

    app = create_app(settings.model_copy(update={"argon2_memory_kib": 1024}))
    with TestClient(app) as client:
        code = client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        ).status_code
    app.state.engine.dispose()
    return code


def test_bootstrap_admin_and_account_commands(cli: Cli, settings: Settings) -> None:
    assert "浙江省公安厅" in cli("init-db").stdout
    created = cli("create-admin", "--username", "chief")
    one_time = created.stdout.strip().splitlines()[-1]
    assert len(one_time) == 12
    assert _login(settings, "chief", one_time) == 200
    cli("create-admin", "--username", "chief", ok=False)  # taken
    weak = cli(
        "create-admin", "--username", "second", "--password-stdin", stdin="123456\n", ok=False
    )
    assert "密码不符合规则" in weak.stderr
    cli("create-admin", "--username", "second", "--password-stdin", stdin="Deputy#Admin9\n")
    assert _login(settings, "second", "Deputy#Admin9") == 200

    for _ in range(5):
        _login(settings, "second", "wrong")
    assert _login(settings, "second", "Deputy#Admin9") == 423
    cli("user", "unlock", "second")
    assert _login(settings, "second", "Deputy#Admin9") == 200
    new_password = cli("user", "reset-password", "second").stdout.strip().splitlines()[-1]
    assert _login(settings, "second", new_password) == 200
    cli("user", "disable", "second")
    assert _login(settings, "second", new_password) == 403
    assert "不存在" in cli("user", "unlock", "ghost", ok=False).stderr
    assert "审计链完整" in cli("audit", "verify").stdout


def test_init_db_refuses_unknown_province(cli: Cli) -> None:
    assert "不是省级行政区划代码" in cli("init-db", "--province", "330100", ok=False).stderr


def _sheet(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["机构名称", "上级机构", "机构类型", "行政区划代码", "联系电话", "地址"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_org_import_all_or_nothing(cli: Cli, settings: Settings, tmp_path: Path) -> None:
    cli("init-db")
    bad = _sheet(
        tmp_path / "bad.xlsx",
        [
            ["杭州市公安局", "浙江省公安厅", "市级公安局", "330100", "", ""],
            ["上城区公安分局", "杭州市公安局", "county_bureau", "330102", "", ""],
            ["南京派出所", "上城区公安分局", "派出所", "320102", "", ""],
            ["", "不存在的局", "派出所", "330102", "", ""],
        ],
    )
    result = cli("org", "import", str(bad), ok=False)
    assert "第4行 [行政区划代码]" in result.stderr
    assert "第5行 [机构名称] 必填" in result.stderr
    assert "找不到上级机构“不存在的局”" in result.stderr
    engine = create_db_engine(settings.database_url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from orgs")).scalar() == 1
    good = _sheet(
        tmp_path / "good.xlsx",
        [
            ["杭州市公安局", "浙江省公安厅", "市级公安局", "330100", "0571-1", "杭州"],
            ["上城区公安分局", "浙江省公安厅/杭州市公安局", "county_bureau", "330102", "", ""],
            ["湖滨派出所", "上城区公安分局", "派出所", "330102", "", ""],
        ],
    )
    assert "已导入 3 个机构" in cli("org", "import", str(good)).stdout
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from orgs")).scalar() == 4
        path = conn.execute(text("select path from orgs where name = '湖滨派出所'")).scalar()
    engine.dispose()
    assert path is not None and path.count("/") == 5
    template = tmp_path / "template.xlsx"
    cli("org", "template", str(template))
    assert template.stat().st_size > 0


def test_audit_verify_exit_status_on_tamper(cli: Cli, settings: Settings) -> None:
    cli("init-db")
    cli("create-admin", "--username", "chief")
    engine = create_db_engine(settings.database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET actor_name = '某人' WHERE seq = 1"))
    engine.dispose()
    result = cli("audit", "verify", ok=False)
    assert "第1条记录内容已被修改" in result.stderr


def test_outbox_and_demo_data(cli: Cli, settings: Settings) -> None:
    cli("init-db")
    assert "发件箱为空" in cli("outbox", "list").stdout
    summary = cli("demo-data", "--size", "small").stdout
    assert "演示数据已生成" in summary
    again = cli("demo-data", "--size", "small", ok=False)
    assert "已有机构数据" in again.stderr
    engine = create_db_engine(settings.database_url)
    with engine.connect() as conn:
        cities = conn.execute(text("select count(*) from orgs where type = 'city_bureau'")).scalar()
        counties = conn.execute(
            text("select count(*) from orgs where type = 'county_bureau'")
        ).scalar()
    engine.dispose()
    assert cities == 11
    assert counties == 90
    assert _login(settings, "demo_admin", "Sgss@2026demo") == 200


@pytest.fixture
def clock() -> FrozenClock:
    """Applications made through the API here are submitted in 2025; the CLI runs on the real
    clock, so their first steps are long overdue when it looks."""
    return FrozenClock(datetime(2025, 3, 3, 1, tzinfo=UTC))


def test_worker_run_once_reminds_of_overdue_steps_and_delivers(
    cli: Cli, initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> None:
    world = build(initialised, client, settings, clock.now())
    world.apis["intake"].post(
        "/applications", 201, json=application_body(BusinessType.annual_report_filing)
    )
    first = cli("worker", "run-once").stdout
    assert "新超期审批环节 1 个" in first and "已发送通知 2 条" in first
    reminders = initialised.execute(
        select(Notification.user_id, Notification.status, Notification.sent_at).where(
            Notification.subject == "审批超期提醒"
        )
    ).all()
    # xh_clerk and xh_clerk2 both hold the county step; each is told once, and it went out
    assert sorted(r.user_id for r in reminders) == sorted(
        [world.users["xh_clerk"].id, world.users["xh_clerk2"].id]
    )
    assert {r.status for r in reminders} == {"sent"} and all(r.sent_at for r in reminders)
    again = cli("worker", "run-once").stdout
    assert "新超期审批环节 0 个" in again and "已发送通知 0 条" in again


def test_worker_run_loops_until_interrupted(cli: Cli) -> None:
    cli("init-db")
    worker = subprocess.Popen(
        [sys.executable, "-m", "server.cli.main", "worker", "run", "--interval", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**cli.env, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert worker.stdout is not None
        assert "后台任务已启动" in worker.stdout.readline()
        assert "新超期审批环节 0 个" in worker.stdout.readline()
        assert "新超期审批环节 0 个" in worker.stdout.readline()  # it went round again
        worker.send_signal(signal.SIGINT)
        out, err = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == 0, err
    assert "后台任务已停止" in out


def test_serve_refuses_a_database_that_is_not_migrated(settings: Settings, tmp_path: Path) -> None:
    empty = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    refused = Cli(empty)("serve", "--port", "1", ok=False)
    assert "数据库结构版本为 空" in refused.stderr
    assert "请先运行 sgss-server init-db" in refused.stderr
