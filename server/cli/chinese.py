"""Click's and Typer's own words in Chinese: help panels, ``用法：``, errors such as 没有命令.

Both libraries pass every string they show through ``gettext.gettext`` (the process-wide default
domain), and Typer evaluates its panel titles when it is imported. So before ``typer`` is first
imported, the default domain becomes ``sgss-cli``, bound to ``resources/locale``, and the language
is Chinese whatever the machine's locale (an administrator's shell on a server is often
``C`` or ``en_US``; SGSS speaks Chinese by rule). Strings outside the catalogue stay as they are.
"""

import gettext
import os
from importlib import resources
from pathlib import Path

DOMAIN = "sgss-cli"


def use_chinese_messages() -> None:
    folder = Path(str(resources.files("resources").joinpath("locale")))
    os.environ["LANGUAGE"] = "zh_CN"
    gettext.bindtextdomain(DOMAIN, folder)
    gettext.textdomain(DOMAIN)
