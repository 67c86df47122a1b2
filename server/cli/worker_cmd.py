"""``sgss-server worker …``: the background work a server needs besides answering requests.

One pass flags newly overdue approval steps (queuing one SMS per approver), delivers the
outbox, and runs one sync cycle when sync is configured (``SGSS_SYNC_TRANSPORT``; a failing
cycle is reported in the pass's line and the loop goes on). The first two claim rows with
``SKIP LOCKED`` on PostgreSQL and the sync cycle runs under its own lock, so a pass may run on
several hosts at once (or from cron while ``worker run`` loops) without sending anything twice.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import typer

from server import heap
from server.cli import sync_cmd
from server.cli.common import Env, open_env, utc_now
from server.cli.graceful import GracefulStop, Stopped
from server.services import notifications
from server.services.approvals.deadlines import notify_overdue
from shared.china_time import china_time

app = typer.Typer(help="后台任务：审批超期提醒、通知投递、内外网数据同步", no_args_is_help=True)


@dataclass(frozen=True)
class Pass:
    overdue_steps: int
    sent: int
    sync: str | None = None
    """The sync cycle's one line, None when sync is not configured."""

    def summary(self) -> str:
        text = (
            f"本次执行：新超期审批环节 {self.overdue_steps} 个（已排队提醒），"
            f"已发送通知 {self.sent} 条"
        )
        return text if self.sync is None else f"{text}；{self.sync}"


def dispatch_outbox(env: Env, *, now: datetime) -> int:
    """Deliver every pending notification once through the configured sender (what
    ``outbox dispatch`` does); returns how many were sent."""
    with env.session() as session:
        sender = notifications.sender_from_settings(env.settings)
        return notifications.deliver_pending(session, sender, now=now)


def sync_pass(env: Env) -> str | None:
    """One sync cycle's line; a cycle that fails (or cannot start) is a line too, never an
    exception, so the other work of the pass is not lost with it."""
    if env.settings.sync_transport is None:
        return None
    try:
        return sync_cmd.run_cycle(env).line()
    except Exception as err:
        return f"同步未执行：{type(err).__name__}: {err}"


def one_pass(env: Env) -> Pass:
    with env.session() as session:
        flagged = notify_overdue(session, now=utc_now())
    sent = dispatch_outbox(env, now=utc_now())
    return Pass(flagged, sent, sync_pass(env))


@app.command("run-once")
def run_once() -> None:
    """执行一次：标记新超期的审批环节并排队短信提醒，然后投递发件箱中待发送的通知。"""
    typer.echo(one_pass(open_env()).summary())


@app.command("run")
def run(
    interval: Annotated[float, typer.Option(min=1, help="两次执行之间的间隔（秒）")] = 60,
) -> None:
    """循环执行，直到按 Ctrl-C 或收到 SIGTERM（服务停止）：正在进行的一次执行完成后退出。

    某次执行失败时记录原因，下次照常执行。
    """
    env = open_env()
    heap.settle()  # a long-lived process: sync applies thousands of records in a pass
    typer.echo(f"后台任务已启动，每 {interval:g} 秒执行一次；按 Ctrl-C 停止")
    try:
        with GracefulStop() as stop:
            while True:
                with stop.busy():
                    _logged_pass(env)
                stop.sleep(interval)
    except Stopped as stopped:
        if stopped.abandoned:
            typer.echo("后台任务已停止：未完成的一次执行已中断（其数据库事务已回滚）", err=True)
            raise typer.Exit(1) from None
        typer.echo("后台任务已停止")


def _logged_pass(env: Env) -> None:
    stamp = f"{china_time(utc_now()):%Y-%m-%d %H:%M:%S}"
    try:
        typer.echo(f"[{stamp}] {one_pass(env).summary()}")
    except Exception as err:  # a database or gateway outage must not end the loop
        typer.echo(f"[{stamp}] 执行失败：{type(err).__name__}: {err}", err=True)
