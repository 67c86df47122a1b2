"""The admin CLI through its real entry point, on SQLite and PostgreSQL."""

import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from server.clock import FrozenClock
from server.config import Settings
from server.db.models import Notification
from server.db.session import create_db_engine
from server.services import notifications
from shared.enums import BusinessType
from tests.server.approval_world import application_body, build


class Cli:
    """``sgss-server`` with the test's database: each call runs the real entry point
    (``server.cli.main.main``: argument parsing, the command, ``AppError`` → exit status 1) with
    the arguments, environment and standard input given, and returns what a finished process
    would (exit status, standard output and error).

    In this process by default: a new interpreter spends seconds of CPU importing the server
    before the command starts, and the suite runs hundreds of commands. What only a real process
    shows is tested with one: signals and the worker loop below, ``serve``
    (:meth:`process`), Chinese help and errors in any locale (test_cli_chinese.py), output
    through a legacy code page (tests/shared/test_console.py).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = {
            "SGSS_DATABASE_URL": settings.database_url,
            "SGSS_DATA_DIR": str(settings.data_dir),
            "SGSS_ARGON2_TIME_COST": "1",
            "SGSS_ARGON2_MEMORY_KIB": "1024",
            "SGSS_ARGON2_PARALLELISM": "1",
        }
        self.env = {**os.environ, **self.settings}

    def __call__(
        self, *args: str, stdin: str = "", ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        from server.cli import common
        from server.cli.main import main

        engines: list[Engine] = []

        def recording_engine(*a: Any, **kw: Any) -> Engine:
            engines.append(create_db_engine(*a, **kw))
            return engines[-1]

        argv, code, trace = sys.argv, 0, ""
        with CliRunner().isolation(input=stdin, env=self.settings) as (out, err, _):
            sys.argv = ["sgss-server", *args]
            common.create_db_engine = recording_engine  # type: ignore[assignment]
            try:
                main()
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
            except Exception:  # a crash: status 1 and the traceback, as a process would give
                code, trace = 1, traceback.format_exc()
            finally:
                sys.argv = argv
                common.create_db_engine = create_db_engine
                for engine in engines:  # what the process's exit would have closed
                    engine.dispose()
            sys.stdout.flush()
            sys.stderr.flush()
            result = subprocess.CompletedProcess(
                list(args), code, out.getvalue().decode(), err.getvalue().decode() + trace
            )
        assert (result.returncode == 0) == ok, (args, result.stdout, result.stderr)
        return result

    def process(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        """The command in a new ``python -m server.cli.main`` process."""
        result = subprocess.run(
            [sys.executable, "-m", "server.cli.main", *args],
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


def test_org_import_holds_rows_to_the_desks_rules(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    """A file brings in nothing the API would refuse: a name that only looks new (a zero-width
    space), one too long for its column, one with a line break, a malformed phone number."""
    cli("init-db")
    sheet = _sheet(
        tmp_path / "rows.xlsx",
        [
            ["杭州市公安局", "浙江省公安厅", "市级公安局", "330100", "", ""],
            ["杭州市公安局\u200b", "浙江省公安厅", "市级公安局", "330100", "", ""],
            ["局" * 101, "浙江省公安厅", "市级公安局", "330200", "", ""],
            ["宁波市\n公安局", "浙江省公安厅", "市级公安局", "330200", "", ""],
            ["温州市公安局", "浙江省公安厅", "市级公安局", "330300", "电话号码", ""],
        ],
    )
    result = cli("org", "import", str(sheet), ok=False)
    assert "第3行 [机构名称] 同一上级机构下已有同名机构" in result.stderr
    assert "第4行 [机构名称] 长度超出限制" in result.stderr
    assert "第5行 [机构名称] 不能包含换行、制表符等控制字符" in result.stderr
    assert "第6行 [联系电话] 格式不正确" in result.stderr
    engine = create_db_engine(settings.database_url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from orgs")).scalar() == 1
    engine.dispose()


def test_org_import_finds_a_parent_written_as_it_was_pasted(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    """A child row whose 上级机构 was copied from the row above, zero-width space and all, finds
    the organisation that row made (stored under its name as it reads)."""
    cli("init-db")
    sheet = _sheet(
        tmp_path / "pasted.xlsx",
        [
            ["杭州市公安局\u200b", "浙江省公安厅", "市级公安局", "330100", "", ""],
            ["上城区公安分局", "杭州市公安局\u200b", "county_bureau", "330102", "", ""],
            [
                "湖滨派出所",
                "\ufeff浙江省公安厅/杭州市公安局/上城区公安分局",
                "派出所",
                "330102",
                "",
                "",
            ],
        ],
    )
    assert "已导入 3 个机构" in cli("org", "import", str(sheet)).stdout
    engine = create_db_engine(settings.database_url)
    with engine.connect() as conn:
        names = set(conn.execute(text("select name from orgs")).scalars())
    engine.dispose()
    assert {"杭州市公安局", "上城区公安分局", "湖滨派出所"} <= names


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


def _start_worker(cli: Cli, *, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``worker run`` as a service manager starts it, except that a SIGINT the launching shell
    may ignore (a background run of the suite) is set back to its default, as in a terminal."""
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli.main", "worker", "run", "--interval", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**cli.env, "PYTHONUNBUFFERED": "1", **(env or {})},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_worker_run_loops_until_stopped(cli: Cli, stop: signal.Signals) -> None:
    cli("init-db")
    worker = _start_worker(cli)
    try:
        assert worker.stdout is not None
        assert "后台任务已启动" in worker.stdout.readline()
        assert "新超期审批环节 0 个" in worker.stdout.readline()
        assert "新超期审批环节 0 个" in worker.stdout.readline()  # it went round again
        worker.send_signal(stop)
        out, err = worker.communicate(timeout=30)
    finally:
        worker.kill()
    assert worker.returncode == 0, err
    assert out.strip() == "后台任务已停止"


