"""``sgss-server``: the administrator's command line. It calls services, never HTTP."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import heap
from server.cli import (
    certificate_cmd,
    listening,
    screening_cmd,
    sync_cmd,
    worker_cmd,
    workflow_cmd,
)
from server.cli.common import describe, fail, open_env, utc_now
from server.config import Settings
from server.db.migrate import current_revision, head_revision
from server.db.models import User
from server.demo import data as demo_data
from server.demo import history as demo_history
from server.services import (
    audit,
    bootstrap,
    notifications,
    org_import,
    users,
)
from server.services.certificates.from_review import CertificateIssuing
from server.services.certificates.keys import CertificateKeys
from server.services.documents.signing import DocumentSigner
from server.services.errors import AppError
from server.services.materials.store import MaterialStore
from server.services.passwords import Passwords
from shared.china_time import china_time
from shared.console import ensure_unicode_output

app = typer.Typer(help="SGSS 服务器管理命令", no_args_is_help=True, add_completion=False)
user_app = typer.Typer(help="用户账号管理", no_args_is_help=True)
org_app = typer.Typer(help="机构管理", no_args_is_help=True)
outbox_app = typer.Typer(help="通知发件箱", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(org_app, name="org")
app.add_typer(outbox_app, name="outbox")
app.add_typer(audit_app, name="audit")
app.add_typer(workflow_cmd.app, name="workflow")
app.add_typer(screening_cmd.app, name="screening")
app.add_typer(worker_cmd.app, name="worker")
app.add_typer(certificate_cmd.app, name="certificate")
app.add_typer(sync_cmd.app, name="sync")


@app.command("init-db")
def init_db(
    province: Annotated[str, typer.Option(help="省级行政区划代码")] = "330000",
) -> None:
    """迁移数据库到最新版本；空库时创建根机构（省级公安厅）。"""
    env = open_env()
    with env.session() as session:
        root = bootstrap.init_db(
            env.engine,
            session,
            now=utc_now(),
            province=province,
            certificate_keys=CertificateKeys(env.settings.data_dir),
        )
        typer.echo(f"数据库已就绪（{env.settings.database_kind}）；根机构：{root.name}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="监听端口")] = 8700,
    tls_cert: Annotated[
        Path | None, typer.Option(help="TLS 证书（PEM，可含中间证书）；默认 SGSS_TLS_CERT")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(help="TLS 私钥（PEM，不加密）；默认 SGSS_TLS_KEY")
    ] = None,
    allow_plain_http: Annotated[
        bool,
        typer.Option(
            "--allow-plain-http",
            help="未配置 TLS 时也允许在非本机地址上提供明文 HTTP（前端另有 HTTPS 代理时）",
        ),
    ] = False,
    watch_stdin: Annotated[
        bool, typer.Option(help="标准输入关闭时退出（由客户端启动的内置服务器使用）", hidden=True)
    ] = False,
) -> None:
    """启动 API 服务器（HTTPS；未配置证书时只在本机回环地址上提供 HTTP）。"""
    import uvicorn

    from server.app import create_app

    settings = Settings()
    try:
        listener = listening.plan(
            settings,
            host=host,
            port=port,
            tls_cert=tls_cert,
            tls_key=tls_key,
            allow_plain_http=allow_plain_http,
        )
    except listening.ListenError as refused:
        fail(str(refused))
    env = open_env(settings)
    current, head = current_revision(env.engine), head_revision()
    env.engine.dispose()
    if current != head:
        # serving an older schema would fail request by request; say so once, up front
        fail(f"数据库结构版本为 {current or '空'}，程序需要 {head}：请先运行 sgss-server init-db")
    if listener.notice:
        typer.echo(listener.notice, err=True)
    if watch_stdin:
        _exit_when_stdin_closes()

    served = create_app(env.settings)
    heap.settle()  # a process that serves nothing else
    uvicorn.run(
        served,
        host=listener.host,
        port=listener.port,
        ssl_certfile=listener.certfile,
        ssl_keyfile=listener.keyfile,
        log_level="info",
        access_log=env.settings.access_log,
        timeout_graceful_shutdown=listening.GRACEFUL_SHUTDOWN_SECONDS,
    )


def _exit_when_stdin_closes() -> None:
    """The embedded server's parent holds our stdin; when it dies, however it dies, the pipe
    closes and we stop too (portable, unlike parent-death signals)."""
    import os
    import signal
    import threading

    def watch() -> None:
        sys.stdin.read()
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="管理员用户名")],
    password_stdin: Annotated[bool, typer.Option(help="从标准输入读取密码")] = False,
    name: Annotated[str, typer.Option(help="姓名")] = "系统管理员",
) -> None:
    """创建拥有全部权限的管理员；未给密码时最后一行输出一次性密码。"""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    env = open_env()
    with env.session() as session:
        created = bootstrap.create_admin(
            session,
            now=utc_now(),
            passwords=Passwords(env.settings),
            username=username,
            password=password,
            name=name,
        )
    typer.echo(f"已创建管理员 {created.user.username}（根机构，全部权限，全部数据范围）")
    if created.generated:
        typer.echo("一次性密码（首次登录后必须修改）：", err=True)
        typer.echo(created.password)


def _user_id(session: Session, username: str) -> int:
    user_id = session.scalar(select(User.id).where(User.username == username.strip().lower()))
    if user_id is None:
        fail(f"用户 {username} 不存在")
    assert user_id is not None
    return user_id


@user_app.command("reset-password")
def user_reset_password(username: str) -> None:
    """重置密码；最后一行输出新的一次性密码。"""
    env = open_env()
    with env.session() as session:
        password = users.reset_password(
            session,
            None,
            _user_id(session, username),
            now=utc_now(),
            passwords=Passwords(env.settings),
        )
    typer.echo(f"已重置 {username} 的密码，原登录状态已失效。新的一次性密码：", err=True)
    typer.echo(password)


@user_app.command("unlock")
def user_unlock(username: str) -> None:
    """解除因密码错误导致的锁定。"""
    env = open_env()
    with env.session() as session:
        users.unlock(session, None, _user_id(session, username), now=utc_now())
    typer.echo(f"已解锁 {username}")


@user_app.command("disable")
def user_disable(username: str) -> None:
    """停用账号并使其登录状态立即失效。"""
    env = open_env()
    with env.session() as session:
        users.set_enabled_by_cli(session, _user_id(session, username), now=utc_now(), enabled=False)
    typer.echo(f"已停用 {username}")


@user_app.command("enable")
def user_enable(username: str) -> None:
    """重新启用账号。"""
    env = open_env()
    with env.session() as session:
        users.set_enabled_by_cli(session, _user_id(session, username), now=utc_now(), enabled=True)
    typer.echo(f"已启用 {username}")


@org_app.command("import")
def org_import_cmd(file: Path) -> None:
    """从 xlsx 导入机构（全部成功或全部不导入）。"""
    if not file.is_file():
        fail(f"文件不存在：{file}")
    env = open_env()
    with env.session() as session:
        created = org_import.import_orgs(session, file, now=utc_now(), actor=audit.CLI_ACTOR)
    typer.echo(f"已导入 {len(created)} 个机构")


@org_app.command("template")
def org_template(file: Path) -> None:
    """生成机构导入模板。"""
    org_import.write_template(file)
    typer.echo(f"已生成模板：{file}")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str | None, typer.Option(help="pending / sent / failed")] = None,
    limit: Annotated[int, typer.Option(help="最多显示条数")] = 50,
) -> None:
    """列出通知发件箱（最新在前）。"""
    env = open_env()
    with env.session() as session:
        rows = notifications.list_outbox(session, status=status, limit=limit)
        if not rows:
            typer.echo("发件箱为空")
        for n in rows:
            when = f"{china_time(n.created_at):%Y-%m-%d %H:%M:%S}"
            typer.echo(f"{n.id}\t{when}\t{n.status}\t{n.channel}:{n.recipient}\t{n.body}")


@outbox_app.command("dispatch")
def outbox_dispatch() -> None:
    """立即投递所有待发送的通知。"""
    sent = worker_cmd.dispatch_outbox(open_env(), now=utc_now())
    typer.echo(f"已发送 {sent} 条")


@audit_app.command("verify")
def audit_verify() -> None:
    """校验审计日志哈希链，发现被修改或删除的记录时以非零状态退出。"""
    env = open_env()
    with env.session() as session:
        report = audit.verify_chain(session)
    if report.ok:
        typer.echo(f"审计链完整：共校验 {report.checked} 条记录")
        return
    for problem in report.problems:
        typer.echo(problem, err=True)
    fail(f"审计链校验失败：{len(report.problems)} 处问题（共 {report.checked} 条记录）")


@app.command("demo-data")
def demo_data_cmd(
    province: Annotated[str, typer.Option(help="省级行政区划代码")] = "330000",
    size: Annotated[str, typer.Option(help="small / standard / large")] = "standard",
    seed: Annotated[int, typer.Option(help="随机种子（相同种子生成相同数据）")] = 2026,
    history: Annotated[
        int, typer.Option(help="另批量生成的历史申请件数（五年，用于性能测试）", min=0)
    ] = 0,
) -> None:
    """向新初始化的数据库写入演示数据。"""
    if size not in demo_data.SIZES:
        fail(f"未知的规模 {size}，可选：{', '.join(demo_data.SIZES)}")
    env = open_env()
    with env.session() as session:
        summary = demo_data.generate(
            session,
            now=utc_now(),
            passwords=Passwords(env.settings),
            signer=DocumentSigner(env.settings),
            province=province,
            size=size,
            seed=seed,
            store=MaterialStore(env.settings.data_dir / "materials"),
            certificates=CertificateIssuing(
                CertificateKeys(env.settings.data_dir), env.settings.certificate_number_format
            ),
        )
    typer.echo(
        f"演示数据已生成：{summary.orgs} 个机构，{summary.users} 个用户，{summary.roles} 个角色，"
        f"{summary.applications} 件申请；演示账号密码 {demo_data.DEMO_PASSWORD}"
    )
    if history:
        with env.session() as session:
            past = demo_history.generate_history(session, now=utc_now(), applications=history)
        typer.echo(
            f"历史申请已生成：{past.applications} 件，审批环节 {past.tasks} 个，"
            f"审批记录 {past.log_entries} 条，其中 {past.pending} 件仍在审批中"
        )


def main() -> None:
    ensure_unicode_output()
    try:
        app()
    except AppError as err:
        typer.echo(f"错误：{err.message}", err=True)
        if isinstance(err.details, list):
            for item in err.details:
                typer.echo(f"  {describe(item)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
