"""The signed-in session: the API client, who is signed in, and how work reaches the server.

Every view and model of a signed-in desk shares one ``Session``. ``run`` queues a named job on
the runner with the session's API client; when the server says the session has ended (token
expired or revoked), the session asks for the password again through ``reauthenticate`` (the desk
installs a modal dialog over the window the clerk is working in, so nothing typed is lost) and
runs the job once more. Plain Python: the runner and the dialog are handed in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from client.api import ApiError
from client.api.errors import DeskErrorCode
from client.jobs.job import ApiJob, Job

if TYPE_CHECKING:
    from client.api import ApiClient
    from client.jobs.runner import JobRunner
    from client.preferences import Preferences
    from shared.schemas.users import Me

Handler = Callable[[Any], None]
# (session, the window to cover, why) -> True once the clerk has signed in again
Reauthenticate = Callable[["Session", Any, str], bool]


def as_api_error(err: Exception) -> Exception:
    """Errors with a stable code (``ApiError``, ``DeviceError``) as they are; anything else as
    ``CLIENT_ERROR``, so handlers can always show ``message`` and log ``code``."""
    if isinstance(err, ApiError) or (hasattr(err, "code") and hasattr(err, "message")):
        return err
    return ApiError(DeskErrorCode.CLIENT_ERROR, str(err))


class Session:
    def __init__(
        self,
        api: ApiClient | None,
        runner: JobRunner,
        prefs: Preferences | None = None,
        me: Me | None = None,
        *,
        reauthenticate: Reauthenticate | None = None,
    ) -> None:
        self._api = api
        self.runner = runner
        self.prefs = prefs
        self.me = me
        self.reauthenticate = reauthenticate

    @property
    def api(self) -> ApiClient:
        """The client of the server in the preferences, made on first use (with ``requests``
        and the schemas: the sign-in window does not wait for them)."""
        if self._api is None:
            assert self.prefs is not None, "a session without a client needs preferences"
            self.connect(self.prefs.server_url)
        assert self._api is not None
        return self._api

    @api.setter
    def api(self, api: ApiClient) -> None:
        self._api = api

    # -- who is signed in -------------------------------------------------------------------
    @property
    def signed_in(self) -> bool:
        return self.me is not None

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset(self.me.permissions) if self.me else frozenset()

    def may(self, permission: str) -> bool:
        return permission in self.permissions

    def connect(self, server: str) -> ApiClient:
        """A new client for ``server`` (not yet signed in), trusting this workstation's CA."""
        from client.api.client import ApiClient

        prefs = self.prefs
        self._api = ApiClient(
            server,
            verify=prefs.tls_verify if prefs is not None else True,
            allow_insecure_http=prefs.allow_insecure_http if prefs is not None else False,
        )
        return self._api

    def end(self) -> None:
        """Signed out (or the password changed): forget who it was; the token goes too."""
        self.me = None
        self.api.token = None

    # -- work -------------------------------------------------------------------------------
    def run(
        self,
        job: Job,
        on_success: Handler | None = None,
        on_error: Callable[[Any], None] | None = None,
        *,
        parent: Any = None,
        on_progress: Handler | None = None,
        reauth: bool = True,
    ) -> Job:
        """Queue ``job``; errors reach ``on_error`` as ``ApiError``. If the session has ended
        while signed in, ask for the password over ``parent`` and run the job once more. The
        handlers are those of ``parent``: once it has been deleted (a dialog closed meanwhile)
        they are not called."""

        def failed(err: Exception) -> None:
            if reauth and self._ended(err) and self.reauthenticate is not None:
                assert isinstance(err, ApiError)
                if self.reauthenticate(self, parent, err.message):
                    self._submit(job, on_success, failed_again, on_progress, parent)
                    return
            failed_again(err)

        def failed_again(err: Exception) -> None:
            if on_error is not None:
                on_error(as_api_error(err))

        return self._submit(job, on_success, failed, on_progress, parent)

    def _ended(self, err: Exception) -> bool:
        return isinstance(err, ApiError) and err.session_ended and self.me is not None

    def _submit(
        self, job: Job, ok: Handler | None, err: Handler, progress: Handler | None, owner: Any
    ) -> Job:
        if isinstance(job, ApiJob):
            job.api = self.api
        return self.runner.submit(job, ok, err, progress, owner)
