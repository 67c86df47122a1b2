"""``sgss-desk``: the SGSS desktop client."""

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from client.api import ApiClient
from client.embedded import embedded_for_file
from client.jobs import JobRunner
from client.preferences import Preferences
from client.resources import ensure_cjk_font, stylesheet
from client.views.context import DeskContext
from client.views.main_window import MainWindow
from client.views.pages import PAGES
from client.views.sign_in import SignInWindow
from shared.console import ensure_unicode_output


class Desk:
    """Sign-in → main window → (sign out) → sign-in again."""

    def __init__(self, context: DeskContext) -> None:
        self.context = context
        self.main: MainWindow | None = None
        self.sign_in = SignInWindow(context)
        self.sign_in.signed_in.connect(self._open_main)

    def show(self) -> None:
        self.sign_in.show()
        self.sign_in.try_remembered()

    def _open_main(self, context: DeskContext) -> None:
        self.main = MainWindow(context, PAGES)
        self.main.signed_out.connect(self._back_to_sign_in)
        self.sign_in.hide()
        self.main.show()

    def _back_to_sign_in(self) -> None:
        self.sign_in.password.clear()
        self.sign_in.show()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sgss-desk", description="保安服务监管信息系统桌面客户端")
    parser.add_argument("--check", action="store_true", help="检查工作站环境后退出")
    parser.add_argument("--server", help="服务器地址（默认使用上次登录的地址）")
    parser.add_argument(
        "--ca-cert",
        help="校验服务器证书用的公安局 CA 证书（PEM 文件）；启动客户端时保存，之后沿用",
    )
    parser.add_argument(
        "--embedded-db", type=Path, help="启动内置服务器并使用该 SQLite 数据库（演示用）"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    ensure_unicode_output()
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.check:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("sgss-desk")
    app.setOrganizationName("SGSS")
    from client.translations import install_qt_chinese  # Qt's own buttons and dialogs

    install_qt_chinese(app)
    prefs = Preferences()
    if args.check:
        from client.check import run_checks

        ca = prefs.ca_certificate if args.ca_cert is None else args.ca_cert
        sys.exit(1 if run_checks(app, args.server or prefs.server_url, ca=ca) else 0)
    ensure_cjk_font()
    app.setStyleSheet(stylesheet())
    embedded = None
    if args.embedded_db:
        embedded = embedded_for_file(args.embedded_db)
        prefs.server_url = embedded.start()
    elif args.server:
        prefs.server_url = args.server
    if args.ca_cert is not None:
        prefs.ca_certificate = str(Path(args.ca_cert).resolve()) if args.ca_cert else ""
    runner = JobRunner()
    api = ApiClient(prefs.server_url, verify=prefs.tls_verify)
    desk = Desk(DeskContext(api, runner, prefs))
    desk.show()
    try:
        code = app.exec()
    finally:
        runner.cancel_all()
        if embedded:
            embedded.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
