"""The API client: one method per endpoint, shared schemas in and out."""

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from pydantic import BaseModel

from client.api import tls
from client.api.certificates import CertificateCalls
from client.api.errors import ApiError, from_response, from_transport
from client.api.sync import SyncCalls
from shared.errors import ErrorCode
from shared.schemas.applications import (
    ApplicationDetail,
    ApproveBody,
    AssignBody,
    ExternalView,
    FingerprintBody,
    FingerprintEnrolBody,
    FingerprintMatch,
    FingerprintMatchBody,
    InboxCounts,
    InboxPage,
    PaymentConfirm,
    PaymentResult,
    Progress,
    ReassignBody,
    RejectBody,
    ReturnBody,
)
from shared.schemas.audit import AuditEntryPublic
from shared.schemas.auth import LoginResponse, VerificationCodeSent
from shared.schemas.common import Page
from shared.schemas.exams import (
    CandidateLine,
    CertificateReviewReopened,
    EnrolmentPage,
    ExamCreate,
    ExamPublic,
    ExamUpdate,
    PassRulePublic,
    PickerLine,
    ScoreImportCounts,
    ScoreLine,
    ScoresAmend,
    ScoresEntry,
    ScoreSheetPublic,
)
from shared.schemas.materials import MaterialPublic
from shared.schemas.orgs import OrgCreate, OrgPublic, OrgUpdate
from shared.schemas.roles import PermissionCatalogue, RoleCreate, RolePublic, RoleUpdate
from shared.schemas.screening import ScreeningSummaryPublic
from shared.schemas.system import Health
from shared.schemas.users import Me, PasswordReset, UserCreate, UserCreated, UserPublic, UserUpdate

M = TypeVar("M", bound=BaseModel)
PREFIX = "/api/v1"


# A busy server (its admission queue full) answers 503 SERVER_BUSY with Retry-After. A read is
# asked again after the wait it names, at most BUSY_TRIES times in all and never waiting more
# than BUSY_WAIT_TOTAL seconds altogether (a clerk would rather see 服务器繁忙 than a frozen
# list); a write is never repeated by the desk: the clerk decides.
BUSY_TRIES = 3
BUSY_WAIT_TOTAL = 10.0
BUSY_WAIT_DEFAULT = 1.0  # no or an unreadable Retry-After
BUSY_WAIT_MIN = 0.1


def _unavailable(response: requests.Response) -> str | None:
    """The code of a 503 (DATABASE_RECONNECTED, SERVER_BUSY), or None for any other answer."""
    if response.status_code != 503:
        return None
    return from_response(response).code


def retry_after(response: requests.Response) -> float:
    """Seconds the server asked us to wait (``Retry-After`` in seconds; dates are not sent)."""
    try:
        return max(float(response.headers.get("Retry-After", "")), BUSY_WAIT_MIN)
    except ValueError:
        return BUSY_WAIT_DEFAULT


