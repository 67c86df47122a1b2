"""What an approver does to the pending step: approve, reject, assign, return to the previous step.

Every action names the version of the application the clerk saw. The application row is bumped
first, under its version, so of two clerks acting on the same step exactly one wins and the
other gets 409 STALE_VERSION with nothing written: never a lost update, never two log lines.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, Table, Update, and_, bindparam, select, update
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from server.db import write_behind
from server.db.approval_models import Application, ApprovalTask
from server.db.models import Org, User
from server.services import audit
from server.services.approvals import gates, routing
from server.services.approvals.access import get_application, principal_authority, visibility
from server.services.approvals.definition import StepDef
from server.services.approvals.intake import snapshot
from server.services.approvals.tasks import (
    DONE,
    PENDING,
    RETURNED,
    approval_visibility,
    close_step,
    open_step,
    previous_step,
    process_of,
    write_log,
)
from server.services.authz import Principal, Scope
from server.services.certificates.from_review import CertificateIssuing, issue_from_review
from server.services.documents.issue import issue
from server.services.documents.signing import DocumentSigner
from server.services.errors import AppError, check_version
from server.services.materials.store import MaterialStore
from server.services.sync import records_out
from shared.approvals import ApplicationStatus, ApprovalAction, AuthorityLevel, OpinionVisibility
from shared.audit_actions import AuditAction, AuditEntity
from shared.enums import ApprovalRole, BusinessType
from shared.errors import ErrorCode


@dataclass
class Acting:
    application: Application
    task: ApprovalTask
    step: StepDef
    user: routing.Standing  # the approver, as read inside this transaction
    routes: dict[AuthorityLevel, int]  # the bureaus of its region, read with the claim
    authority_name: str  # the name of the bureau working the step

    @property
    def role_label(self) -> str:
        return ApprovalRole(self.task.approval_role).label

    def log(self, session: Session, action: ApprovalAction, now: datetime, **extra: Any) -> None:
        """A log line for this step, by this approver in their role (``extra``: opinion,
        visibility, corrections, assignee name)."""
        write_log(
            session,
            self.application,
            action=action,
            now=now,
            actor_id=self.user.user_id,
            actor_name=self.user.name,
            actor_role=self.role_label,
            task=self.task,
            **extra,
        )


def bump(session: Session, application: Application, now: datetime) -> None:
    """Claim the application at the version the caller saw (row lock on PostgreSQL)."""
    application.updated_at = now
    # A frozen or coarse clock can give the same instant twice; the version must move anyway.
    flag_modified(application, "updated_at")
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise AppError(ErrorCode.STALE_VERSION) from None


_APPS = cast(Table, Application.__table__)


@lru_cache(maxsize=1024)
def _claim_statement(scope: Scope, authority: int) -> Update:
    """Move an application in review, visible with ``scope`` from ``authority``, on from the
    version the caller saw; built once per (scope, authority)."""
    return (
        update(_APPS)
        .where(
            _APPS.c.id == bindparam("application_id"),
            _APPS.c.version == bindparam("seen"),
            _APPS.c.status == str(ApplicationStatus.in_review),
            visibility(scope, authority, _APPS.c),
        )
        .values(version=_APPS.c.version + 1, updated_at=bindparam("now"))
    )


_BUREAU = cast(Table, Org.__table__).alias("bureau")  # never the caller's ``orgs`` joined below
_AUTHORITY_NAME = (
    select(_BUREAU.c.name)
    .where(_BUREAU.c.id == ApprovalTask.acting_org_id)
    .scalar_subquery()
    .label("authority")
)
"""The name of the bureau working the pending step: the issuing authority, should it be the
last."""

_CLAIMED = (
    select(
        Application,
        ApprovalTask,
        _AUTHORITY_NAME,
        *routing.bureau_columns(_APPS.c.region_code),
        *routing.STANDING_COLUMNS,
    )
    .outerjoin(
        ApprovalTask,
        and_(ApprovalTask.application_id == Application.id, ApprovalTask.status == PENDING),
    )
    .outerjoin(User, User.id == bindparam("user_id"))
    .outerjoin(Org, Org.id == User.org_id)
    .where(Application.id == bindparam("application_id"))
    # the step's application is the one in the row (found in the identity map, not joined again)
    .options(lazyload(ApprovalTask.application))
    .execution_options(populate_existing=True)
)


@lru_cache(maxsize=1024)
def _claim_and_read(scope: Scope, authority: int) -> Select[Any]:
    """PostgreSQL: ``_claim_statement`` and ``_CLAIMED`` in one statement, the claim a
    data-modifying ``WITH`` the read joins (no row: nothing moved). The read sees the row as
    it was before the claim (one statement, one snapshot), so the version and time the claim
    wrote come back beside it."""
    moved = (
        _claim_statement(scope, authority)
        .returning(_APPS.c.id, _APPS.c.version, _APPS.c.updated_at)
        .cte("moved")
    )
    return _CLAIMED.add_columns(moved.c.version, moved.c.updated_at).join(
        moved, moved.c.id == Application.id
    )


@dataclass
class Claimed:
    application: Application
    task: ApprovalTask | None  # the pending step
    user: routing.Standing | None  # the caller's standing for it, read after the claim
    routes: dict[AuthorityLevel, int]  # the bureaus of its region (``routing.bureaus``)
    authority_name: str | None  # the name of the bureau working the pending step


def claim(
    session: Session, principal: Principal, application_id: int, version: int, now: datetime
) -> Claimed:
    """Claim an application in review at the version the caller saw, then read it with its
    pending step, the caller's standing for that step, and where its steps are routed now:
    two statements (one on PostgreSQL). The claim is one
    conditional UPDATE (row lock on PostgreSQL, write lock on SQLite), so of two clerks acting
    at once exactly one moves it; only when it moves nothing is the reason looked up, in the
    order a clerk is told: not visible (404), changed by someone else (409 STALE_VERSION), no
    longer in review."""
    session.flush()  # the caller's pending changes go out under the version they were made on
    authority = principal_authority(session, principal)
    params = {
        "application_id": application_id,
        "seen": version,
        "now": now,
        "user_id": principal.user_id,
    }
    row: tuple[Any, ...] | None = None
    if session.get_bind().dialect.name == "postgresql":  # one round trip
        found = session.execute(_claim_and_read(principal.scope, authority), params).one_or_none()
        if found is not None:
            *values, claimed_version, claimed_at = found
            set_committed_value(values[0], "version", claimed_version)
            set_committed_value(values[0], "updated_at", claimed_at)
            row = tuple(values)
    else:
        stmt = _claim_statement(principal.scope, authority)
        moved = session.connection().execute(stmt, params)  # Core on the connection: no ORM pass
        if moved.rowcount == 1:
            row = tuple(session.execute(_CLAIMED, params).one())
    if row is None:
        application = get_application(session, principal, application_id)
        check_version(version, application.version)
        if application.status != ApplicationStatus.in_review:
            raise AppError(ErrorCode.APPLICATION_NOT_PENDING)
        raise AppError(ErrorCode.STALE_VERSION, details={"seen": version})  # moved meanwhile
    application, task, authority_name, *rest = row
    levels = len(AuthorityLevel)
    routes, standing = routing.bureaus_of_row(rest[:levels]), rest[levels:]
    user = None if task is None else routing.standing_of(session, standing, task)
    return Claimed(application, task, user, routes, authority_name)


def acting_on(
    session: Session, principal: Principal, application_id: int, version: int, now: datetime
) -> Acting:
    # Claim first, then look at the step: a colleague who won the race has moved the step on,
    # and what the loser must hear is "changed by someone else" (409), not "not your step".
    # A refusal below rolls the claim back with the rest of the transaction.
    claimed = claim(session, principal, application_id, version, now)
    application, task, user = claimed.application, claimed.task, claimed.user
    # The approver's account as it stands now, under the claim (not as the request found it).
    if task is None or user is None:
        raise AppError(ErrorCode.APPLICATION_NOT_PENDING)
    if not routing.allowed(user, task):
        raise AppError(ErrorCode.NOT_YOUR_STEP)
    step = process_of(application).step(task.step_key)
    return Acting(application, task, step, user, claimed.routes, claimed.authority_name or "")


_DECIDE = write_behind.updating(
    _APPS,
    "application_id",
    {"status": "new_status", "decided_at": "now", "version": _APPS.c.version + 1},
)


def _decide(session: Session, application: Application, status: str, now: datetime) -> None:
    """End the round with ``status`` (approved, returned): one UPDATE (``write_behind``), under
    the claim this transaction holds on the row (so no version check is needed here; the
    version still moves, as for every change of the row), and the loaded row brought up to
    date."""
    write_behind.write(
        session.connection(),
        _DECIDE,
        {"application_id": application.id, "new_status": str(status), "now": now},
    )
    set_committed_value(application, "status", status)
    set_committed_value(application, "decided_at", now)
    set_committed_value(application, "version", application.version + 1)


def _audit(
    session: Session,
    principal: Principal,
    acting: Acting,
    action: ApprovalAction,
    now: datetime,
    **extra: object,
) -> None:
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.of_application(action),
        entity_type=AuditEntity.APPLICATION,
        entity_id=acting.application.id,
        org_id=acting.application.org_id,
        after={**snapshot(acting.application), "step": acting.task.step_name, **extra},
    )


def approve(
    session: Session,
    principal: Principal,
    application_id: int,
    *,
    version: int,
    opinion: str,
    now: datetime,
    signer: DocumentSigner,
    certificates: CertificateIssuing | None = None,
) -> Application:
    """Agree. On the final step the application is approved and its licence or certificate is
    issued in the same transaction (``signer`` signs it), so no approval lacks its document; a
    制证审批 (``guard_certificate``) issues its 保安员证 record instead, with ``certificates``
    (the signing keys and number rule; required for that type)."""
    acting = acting_on(session, principal, application_id, version, now)
    app, task = acting.application, acting.task
    gates.ensure_approvable(session, app, acting.step)
    process = process_of(app)
    following = process.after(task.step_key)
    final = following is None
    if final and not opinion.strip():
        raise AppError(ErrorCode.VALIDATION_ERROR, message="最后一级审批须填写对外可见的审批意见")
    if following is None:
        # the document first: it reads (its number, the people) and the writes below need
        # nothing back, so they go out together at commit (``write_behind``)
        issue(
            session, app, issuer=acting.authority_name, signer=signer, now=now,
            actor=principal.actor,
        )  # fmt: skip
        if app.business_type == BusinessType.guard_certificate:
            if certificates is None:
                raise RuntimeError("approving a 制证审批 needs certificates=CertificateIssuing")
            issue_from_review(
                session,
                app,
                certificates,
                actor=principal.actor,
                issuing_org_id=acting.task.acting_org_id,
                issuing_authority=acting.authority_name,
                now=now,
            )
        _decide(session, app, ApplicationStatus.approved, now)
    else:
        open_step(session, app, process, following, now, acting.routes)
        records_out.emit_progress(session, app, following.name, now=now)
    close_step(session, task, acting.user.user_id, "approve", now, DONE)
    acting.log(
        session,
        ApprovalAction.approve,
        now,
        opinion=opinion,
        visibility=approval_visibility(final),
    )
    if final:  # 内外网同步: the decision, with the document's PDF, for an application filed there
        store = MaterialStore(signer.data_dir / "materials")
        records_out.emit_decided(session, app, now=now, store=store)
    _audit(session, principal, acting, ApprovalAction.approve, now)
    session.commit()
    return app


def reject(
    session: Session,
    principal: Principal,
    application_id: int,
    *,
    version: int,
    reason: str,
    corrections: list[str],
    now: datetime,
    opinion: str = "",
) -> Application:
    """Disagree: the round ends and the application goes back to the applicant with the reason
    and every correction at once (一次性告知); both are visible to the applicant. ``opinion``,
    the approver's internal opinion, is logged on a line of its own, internal: the applicant's
    view and the extranet read only the external line."""
    if not corrections:
        raise AppError(ErrorCode.CORRECTIONS_REQUIRED)
    acting = acting_on(session, principal, application_id, version, now)
    app, task = acting.application, acting.task
    gates.ensure_rejectable(session, app, acting.step)
    close_step(session, task, acting.user.user_id, "reject", now, DONE)
    if opinion.strip():
        acting.log(session, ApprovalAction.reject, now, opinion=opinion.strip())
    acting.log(
        session,
        ApprovalAction.reject,
        now,
        opinion=reason,
        visibility=OpinionVisibility.external,
        corrections=corrections,
    )
    _decide(session, app, ApplicationStatus.returned, now)
    records_out.emit_decided(session, app, now=now, store=None)  # 内外网同步
    _audit(session, principal, acting, ApprovalAction.reject, now)
    session.commit()
    return app


def assign(
    session: Session,
    principal: Principal,
    application_id: int,
    *,
    version: int,
    assignee_id: int,
    opinion: str,
    now: datetime,
) -> Application:
    """指派: hand the pending step to one named colleague who could act on it."""
    acting = acting_on(session, principal, application_id, version, now)
    app, task = acting.application, acting.task
    assignee = session.get(User, assignee_id)
    if assignee is None or not routing.may_act(session, assignee, task, ignore_assignee=True):
        raise AppError(ErrorCode.ASSIGNEE_INVALID)
    task.assignee_id = assignee.id
    acting.log(
        session,
        ApprovalAction.assign,
        now,
        opinion=opinion,
        assignee_name=assignee.name,
    )
    _audit(session, principal, acting, ApprovalAction.assign, now, assignee_id=assignee.id)
    session.commit()
    return app


def return_back(
    session: Session,
    principal: Principal,
    application_id: int,
    *,
    version: int,
    reason: str,
    now: datetime,
) -> Application:
    """Send the step back to the previous step of this round, with an internal reason."""
    acting = acting_on(session, principal, application_id, version, now)
    app, task = acting.application, acting.task
    previous = previous_step(session, app, task)
    if previous is None:
        raise AppError(ErrorCode.NO_PREVIOUS_STEP)
    close_step(session, task, acting.user.user_id, "return_back", now, RETURNED)
    acting.log(
        session,
        ApprovalAction.return_back,
        now,
        opinion=reason,
    )
    process = process_of(app)
    reopened = process.step(previous.step_key)
    open_step(session, app, process, reopened, now, acting.routes)
    records_out.emit_progress(session, app, reopened.name, now=now)
    _audit(session, principal, acting, ApprovalAction.return_back, now)
    session.commit()
    return app
