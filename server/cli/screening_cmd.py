"""``sgss-server screening …``: the local watch list used for background screening."""

import typer

app = typer.Typer(help="人员背景审查", no_args_is_help=True)
