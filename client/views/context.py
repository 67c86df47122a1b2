"""What every screen of a signed-in session shares."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QWidget

from client.api import ApiClient, ApiError
from client.api.errors import DeskErrorCode
from client.jobs import Job, JobRunner
from client.preferences import Preferences
from shared.schemas.users import Me


@dataclass
class DeskContext:
    api: ApiClient
    runner: JobRunner
    prefs: Preferences
    me: Me | None = None

    def connect(self, server: str) -> ApiClient:
        """A new client for ``server`` (not yet signed in), trusting this workstation's CA."""
        self.api = ApiClient(server, verify=self.prefs.tls_verify)
        return self.api

    def call(
        self,
        parent: QWidget,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_error: Callable[[ApiError], None] | None = None,
    ) -> Job:
        """Run ``fn`` off the UI thread. If the session has ended, ask for the password again
        (a modal dialog over the open form, so nothing typed is lost) and retry once."""
        from client.views.reauth import ReauthDialog

        def failed(err: Exception) -> None:
            if isinstance(err, ApiError) and err.session_ended and self.me is not None:
                dialog = ReauthDialog(self, parent, err.message)
                if dialog.exec():
                    self.runner.submit(fn, on_success, failed_again)
                    return
            failed_again(err)

        def failed_again(err: Exception) -> None:
            error = (
                err if isinstance(err, ApiError) else ApiError(DeskErrorCode.CLIENT_ERROR, str(err))
            )
            if on_error is not None:
                on_error(error)

        return self.runner.submit(fn, on_success, failed)
