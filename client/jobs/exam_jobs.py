"""The desk's guard-exam work (考试报名, 考试安排), one named job per thing a clerk asks for.

As in ``client.jobs.api_jobs``: plain Python, one call each; the statuses, seats and rules
stay on the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from client.jobs.api_jobs import EXPORT_LIMIT, _every_page
from client.jobs.job import ApiJob

if TYPE_CHECKING:
    from client.api import ApiClient
    from shared.schemas.exams import ExamCreate, ExamUpdate


class LoadEnrolments(ApiJob):
    """A page of 考试报名, with the counts per status."""

    def __init__(self, **params: Any) -> None:
        super().__init__()
        self.params = params

    def call(self, api: ApiClient) -> Any:
        return api.exam_enrolments(**self.params)


class ExportEnrolments(ApiJob):
    """Every enrolment matching ``query`` (filters and sort), page by page through the list
    endpoint, into one xlsx of the columns on screen; at most ``limit`` rows. Cancelled, it
    stops between pages and writes nothing. Answers (rows written, rows matching)."""

    def __init__(
        self, path: Any, columns: list[Any], query: dict[str, Any], limit: int = EXPORT_LIMIT
    ) -> None:
        super().__init__()
        self.path, self.columns, self.query, self.limit = path, columns, query, limit
        self.total = 0

    def call(self, api: ApiClient) -> tuple[int, int]:
        from client.exports import write_xlsx

        def fetch(page: int, size: int) -> Any:
            return api.exam_enrolments(page=page, page_size=size, **self.query)

        rows = _every_page(self, fetch, self.limit)
        return write_xlsx(self.path, "考试报名", self.columns, rows), self.total


class ReopenCertificateReview(ApiJob):
    """重新提交制证 of one 不予制证 enrolment, with the clerk's reason."""

    def __init__(self, application_id: int, reason: str) -> None:
        super().__init__()
        self.application_id, self.reason = application_id, reason

    def call(self, api: ApiClient) -> Any:
        return api.reopen_certificate_review(self.application_id, self.reason)


class LoadPassRules(ApiJob):
    def call(self, api: ApiClient) -> Any:
        return api.pass_rules()


class LoadExams(ApiJob):
    def __init__(self, **params: Any) -> None:
        super().__init__()
        self.params = params

    def call(self, api: ApiClient) -> Any:
        return api.exams(**self.params)


class CreateExam(ApiJob):
    def __init__(self, data: ExamCreate) -> None:
        super().__init__()
        self.data = data

    def call(self, api: ApiClient) -> Any:
        return api.create_exam(self.data)


class UpdateExam(ApiJob):
    def __init__(self, exam_id: int, data: ExamUpdate) -> None:
        super().__init__()
        self.exam_id, self.data = exam_id, data

    def call(self, api: ApiClient) -> Any:
        return api.update_exam(self.exam_id, self.data)


class CancelExam(ApiJob):
    def __init__(self, exam_id: int, version: int, reason: str) -> None:
        super().__init__()
        self.exam_id, self.version, self.reason = exam_id, version, reason

    def call(self, api: ApiClient) -> Any:
        return api.cancel_exam(self.exam_id, self.version, self.reason)


class PublishExam(ApiJob):
    def __init__(self, exam_id: int, version: int) -> None:
        super().__init__()
        self.exam_id, self.version = exam_id, version

    def call(self, api: ApiClient) -> Any:
        return api.publish_exam(self.exam_id, self.version)


class LoadCandidates(ApiJob):
    """The exam as it is now and its seats: (ExamPublic, [CandidateLine])."""

    def __init__(self, exam_id: int) -> None:
        super().__init__()
        self.exam_id = exam_id

    def call(self, api: ApiClient) -> Any:
        return api.exam(self.exam_id), api.exam_candidates(self.exam_id)


class LoadEligible(ApiJob):
    def __init__(self, exam_id: int, **params: Any) -> None:
        super().__init__()
        self.exam_id, self.params = exam_id, params

    def call(self, api: ApiClient) -> Any:
        return api.eligible_candidates(self.exam_id, **self.params)


class ChangeCandidates(ApiJob):
    """添加人员 (``remove=False``) or 移除 of several enrolments, all or none."""

    def __init__(
        self, exam_id: int, version: int, application_ids: list[int], *, remove: bool = False
    ) -> None:
        super().__init__()
        self.exam_id, self.version = exam_id, version
        self.ids, self.remove = application_ids, remove

    def call(self, api: ApiClient) -> Any:
        change = api.remove_candidates if self.remove else api.add_candidates
        return change(self.exam_id, self.version, self.ids)
