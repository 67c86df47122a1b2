"""``sgss-server workflow …``: validate, publish and list process definitions."""

import typer

app = typer.Typer(help="审批流程定义", no_args_is_help=True)
