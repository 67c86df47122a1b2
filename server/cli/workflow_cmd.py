"""``sgss-server workflow …``: validate, publish and list process definitions."""

from pathlib import Path
from typing import Annotated

import typer

from server.cli.common import fail, open_env, utc_now
from server.services import audit
from server.services.approvals import publishing
from server.services.approvals.definition import ProcessDef
from server.services.approvals.definition_files import DefinitionError, load_definition
from shared.china_time import china_time
from shared.enums import BusinessType

app = typer.Typer(help="审批流程定义", no_args_is_help=True)


def _load(file: Path) -> ProcessDef | None:
    """The definition in ``file``, or None after printing why it cannot be used."""
    if not file.is_file():
        typer.echo(f"✗ {file}：文件不存在", err=True)
        return None
    try:
        return load_definition(file)
    except DefinitionError as err:
        typer.echo(f"✗ {file}：{len(err.problems)} 处问题", err=True)
        for line in err.lines():
            typer.echo(f"  {line}", err=True)
        return None


@app.command("validate")
def validate(
    files: Annotated[list[Path], typer.Argument(help="流程定义文件（YAML）", show_default=False)],
) -> None:
    """校验流程定义文件，不写数据库；任一文件有误时以非零状态退出。"""
    invalid = 0
    for file in files:
        definition = _load(file)
        if definition is None:
            invalid += 1
            continue
        typer.echo(f"✓ {file}: {definition.name}, {len(definition.steps)} 个环节")
    if invalid:
        fail(f"{invalid} 个文件未通过校验")


@app.command("publish")
def publish(file: Annotated[Path, typer.Argument(help="流程定义文件（YAML）")]) -> None:
    """校验并发布为该业务类型的新版本；内容与最新版本相同时不产生新版本。

    已在审批中的申请继续按其提交时的版本办理，新版本只用于此后提交的申请。
    """
    definition = _load(file)
    if definition is None:
        fail("流程定义有误，未发布")
        return
    label = f"{definition.business_type}（{definition.business_type.label}）"
    env = open_env()
    with env.session() as session:
        before = publishing.latest(session, definition.business_type)
        row = publishing.publish(
            session,
            definition,
            source_name=file.name,
            source_text=file.read_text(encoding="utf-8-sig"),
            now=utc_now(),
            actor=audit.CLI_ACTOR,
        )
        session.commit()
    if before is not None and before.id == row.id:
        typer.echo(f"{label} 的内容与第 {row.version} 版相同，未发布新版本")
    else:
        typer.echo(f"已发布 {label}第 {row.version} 版")


@app.command("list")
def list_cmd() -> None:
    """列出每个业务类型的最新版本及其环节。"""
    env = open_env()
    with env.session() as session:
        rows = {row.business_type: row for row in publishing.latest_all(session)}
    for business_type in BusinessType:
        row = rows.get(str(business_type))
        if row is None:
            typer.echo(f"{business_type}\t{business_type.label}\t未发布")
            continue
        published = china_time(row.published_at).strftime("%Y-%m-%d %H:%M")
        chain = "→".join(step.name for step in publishing.process_of(row).steps)
        typer.echo(
            f"{business_type}\t{business_type.label}\t第{row.version}版\t{published}\t{chain}"
        )
