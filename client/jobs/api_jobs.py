"""The desk's server work, one named job per thing a clerk asks for.

Plain Python: models and views build these (``LoadInbox(params)``, ``Approve(id, body)``) and
hand them to the session, which binds the signed-in API client and queues them on the server's
queue. Names show up in logs and tests; the bodies are one call each, the rules stay on the
server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from client.files import write_atomically
from client.jobs.job import ApiJob, Job

if TYPE_CHECKING:  # the schemas load with the first answer, not with the sign-in window
    from client.api import ApiClient
    from shared.schemas.applications import (
        ApplicationDetail,
        ApproveBody,
        AssignBody,
        FingerprintBody,
        ReassignBody,
        RejectBody,
        ReturnBody,
    )
    from shared.schemas.orgs import OrgCreate, OrgUpdate
    from shared.schemas.roles import RoleCreate, RoleUpdate
    from shared.schemas.users import UserCreate, UserUpdate

# -- session -------------------------------------------------------------------------------


class SignIn(ApiJob):
    """Log in and read who we are: (must change password, Me)."""

    def __init__(self, username: str, password: str) -> None:
        super().__init__()
        self.username, self.password = username, password

    def call(self, api: ApiClient) -> tuple[bool, Any]:
        result = api.login(self.username, self.password)
        return result.must_change_password, api.me()


class Reauthenticate(ApiJob):
    """Log in again after the session ended; the open forms stay as they were."""

    def __init__(self, username: str, password: str) -> None:
        super().__init__()
        self.username, self.password = username, password

    def call(self, api: ApiClient) -> Any:
        return api.login(self.username, self.password)


class LoadMe(ApiJob):
    def call(self, api: ApiClient) -> Any:
        return api.me()


class SignOut(ApiJob):
    def call(self, api: ApiClient) -> None:
        api.logout()


class ChangePassword(ApiJob):
    """Proven by the old password (the first sign-in's one-time password) or by the SMS code."""

    def __init__(self, new: str, old: str | None = None, *, code: str | None = None) -> None:
        super().__init__()
        self.new, self.old, self.code = new, old, code

    def call(self, api: ApiClient) -> Any:
        return api.change_password(self.new, old_password=self.old, code=self.code)


class SendVerificationCode(ApiJob):
    """An SMS code to the signed-in user's mobile, for 修改密码."""

    def call(self, api: ApiClient) -> Any:
        return api.send_verification_code()


# -- lists ---------------------------------------------------------------------------------


class _Query(ApiJob):
    def __init__(self, **params: Any) -> None:
        super().__init__()
        self.params = params


class LoadInbox(_Query):
    def call(self, api: ApiClient) -> Any:
        return api.inbox(**self.params)


class LoadInboxCounts(ApiJob):
    quiet = True  # the bell's poll: no busy indicator

    def call(self, api: ApiClient) -> Any:
        return api.inbox_counts()


class LoadAudit(_Query):
    def call(self, api: ApiClient) -> Any:
        return api.audit(**self.params)


class LoadOrgs(_Query):
    """Every organisation the user may see (the tree)."""

    def call(self, api: ApiClient) -> Any:
        return api.orgs(**{"page_size": 5000, **self.params}).items


class LoadUsers(_Query):
    def call(self, api: ApiClient) -> Any:
        return api.users(**self.params)


class LoadRoles(_Query):
    def call(self, api: ApiClient) -> Any:
        return api.roles(**self.params)


class LoadAllRoles(ApiJob):
    def call(self, api: ApiClient) -> Any:
        return api.roles(page_size=1000).items


class LoadPermissions(ApiJob):
    def call(self, api: ApiClient) -> Any:
        return api.permissions()


# -- system management -----------------------------------------------------------------------


class CreateOrg(ApiJob):
    def __init__(self, data: OrgCreate) -> None:
        super().__init__()
        self.data = data

    def call(self, api: ApiClient) -> Any:
        return api.create_org(self.data)


class UpdateOrg(ApiJob):
    def __init__(self, org_id: int, data: OrgUpdate) -> None:
        super().__init__()
        self.org_id, self.data = org_id, data

    def call(self, api: ApiClient) -> Any:
        return api.update_org(self.org_id, self.data)


class DeleteOrg(ApiJob):
    def __init__(self, org_id: int, version: int | None) -> None:
        super().__init__()
        self.org_id, self.version = org_id, version

    def call(self, api: ApiClient) -> None:
        api.delete_org(self.org_id, self.version)


class CreateRole(ApiJob):
    def __init__(self, data: RoleCreate) -> None:
        super().__init__()
        self.data = data

    def call(self, api: ApiClient) -> Any:
        return api.create_role(self.data)


class UpdateRole(ApiJob):
    def __init__(self, role_id: int, data: RoleUpdate) -> None:
        super().__init__()
        self.role_id, self.data = role_id, data

    def call(self, api: ApiClient) -> Any:
        return api.update_role(self.role_id, self.data)


class DeleteRole(ApiJob):
    def __init__(self, role_id: int, version: int | None) -> None:
        super().__init__()
        self.role_id, self.version = role_id, version

    def call(self, api: ApiClient) -> None:
        api.delete_role(self.role_id, self.version)


class CreateUser(ApiJob):
    def __init__(self, data: UserCreate) -> None:
        super().__init__()
        self.data = data

    def call(self, api: ApiClient) -> Any:
        return api.create_user(self.data)


class UpdateUser(ApiJob):
    def __init__(self, user_id: int, data: UserUpdate) -> None:
        super().__init__()
        self.user_id, self.data = user_id, data

    def call(self, api: ApiClient) -> Any:
        return api.update_user(self.user_id, self.data)


class ResetPassword(ApiJob):
    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id

    def call(self, api: ApiClient) -> Any:
        return api.reset_password(self.user_id)


class UnlockUser(ApiJob):
    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id

    def call(self, api: ApiClient) -> Any:
        return api.unlock_user(self.user_id)


EXPORT_BATCH = 500
EXPORT_LIMIT = 20000  # rows in one inbox export: more is a question for a statistics report


def _every_page(
    job: Job, fetch: Callable[[int, int], Any], limit: int | None = None
) -> Iterator[Any]:
    """The rows ``fetch(page, page_size)`` answers, page after page, until its total (or
    ``limit`` rows) is reached; reports the rows so far after each page. Cancelling the job
    raises ``JobCancelled`` at the next page, so the export it feeds is never saved with a part
    of the rows. ``job.total`` is the endpoint's count of matching rows."""
    page, written = 1, 0
    size = EXPORT_BATCH if limit is None else min(EXPORT_BATCH, limit)
    while True:
        job.stop_if_cancelled()
        batch = fetch(page, size)
        job.stop_if_cancelled()  # cancelled while the page was on its way
        job.total = batch.total
        items = batch.items if limit is None else batch.items[: limit - written]
        yield from items
        written += len(items)
        job.report(written)
        if not items or written >= (batch.total if limit is None else min(limit, batch.total)):
            return
        page += 1


class ExportUsers(ApiJob):
    """Every user matching ``query``, page by page, into one xlsx; cancelled, it stops between
    pages and writes nothing. Answers the number of rows written."""

    def __init__(self, path: Any, columns: list[Any], query: dict[str, Any]) -> None:
        super().__init__()
        self.path, self.columns, self.query = path, columns, query
        self.total = 0

    def call(self, api: ApiClient) -> int:
        from client.exports import write_xlsx  # openpyxl only when someone exports

        def fetch(page: int, size: int) -> Any:
            return api.users(page=page, page_size=size, **self.query)

        return write_xlsx(self.path, "用户列表", self.columns, _every_page(self, fetch))


class ExportInbox(ApiJob):
    """The inbox rows matching ``query`` (box, filters, sort), page by page through the list
    endpoint, into one xlsx of the columns on screen; at most ``limit`` rows. Reports the rows
    written so far after each page; cancelled, it stops between pages and writes nothing.
    Answers (rows written, rows matching)."""

    def __init__(
        self,
        path: Any,
        title: str,
        columns: list[Any],
        query: dict[str, Any],
        limit: int = EXPORT_LIMIT,
    ) -> None:
        super().__init__()
        self.path, self.title, self.columns, self.query = path, title, columns, query
        self.limit = limit
        self.total = 0

    def call(self, api: ApiClient) -> tuple[int, int]:
        from client.exports import write_xlsx

        def fetch(page: int, size: int) -> Any:
            return api.inbox(page=page, page_size=size, **self.query)

        rows = _every_page(self, fetch, self.limit)
        return write_xlsx(self.path, self.title, self.columns, rows), self.total


# -- one application -------------------------------------------------------------------------


class _OnApplication(ApiJob):
    def __init__(self, application_id: int) -> None:
        super().__init__()
        self.application_id = application_id


class LoadApplication(_OnApplication):
    def call(self, api: ApiClient) -> ApplicationDetail:
        return api.application(self.application_id)


class LoadProgress(_OnApplication):
    def call(self, api: ApiClient) -> Any:
        return api.progress(self.application_id)


class LoadExternalView(_OnApplication):
    def call(self, api: ApiClient) -> Any:
        return api.external_view(self.application_id)


class LoadMaterials(_OnApplication):
    def call(self, api: ApiClient) -> Any:
        return api.materials(self.application_id)


class LoadScreening(_OnApplication):
    def call(self, api: ApiClient) -> Any:
        return api.screening(self.application_id)


class RunScreening(_OnApplication):
    def call(self, api: ApiClient) -> Any:
        return api.run_screening(self.application_id)


class LoadPrintPdf(_OnApplication):
    def call(self, api: ApiClient) -> bytes:
        return api.print_pdf(self.application_id)


class LoadCertificatePdf(_OnApplication):
    def call(self, api: ApiClient) -> bytes:
        return api.document_pdf(self.application_id)


class ConfirmApplicationPayment(_OnApplication):
    """缴费确认 of one application, answering its detail as the other actions do."""

    def call(self, api: ApiClient) -> ApplicationDetail:
        api.confirm_payment([self.application_id])
        return api.application(self.application_id)


class ConfirmPayments(ApiJob):
    """缴费确认 of several exam enrolments at once (the inbox's button)."""

    def __init__(self, application_ids: list[int]) -> None:
        super().__init__()
        self.application_ids = application_ids

    def call(self, api: ApiClient) -> Any:
        return api.confirm_payment(self.application_ids)


class _Action(ApiJob):
    """An action on the step the clerk is looking at; the body carries its version."""

    def __init__(self, application_id: int, body: Any) -> None:
        super().__init__()
        self.application_id, self.body = application_id, body


class Approve(_Action):
    body: ApproveBody

    def call(self, api: ApiClient) -> ApplicationDetail:
        return api.approve(self.application_id, self.body)


class Reject(_Action):
    body: RejectBody

    def call(self, api: ApiClient) -> ApplicationDetail:
        return api.reject(self.application_id, self.body)


class Assign(_Action):
    body: AssignBody

    def call(self, api: ApiClient) -> ApplicationDetail:
        return api.assign(self.application_id, self.body)


class Reassign(_Action):
    body: ReassignBody

    def call(self, api: ApiClient) -> ApplicationDetail:
        return api.reassign(self.application_id, self.body)


class ReturnBack(_Action):
    body: ReturnBody

    def call(self, api: ApiClient) -> ApplicationDetail:
        return api.return_back(self.application_id, self.body)


class RecordFingerprintCard(_Action):
    body: FingerprintBody

    def call(self, api: ApiClient) -> ApplicationDetail:
        return api.record_fingerprint(self.application_id, self.body)


# -- exam scores (录入成绩) ----------------------------------------------------------------


class LoadScoreExams(ApiJob):
    """Published exams in the caller's scope, newest first (the page's exam selector)."""

    def call(self, api: ApiClient) -> Any:
        return api.exams(status="published", page_size=100).items


class LoadScoreSheet(ApiJob):
    def __init__(self, exam_id: int) -> None:
        super().__init__()
        self.exam_id = exam_id

    def call(self, api: ApiClient) -> Any:
        return api.score_sheet(self.exam_id)


class SaveScoreTemplate(ApiJob):
    """Download the exam's score template into ``path``; answers the path."""

    def __init__(self, exam_id: int, path: Any) -> None:
        super().__init__()
        self.exam_id, self.path = exam_id, path

    def call(self, api: ApiClient) -> Any:

        write_atomically(self.path, api.score_template(self.exam_id))
        return self.path


class ImportScores(ApiJob):
    """Send the file at ``path`` to the import (``dry_run``: only checked); answers the counts.
    SCORE_IMPORT_INVALID arrives as an ApiError whose details list every problem."""

    def __init__(self, exam_id: int, path: Any, *, dry_run: bool) -> None:
        super().__init__()
        self.exam_id, self.path, self.dry_run = exam_id, path, dry_run

    def call(self, api: ApiClient) -> Any:
        from pathlib import Path

        source = Path(self.path)
        return api.import_scores(
            self.exam_id, source.name, source.read_bytes(), dry_run=self.dry_run
        )


class SaveScoreErrors(ApiJob):
    """The error workbook of the file at ``source``, saved to ``target``; answers the target."""

    def __init__(self, exam_id: int, source: Any, target: Any) -> None:
        super().__init__()
        self.exam_id, self.source, self.target = exam_id, source, target

    def call(self, api: ApiClient) -> Any:
        from pathlib import Path

        source = Path(self.source)
        data = api.score_error_workbook(self.exam_id, source.name, source.read_bytes())
        write_atomically(self.target, data)
        return self.target


class SaveCandidateScores(ApiJob):
    def __init__(self, exam_id: int, candidate_id: int, body: Any) -> None:
        super().__init__()
        self.exam_id, self.candidate_id, self.body = exam_id, candidate_id, body

    def call(self, api: ApiClient) -> Any:
        return api.set_scores(self.exam_id, self.candidate_id, self.body)


class NotifyScores(ApiJob):
    def __init__(self, exam_id: int, version: int) -> None:
        super().__init__()
        self.exam_id, self.version = exam_id, version

    def call(self, api: ApiClient) -> Any:
        return api.notify_scores(self.exam_id, self.version)


class AmendScores(ApiJob):
    def __init__(self, exam_id: int, body: Any) -> None:
        super().__init__()
        self.exam_id, self.body = exam_id, body

    def call(self, api: ApiClient) -> Any:
        return api.amend_scores(self.exam_id, self.body)
