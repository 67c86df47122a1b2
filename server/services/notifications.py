"""The notification outbox: messages are written in the business transaction and delivered
afterwards by a pluggable sender, so a failed SMS gateway never rolls back a decision and a
crash never loses a message.
"""

import logging
from datetime import datetime
from typing import Protocol

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.models import Notification

log = logging.getLogger("sgss.notifications")

MAX_ATTEMPTS = 5


class Sender(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver or raise; the outbox records the outcome."""


class LogSender:
    """Development sender: writes each message to the server log."""

    def send(self, notification: Notification) -> None:
        log.info(
            "[%s → %s] %s: %s",
            notification.channel,
            notification.recipient,
            notification.subject,
            notification.body,
        )


class HttpSmsSender:
    """Posts to an SMS gateway over HTTP (JSON ``{"mobile","content"}``)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._url = url
        self._timeout = timeout

    def send(self, notification: Notification) -> None:
        if notification.channel != "sms":  # app notices: no app gateway here yet, logged
            LogSender().send(notification)
            return
        response = requests.post(
            self._url,
            json={"mobile": notification.recipient, "content": notification.body},
            timeout=self._timeout,
        )
        response.raise_for_status()


def sender_from_settings(settings: Settings) -> Sender:
    if settings.notification_sender == "http" and settings.sms_gateway_url:
        return HttpSmsSender(settings.sms_gateway_url)
    return LogSender()


def enqueue_sms(
    session: Session, *, now: datetime, mobile: str, subject: str, body: str, user_id: int | None
) -> Notification:
    notification = Notification(
        channel="sms",
        recipient=mobile,
        subject=subject,
        body=body,
        user_id=user_id,
        created_at=now,
        status="pending",
    )
    session.add(notification)
    return notification


def enqueue_app(
    session: Session, *, now: datetime, recipient: str, subject: str, body: str
) -> Notification:
    """An app notice (channel ``app``) to a person of the public app, named by ID number; the
    app's gateway is a sender like the SMS gateway's."""
    notification = Notification(
        channel="app",
        recipient=recipient,
        subject=subject,
        body=body,
        user_id=None,
        created_at=now,
        status="pending",
    )
    session.add(notification)
    return notification


def deliver_pending(session: Session, sender: Sender, *, now: datetime, limit: int = 100) -> int:
    """Try every pending message once; returns how many were sent. Commits."""
    stmt = (
        select(Notification)
        .where(Notification.status == "pending")
        .order_by(Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    sent = 0
    for notification in session.scalars(stmt):
        notification.attempts += 1
        try:
            sender.send(notification)
        except Exception as err:  # any sender failure is recorded, never raised
            notification.last_error = f"{type(err).__name__}: {err}"[:1000]
            if notification.attempts >= MAX_ATTEMPTS:
                notification.status = "failed"
        else:
            notification.status = "sent"
            notification.sent_at = now
            sent += 1
    session.commit()
    return sent


def list_outbox(
    session: Session, *, status: str | None = None, limit: int = 50
) -> list[Notification]:
    stmt = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(Notification.status == status)
    return list(session.scalars(stmt))
