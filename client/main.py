"""``sgss-desk``: the SGSS desktop client."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from shared.console import ensure_unicode_output

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from client.preferences import Preferences
    from client.session import Session


class Desk:
    """Sign-in → main window → (sign out) → sign-in again.

    Only the sign-in window is built at start; the main window and its pages are imported once
    someone has signed in, so the first window appears quickly."""

    def __init__(self, session: Session) -> None:
        from client.views.sign_in import SignInWindow

        self.session = session
        self.main: QWidget | None = None
        self.sign_in = SignInWindow(session)
        self.sign_in.signed_in.connect(self._open_main)

    def show(self) -> None:
        self.sign_in.show()
        self.sign_in.try_remembered()

    def _open_main(self, session: Session) -> None:
        from client.views.main_window import MainWindow
        from client.views.pages import PAGES

        main = MainWindow(session, PAGES)
        main.signed_out.connect(self._back_to_sign_in)
        self.main = main
        self.sign_in.hide()
        main.show()
        main.open_start_page()

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
        "--allow-insecure-http",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="允许以明文 http:// 连接其他机器上的服务器（不加密，仅限无法启用 TLS 的内网）；"
        "启动客户端时保存，之后沿用；--no-allow-insecure-http 撤销",
    )
    parser.add_argument(
        "--embedded-db", type=Path, help="启动内置服务器并使用该 SQLite 数据库（演示用）"
    )
    return parser.parse_args(argv)


def desk_session(prefs: Preferences) -> Session:
    """The session of this desk: the runner, a client for the last server, the re-auth dialog."""
    from client.jobs.runner import JobRunner
    from client.session import Session
    from client.views.reauth import ask_password

    return Session(None, JobRunner(), prefs, reauthenticate=ask_password)


def main(argv: list[str] | None = None) -> None:
    ensure_unicode_output()
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.check:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from client.preferences import Preferences
    from client.resources import ensure_cjk_font, stylesheet

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("sgss-desk")
    app.setOrganizationName("SGSS")
    from client.translations import install_qt_chinese  # Qt's own buttons and dialogs

    install_qt_chinese(app)
    from client.qt import collector  # cycles are collected on this thread, never a worker's

    collector.install(app)
    prefs = Preferences()
    if args.check:
        from client.check import run_checks

        ca = prefs.ca_certificate if args.ca_cert is None else args.ca_cert
        insecure = args.allow_insecure_http
        allowed = prefs.allow_insecure_http if insecure is None else insecure
        server = args.server or prefs.server_url
        sys.exit(1 if run_checks(app, server, ca=ca, allow_insecure_http=allowed) else 0)
    ensure_cjk_font()
    app.setStyleSheet(stylesheet())
    embedded = None
    if args.embedded_db:
        from client.embedded import embedded_for_file

        embedded = embedded_for_file(args.embedded_db)
        prefs.server_url = embedded.start()
    elif args.server:
        prefs.server_url = args.server
    if args.ca_cert is not None:
        prefs.ca_certificate = str(Path(args.ca_cert).resolve()) if args.ca_cert else ""
    if args.allow_insecure_http is not None:
        prefs.allow_insecure_http = args.allow_insecure_http
    session = desk_session(prefs)
    desk = Desk(session)
    desk.show()
    try:
        code = app.exec()
    finally:
        session.runner.cancel_all()
        if embedded:
            embedded.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
