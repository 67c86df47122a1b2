"""``sgss-server sync …``: this node's key, the portal's keys, one cycle, and where sync stands.

The transport comes from ``transports.from_settings`` looked up at call time (module
attribute, not a name imported here), so tests can put a fake transport in its place.
"""

from datetime import datetime
from typing import Annotated

import typer

from server.cli.common import Env, fail, open_env, utc_now
from server.clock import SystemClock
from server.config import Settings
from server.services import audit
from server.services.errors import AppError
from server.services.sync import inbound, transports
from server.services.sync import keys as sync_keys
from server.services.sync.cycle import CycleSummary, run_once
from server.services.sync.status import sync_status
from server.services.sync.transports.base import TransportError
from shared.china_time import china_time

app = typer.Typer(help="内外网数据同步", no_args_is_help=True)
keys_app = typer.Typer(help="本节点的同步签名密钥", no_args_is_help=True)
peer_app = typer.Typer(help="外网门户的公钥", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(peer_app, name="peer")

NOT_CONFIGURED = (
    "未配置内外网数据同步：请设置 SGSS_SYNC_TRANSPORT=files（及 SGSS_SYNC_DIR）"
    "或 http（及 SGSS_SYNC_URL）"
)


class CycleNotRunError(Exception):
    """The cycle could not even start (not configured, transport unusable)."""


def describe_transport(settings: Settings) -> str | None:
    if settings.sync_transport == "files":
        return f"files: {settings.sync_dir}"
    if settings.sync_transport == "http":
        return f"http: {settings.sync_url}"
    return None


def run_cycle(env: Env) -> CycleSummary:
    """One cycle with the configured transport (what ``sync run-once`` and the worker run)."""
    if env.settings.sync_transport is None:
        raise CycleNotRunError(NOT_CONFIGURED)
    try:
        transport = transports.from_settings(env.settings)
    except (TransportError, ValueError) as err:
        raise CycleNotRunError(str(getattr(err, "message", err))) from err
    return run_once(
        env.engine,
        transport,
        data_dir=env.settings.data_dir,
        clock=SystemClock(),
        status_list_ttl_seconds=env.settings.certificate_status_list_ttl_seconds,
    )


def _when(moment: datetime) -> str:
    return f"{china_time(moment):%Y-%m-%d %H:%M:%S}"


@keys_app.command("init")
def keys_init(
    replace: Annotated[
        bool, typer.Option("--replace", help="已有密钥时仍生成新密钥（须把新公钥告知外网门户）")
    ] = False,
) -> None:
    """生成本节点的同步签名密钥（已有时不重复生成）；最后一行输出公钥。"""
    env = open_env()
    with env.session() as session:
        try:
            key, made = sync_keys.init_node_key(
                session,
                env.settings.data_dir,
                now=utc_now(),
                actor=audit.CLI_ACTOR,
                replace=replace,
            )
        except AppError as err:
            fail(err.message, err.details)
            return
        session.commit()
    typer.echo(f"同步签名密钥{'已生成' if made else '已存在'}：{key.key_id}（{key.path}）")
    typer.echo("本节点公钥（标准 Base64，交外网门户登记）：")
    typer.echo(key.public_text)


@keys_app.command("show")
def keys_show() -> None:
    """显示本节点的同步公钥：最后一行单独输出标准 Base64 公钥。"""
    settings = Settings()
    try:
        key = sync_keys.load_node_key(settings.data_dir)
    except AppError as err:
        fail(err.message, err.details)
        return
    typer.echo(f"节点：intranet；密钥标识：{key.key_id}")
    typer.echo(key.public_text)


@peer_app.command("add")
def peer_add(
    public_key: Annotated[str, typer.Option("--public-key", help="外网门户公钥（标准 Base64）")],
) -> None:
    """登记外网门户的公钥（同一公钥重复登记不变）。"""
    env = open_env()
    with env.session() as session:
        row, added = sync_keys.add_peer_key(
            session, public_key, now=utc_now(), actor=audit.CLI_ACTOR
        )
        session.commit()
    if added:
        typer.echo(f"已登记外网门户公钥：{row.key_id}")
    elif row.retired_at is not None:
        typer.echo(f"该公钥已登记，且已于 {_when(row.retired_at)} 停用：{row.key_id}")
    else:
        typer.echo(f"该公钥已登记：{row.key_id}")


@peer_app.command("retire")
def peer_retire(key_id: str) -> None:
    """停用外网门户的公钥：此后生成的同步包不再接受，停用前生成的仍可核验。"""
    env = open_env()
    with env.session() as session:
        row = sync_keys.retire_peer_key(session, key_id, now=utc_now(), actor=audit.CLI_ACTOR)
        session.commit()
    assert row.retired_at is not None
    typer.echo(f"已停用外网门户公钥 {row.key_id}（停用时间 {_when(row.retired_at)}）")


@peer_app.command("list")
def peer_list() -> None:
    """列出外网门户的公钥。"""
    env = open_env()
    with env.session() as session:
        rows = sync_keys.list_peer_keys(session)
    if not rows:
        typer.echo("尚未登记外网门户公钥")
    for row in rows:
        state = f"已停用（{_when(row.retired_at)}）" if row.retired_at else "使用中"
        typer.echo(f"{row.key_id}\t{state}\t{row.public_key}")


@app.command("run-once")
def run_once_cmd() -> None:
    """执行一次同步：导入全部收到的同步包，再发出一个同步包（未确认的记录或仅确认号）。"""
    try:
        summary = run_cycle(open_env())
    except CycleNotRunError as err:
        fail(str(err))
        return
    typer.echo(summary.line())
    if summary.error is not None:
        raise typer.Exit(1)


@app.command("status")
def status() -> None:
    """显示同步状态（每行“键: 值”）。"""
    env = open_env()
    with env.session() as session:
        found = sync_status(session, describe_transport(env.settings))
    for line in found.lines():
        typer.echo(line)


@app.command("reject-stuck")
def reject_stuck(
    seq: int,
    reason: Annotated[str, typer.Option("--reason", help="退回原因（随退回通知发往外网门户）")],
) -> None:
    """退回卡住的外网记录：以 record.rejected 答复外网门户，之后的记录继续应用。"""
    text = reason.strip()
    if not text:
        fail("请填写退回原因（--reason）")
        return
    env = open_env()
    with env.session() as session:
        inbound.reject_stuck(session, seq, reason=text[:500], actor=audit.CLI_ACTOR, now=utc_now())
        session.commit()
    typer.echo(f"已退回外网记录（序号 {seq}），下次同步将继续应用之后的记录")
