"""``sgss-server screening …``: the local watch list used for background screening."""

from pathlib import Path

import typer

from server.cli.common import fail, open_env, utc_now
from server.services import audit
from server.services.errors import AppError
from server.services.screening import import_watch_list, write_template

app = typer.Typer(help="人员背景审查", no_args_is_help=True)


@app.command("import")
def import_cmd(file: Path) -> None:
    """从 xlsx 或 csv 导入背景审查比对名单（全部成功或全部不导入）。"""
    if not file.is_file():
        fail(f"文件不存在：{file}")
    env = open_env()
    with env.session() as session:
        try:
            report = import_watch_list(session, file, now=utc_now(), actor=audit.CLI_ACTOR)
        except AppError as err:
            session.rollback()
            fail(err.message, err.details)
            return
        session.commit()
    typer.echo(
        f"比对名单导入完成：新增 {report.added} 条，更新 {report.updated} 条，"
        f"未变 {report.unchanged} 条"
    )


@app.command("template")
def template_cmd(file: Path) -> None:
    """生成比对名单导入模板（xlsx）。"""
    write_template(file)
    typer.echo(f"已生成模板：{file}")