class ApiClient(CertificateCalls, SyncCalls):
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 15.0,
        verify: bool | str = True,
        allow_insecure_http: bool = False,
    ) -> None:
        """``verify``: ``True`` trusts the usual public CAs; a path trusts the certificates in
        that PEM file instead (the bureau's own CA). Plain ``http://`` to a server other than
        this machine is refused (nothing is sent) unless ``allow_insecure_http``."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token: str | None = None
        self.verify = verify
        self.allow_insecure_http = allow_insecure_http
        self._http = requests.Session()

    @property
    def ca_file(self) -> str | None:
        return self.verify if isinstance(self.verify, str) else None

    # -- plumbing -------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        files: Any = None,
        data: Any = None,
        timeout: float | None = None,
    ) -> requests.Response:
        if not self.allow_insecure_http and tls.plain_http_elsewhere(self.base_url):
            raise ApiError(tls.INSECURE_HTTP, tls.insecure_http_message(self.base_url))
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}

        def attempt() -> requests.Response:
            try:
                return self._http.request(
                    method,
                    f"{self.base_url}{PREFIX}{path}",
                    json=json,
                    params=params,
                    files=files,
                    data=data,
                    headers=headers,
                    timeout=timeout or self.timeout,
                    # per request: REQUESTS_CA_BUNDLE would override the session's (requests#3829)
                    verify=self.verify,
                )
            except OSError as err:  # requests' own errors, and its missing CA file
                raise from_transport(err, self.base_url, ca=self.ca_file) from err

        response = attempt()
        if method == "GET":
            response = self._read_again(response, attempt)
        if response.status_code >= 400:
            raise from_response(response)
        return response

    @staticmethod
    def _read_again(
        response: requests.Response, attempt: Callable[[], requests.Response]
    ) -> requests.Response:
        """A read changes nothing, so it may be asked again: once after the database
        reconnected, and after a busy server's Retry-After within the bounds above."""
        tries, waited = 1, 0.0
        while (code := _unavailable(response)) is not None:
            if code == ErrorCode.DATABASE_RECONNECTED and tries == 1:
                pass  # the server has reconnected: at once
            elif code == ErrorCode.SERVER_BUSY and tries < BUSY_TRIES:
                wait = retry_after(response)
                if waited + wait > BUSY_WAIT_TOTAL:
                    break  # it asks for longer than the clerk should wait: say it is busy
                time.sleep(wait)
                waited += wait
            else:
                break
            tries += 1
            response = attempt()
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """``timeout``: this request's, for the few that wait on long work (立即同步)."""
        response = self._send(method, path, json=json, params=params, timeout=timeout)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def download(self, path: str, **params: Any) -> bytes:
        """A file the server sends (materials, PDFs), whole: they are size-limited."""
        return self._send("GET", path, params=params or None).content

    def _get(self, model: type[M], path: str, **params: Any) -> M:
        clean = {k: v for k, v in params.items() if v is not None}
        return model.model_validate(self.request("GET", path, params=clean))

    @staticmethod
    def _body(data: BaseModel) -> Any:
        return data.model_dump(mode="json", exclude_unset=True)

    # -- system and sign-in ---------------------------------------------------------------
    def health(self) -> Health:
        return self._get(Health, "/health")

    def login(self, username: str, password: str) -> LoginResponse:
        body = {"username": username, "password": password}
        result = LoginResponse.model_validate(self.request("POST", "/auth/login", json=body))
        self.token = result.access_token
        return result

    def logout(self) -> None:
        try:
            if self.token:
                self.request("POST", "/auth/logout")
        finally:
            self.token = None

    def me(self) -> Me:
        return self._get(Me, "/me")

    def change_password(
        self, new_password: str, *, old_password: str | None = None, code: str | None = None
    ) -> None:
        body = {
            "new_password": new_password,
            "old_password": old_password,
            "verification_code": code,
        }
        self.request("POST", "/auth/change-password", json=body)
        self.token = None  # the server revoked every session

    def send_verification_code(self) -> VerificationCodeSent:
        return VerificationCodeSent.model_validate(self.request("POST", "/auth/verification-code"))

    def permissions(self) -> PermissionCatalogue:
        return self._get(PermissionCatalogue, "/permissions")

    # -- organisations --------------------------------------------------------------------
    def orgs(self, **params: Any) -> Page[OrgPublic]:
        return self._get(Page[OrgPublic], "/orgs", **params)

    def org(self, org_id: int) -> OrgPublic:
        return self._get(OrgPublic, f"/orgs/{org_id}")

    def create_org(self, data: OrgCreate) -> OrgPublic:
        return OrgPublic.model_validate(self.request("POST", "/orgs", json=self._body(data)))

    def update_org(self, org_id: int, data: OrgUpdate) -> OrgPublic:
        raw = self.request("PATCH", f"/orgs/{org_id}", json=self._body(data))
        return OrgPublic.model_validate(raw)

    def delete_org(self, org_id: int, version: int | None = None) -> None:
        self.request("DELETE", f"/orgs/{org_id}", params={"version": version} if version else None)

    # -- roles ----------------------------------------------------------------------------
    def roles(self, **params: Any) -> Page[RolePublic]:
        return self._get(Page[RolePublic], "/roles", **params)

    def role(self, role_id: int) -> RolePublic:
        return self._get(RolePublic, f"/roles/{role_id}")

    def create_role(self, data: RoleCreate) -> RolePublic:
        return RolePublic.model_validate(self.request("POST", "/roles", json=self._body(data)))

    def update_role(self, role_id: int, data: RoleUpdate) -> RolePublic:
        raw = self.request("PATCH", f"/roles/{role_id}", json=self._body(data))
        return RolePublic.model_validate(raw)

    def delete_role(self, role_id: int, version: int | None = None) -> None:
        self.request(
            "DELETE", f"/roles/{role_id}", params={"version": version} if version else None
        )

    # -- users ----------------------------------------------------------------------------
    def users(self, **params: Any) -> Page[UserPublic]:
        return self._get(Page[UserPublic], "/users", **params)

    def user(self, user_id: int) -> UserPublic:
        return self._get(UserPublic, f"/users/{user_id}")

    def create_user(self, data: UserCreate) -> UserCreated:
        return UserCreated.model_validate(self.request("POST", "/users", json=self._body(data)))

    def update_user(self, user_id: int, data: UserUpdate) -> UserPublic:
        raw = self.request("PATCH", f"/users/{user_id}", json=self._body(data))
        return UserPublic.model_validate(raw)

    def reset_password(self, user_id: int) -> PasswordReset:
        raw = self.request("POST", f"/users/{user_id}/reset-password")
        return PasswordReset.model_validate(raw)

    def unlock_user(self, user_id: int) -> UserPublic:
        return UserPublic.model_validate(self.request("POST", f"/users/{user_id}/unlock"))

    # -- audit ----------------------------------------------------------------------------
    def audit(self, **params: Any) -> Page[AuditEntryPublic]:
        return self._get(Page[AuditEntryPublic], "/audit", **params)

    # -- approvals ------------------------------------------------------------------------
    def inbox_counts(self) -> InboxCounts:
        return self._get(InboxCounts, "/inbox/counts")

    def inbox(self, **params: Any) -> InboxPage:
        """A page of the inbox; ``with_counts=True`` adds the pending counts per type."""
        return self._get(InboxPage, "/inbox", **params)

    def application(self, application_id: int) -> ApplicationDetail:
        return self._get(ApplicationDetail, f"/applications/{application_id}")

    def progress(self, application_id: int) -> Progress:
        return self._get(Progress, f"/applications/{application_id}/progress")

    def external_view(self, application_id: int) -> ExternalView:
        return self._get(ExternalView, f"/applications/{application_id}/external")

    def _act(self, application_id: int, action: str, body: BaseModel) -> ApplicationDetail:
        path = f"/applications/{application_id}/{action}"
        raw = self.request("POST", path, json=self._body(body))
        return ApplicationDetail.model_validate(raw)

    def approve(self, application_id: int, body: ApproveBody) -> ApplicationDetail:
        return self._act(application_id, "approve", body)

    def reject(self, application_id: int, body: RejectBody) -> ApplicationDetail:
        return self._act(application_id, "reject", body)

    def assign(self, application_id: int, body: AssignBody) -> ApplicationDetail:
        return self._act(application_id, "assign", body)

    def reassign(self, application_id: int, body: ReassignBody) -> ApplicationDetail:
        return self._act(application_id, "reassign", body)

    def return_back(self, application_id: int, body: ReturnBody) -> ApplicationDetail:
        return self._act(application_id, "return", body)

    def record_fingerprint(self, application_id: int, body: FingerprintBody) -> ApplicationDetail:
        return self._act(application_id, "fingerprint", body)

    def fingerprint_match(
        self, application_id: int, body: FingerprintMatchBody
    ) -> FingerprintMatch:
        """Whose finger the station module found (the server flags another identity's)."""
        raw = self.request(
            "POST", f"/applications/{application_id}/fingerprint/match", json=self._body(body)
        )
        return FingerprintMatch.model_validate(raw)

    def enrol_fingerprint(
        self, application_id: int, body: FingerprintEnrolBody
    ) -> ApplicationDetail:
        return self._act(application_id, "fingerprint/enrolment", body)

    def confirm_payment(self, application_ids: list[int]) -> PaymentResult:
        body = self._body(PaymentConfirm(application_ids=application_ids))
        return PaymentResult.model_validate(
            self.request("POST", "/applications/payments", json=body)
        )

    def screening(self, application_id: int) -> ScreeningSummaryPublic:
        return self._get(ScreeningSummaryPublic, f"/applications/{application_id}/screening")

    def run_screening(self, application_id: int) -> ScreeningSummaryPublic:
        raw = self.request("POST", f"/applications/{application_id}/screening")
        return ScreeningSummaryPublic.model_validate(raw)

    def materials(self, application_id: int) -> list[MaterialPublic]:
        raw = self.request("GET", f"/applications/{application_id}/materials")
        return [MaterialPublic.model_validate(m) for m in raw]

    def upload_material(
        self, application_id: int, title: str, filename: str, content: bytes
    ) -> MaterialPublic:
        response = self._send(
            "POST",
            f"/applications/{application_id}/materials",
            files={"file": (filename, content)},
            data={"title": title},
        )
        return MaterialPublic.model_validate(response.json())

    def material_content(self, material_id: int) -> bytes:
        return self.download(f"/materials/{material_id}/content")

    def document_pdf(self, application_id: int) -> bytes:
        """The licence or certificate issued on final approval, as the server rendered it."""
        return self.download(f"/applications/{application_id}/document.pdf")

    def print_pdf(self, application_id: int) -> bytes:
        """申请材料及审批进度 as a PDF, rendered by the server."""
        return self.download(f"/applications/{application_id}/print.pdf")

    # -- exams and their scores (录入成绩) -------------------------------------------------
    def exams(self, **params: Any) -> Page[ExamPublic]:
        return self._get(Page[ExamPublic], "/exams", **params)

    def score_sheet(self, exam_id: int) -> ScoreSheetPublic:
        return self._get(ScoreSheetPublic, f"/exams/{exam_id}/scores")

    def score_template(self, exam_id: int) -> bytes:
        return self.download(f"/exams/{exam_id}/score-template")

    def import_scores(
        self, exam_id: int, filename: str, content: bytes, *, dry_run: bool
    ) -> ScoreImportCounts:
        """SCORE_IMPORT_INVALID (422) carries ``details.rows``: every problem of the file."""
        response = self._send(
            "POST",
            f"/exams/{exam_id}/scores/import",
            params={"dry_run": "true"} if dry_run else None,
            files={"file": (filename, content)},
        )
        return ScoreImportCounts.model_validate(response.json())

    def score_error_workbook(self, exam_id: int, filename: str, content: bytes) -> bytes:
        response = self._send(
            "POST", f"/exams/{exam_id}/scores/error-workbook", files={"file": (filename, content)}
        )
        return response.content

    def set_scores(self, exam_id: int, candidate_id: int, body: ScoresEntry) -> ScoreLine:
        raw = self.request(
            "PUT", f"/exams/{exam_id}/candidates/{candidate_id}/scores", json=self._body(body)
        )
        return ScoreLine.model_validate(raw)

    def notify_scores(self, exam_id: int, version: int) -> ScoreSheetPublic:
        raw = self.request("POST", f"/exams/{exam_id}/scores/notify", json={"version": version})
        return ScoreSheetPublic.model_validate(raw)

    def amend_scores(self, exam_id: int, body: ScoresAmend) -> ScoreLine:
        raw = self.request("POST", f"/exams/{exam_id}/scores/amend", json=self._body(body))
        return ScoreLine.model_validate(raw)

    # -- guard exams ------------------------------------------------------------------------
    def exam_enrolments(self, **params: Any) -> EnrolmentPage:
        """A page of 考试报名 with the counts per pipeline status (under the other filters)."""
        return self._get(EnrolmentPage, "/exam-enrolments", **params)

    def reopen_certificate_review(
        self, application_id: int, reason: str
    ) -> CertificateReviewReopened:
        """重新提交制证 of a 不予制证 enrolment (CERTIFICATE_REVIEW_IN_PROGRESS once it is open)."""
        raw = self.request(
            "POST",
            f"/exam-enrolments/{application_id}/certificate-review",
            json={"reason": reason},
        )
        return CertificateReviewReopened.model_validate(raw)

    def pass_rules(self) -> list[PassRulePublic]:
        return [PassRulePublic.model_validate(r) for r in self.request("GET", "/exam-pass-rules")]

    def exam(self, exam_id: int) -> ExamPublic:
        return self._get(ExamPublic, f"/exams/{exam_id}")

    def create_exam(self, data: ExamCreate) -> ExamPublic:
        return ExamPublic.model_validate(self.request("POST", "/exams", json=self._body(data)))

    def update_exam(self, exam_id: int, data: ExamUpdate) -> ExamPublic:
        raw = self.request("PATCH", f"/exams/{exam_id}", json=self._body(data))
        return ExamPublic.model_validate(raw)

    def cancel_exam(self, exam_id: int, version: int, reason: str) -> ExamPublic:
        body = {"version": version, "reason": reason}
        return ExamPublic.model_validate(
            self.request("POST", f"/exams/{exam_id}/cancel", json=body)
        )

    def publish_exam(self, exam_id: int, version: int) -> ExamPublic:
        raw = self.request("POST", f"/exams/{exam_id}/publish", json={"version": version})
        return ExamPublic.model_validate(raw)

    def exam_candidates(self, exam_id: int) -> list[CandidateLine]:
        raw = self.request("GET", f"/exams/{exam_id}/candidates")
        return [CandidateLine.model_validate(c) for c in raw]

    def eligible_candidates(self, exam_id: int, **params: Any) -> Page[PickerLine]:
        return self._get(Page[PickerLine], f"/exams/{exam_id}/eligible", **params)

    def add_candidates(self, exam_id: int, version: int, application_ids: list[int]) -> ExamPublic:
        body = {"version": version, "application_ids": application_ids}
        raw = self.request("POST", f"/exams/{exam_id}/candidates", json=body)
        return ExamPublic.model_validate(raw)

    def remove_candidates(
        self, exam_id: int, version: int, application_ids: list[int]
    ) -> ExamPublic:
        body = {"version": version, "application_ids": application_ids}
        raw = self.request("POST", f"/exams/{exam_id}/candidates/remove", json=body)
        return ExamPublic.model_validate(raw)


__all__ = ["ApiClient", "ApiError"]
