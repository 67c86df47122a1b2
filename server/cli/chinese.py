"""Click's and Typer's own words in Chinese: help panels, ``用法：``, errors such as 没有命令.

Both libraries pass every string they show through ``gettext.gettext`` (the process-wide default
domain), and Typer evaluates its panel titles when it is imported. So before ``typer`` is first
imported, the default domain becomes ``sgss-cli``, bound to ``resources/locale``, and the language
is Chinese whatever the machine's locale (an administrator's shell on a server is often
``C`` or ``en_US``; SGSS speaks Chinese by rule). Strings outside the catalogue stay as they are.

Only when this process *is* the command line (``sgss-server`` or ``python -m server.cli.main``):
``LANGUAGE`` also reaches the C library once Qt or anything else calls ``setlocale``, and a test
process that merely imports the CLI must keep the machine's own messages (error texts, strerror).
"""

import gettext
import os
import sys
from importlib import resources
from pathlib import Path

DOMAIN = "sgss-cli"


def run_as_command_line() -> bool:
    args = getattr(sys, "orig_argv", sys.argv)[:4]
    return "server.cli.main" in args or any(Path(a).name.startswith("sgss-server") for a in args)


def use_chinese_messages() -> None:
    if not run_as_command_line():
        return
    folder = Path(str(resources.files("resources").joinpath("locale")))
    os.environ["LANGUAGE"] = "zh_CN"
    gettext.bindtextdomain(DOMAIN, folder)
    gettext.textdomain(DOMAIN)