class HeldGateway:
    """An SMS gateway that holds each request until released, so a test can stop the worker
    in the middle of a pass (a notification claimed, its delivery under way)."""

    def __init__(self) -> None:
        self.received = threading.Event()
        self.release = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                gateway.received.set()
                gateway.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[HeldGateway]:
    held = HeldGateway()
    yield held
    held.close()


def _queued_sms(cli: Cli, settings: Settings) -> int:
    cli("init-db")
    engine = create_db_engine(settings.database_url)
    with Session(engine) as session:
        queued = notifications.enqueue_sms(
            session,
            now=datetime.now(UTC),
            mobile="13812345678",
            subject="测试",
            body="停止测试",
            user_id=None,
        )
        session.commit()
        notification_id = queued.id
    engine.dispose()
    return notification_id


def _notification(settings: Settings, notification_id: int) -> Notification:
    engine = create_db_engine(settings.database_url)
    with Session(engine) as session:
        found = session.get(Notification, notification_id)
        assert found is not None
        session.expunge(found)
    engine.dispose()
    return found


def _stop_mid_pass(
    cli: Cli, gateway: HeldGateway, signals: list[signal.Signals]
) -> tuple[subprocess.Popen[str], str, str]:
    sms = {"SGSS_NOTIFICATION_SENDER": "http", "SGSS_SMS_GATEWAY_URL": gateway.url}
    worker = _start_worker(cli, env=sms)
    try:
        assert gateway.received.wait(60), "the worker never reached the gateway"
        for stop in signals:  # distinct signals: two of one kind may arrive as one
            worker.send_signal(stop)
        gateway.release.set()
        out, err = worker.communicate(timeout=30)
    finally:
        worker.kill()
    return worker, out, err


def test_worker_stopped_mid_pass_finishes_that_pass_first(
    cli: Cli, settings: Settings, gateway: HeldGateway
) -> None:
    notification_id = _queued_sms(cli, settings)
    worker, out, err = _stop_mid_pass(cli, gateway, [signal.SIGTERM])
    assert worker.returncode == 0, err
    assert "已发送通知 1 条" in out and out.strip().endswith("后台任务已停止")
    sent = _notification(settings, notification_id)
    assert (sent.status, sent.attempts, sent.sent_at is not None) == ("sent", 1, True)


def test_a_second_stop_signal_abandons_the_pass_and_rolls_it_back(
    cli: Cli, settings: Settings, gateway: HeldGateway
) -> None:
    notification_id = _queued_sms(cli, settings)
    worker, out, err = _stop_mid_pass(cli, gateway, [signal.SIGTERM, signal.SIGINT])
    assert worker.returncode == 1
    assert "未完成的一次执行已中断" in err and "已发送通知" not in out
    pending = _notification(settings, notification_id)
    assert (pending.status, pending.attempts) == ("pending", 0)


def test_serve_refuses_a_database_that_is_not_migrated(settings: Settings, tmp_path: Path) -> None:
    empty = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    refused = Cli(empty).process("serve", "--port", "1", ok=False)
    assert "数据库结构版本为 空" in refused.stderr
    assert "请先运行 sgss-server init-db" in refused.stderr
