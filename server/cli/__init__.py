"""The administrator's command line. Its Chinese for Click's and Typer's own words is set up here,
before any command module imports Typer (``server/cli/chinese.py`` says why)."""

from server.cli.chinese import use_chinese_messages

use_chinese_messages()
