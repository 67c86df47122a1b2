"""Overdue steps: flagged in the inbox by their due date, and their approvers told once by SMS.

Run by the worker. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
server instances sweeping at once never notify the same step twice.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import ApprovalTask
from server.services.approvals.routing import candidates
from server.services.approvals.tasks import PENDING
from server.services.notifications import enqueue_sms
from shared.china_time import china_day
from shared.enums import BusinessType


def notify_overdue(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Queue one reminder per approver of each newly overdue step; returns the steps flagged."""
    stmt = (
        select(ApprovalTask)
        .where(
            ApprovalTask.status == PENDING,
            ApprovalTask.due_date < china_day(now),
            ApprovalTask.overdue_notified_at.is_(None),
        )
        .order_by(ApprovalTask.due_date, ApprovalTask.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=ApprovalTask)
    tasks = list(session.scalars(stmt).unique())
    for task in tasks:
        application = task.application
        label = BusinessType(application.business_type).label
        for user in candidates(session, task):
            if not user.mobile:
                continue
            enqueue_sms(
                session,
                now=now,
                mobile=user.mobile,
                subject="审批超期提醒",
                body=(
                    f"【保安服务监管】{application.number}（{label}，{application.applicant_name}）"
                    f"的“{task.step_name}”环节已超过办理时限（{task.due_date:%Y-%m-%d}），请尽快审批。"
                ),
                user_id=user.id,
            )
        task.overdue_notified_at = now
    session.commit()
    return len(tasks)
