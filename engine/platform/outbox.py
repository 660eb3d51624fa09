"""The outbox: messages are written in the transaction of the step that causes them and delivered by senders (the
embedded worker, `aftersales notify`), any number at once.

Each message is delivered in its own transaction that holds its row while the transport runs: a second sender
skips it (SKIP LOCKED on PostgreSQL; SQLite lets one writer at a time), and it is marked sent in the same commit.
A sender killed between messages loses nothing and repeats nothing. A sender killed inside the one call that was
handing a message over cannot know whether it arrived: that message is sent again with the same Message-ID /
X-Aftersales-Delivery id, so receivers see it once. Failures retry with exponential back-off; after the last
attempt the message is dead and listed for an administrator, who may send it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.transports import DeliveryError
from engine.platform.transports import MailSettings
from engine.platform.transports import post_webhook
from engine.platform.transports import send_mail
from engine.records.notification import Channel
from engine.records.notification import OutboxMessage
from engine.records.notification import OutboxStatus
from engine.records.notification import WebhookEndpoint

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


def enqueue(
    session: Session,
    *,
    kind: str,
    channel: Channel,
    address: str,
    subject: str,
    body: str,
    recipient: str | None = None,
    lang: str = "zh_Hans_CN",
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Add a message to the caller's transaction; None when `dedupe_key` was already queued."""
    if dedupe_key is not None:
        known = session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if known is not None:
            return None
    now = utcnow()
    message = OutboxMessage(
        created_at=now,
        kind=kind,
        channel=channel.value,
        address=address[:320],
        recipient=recipient,
        lang=lang,
        subject=subject[:300],
        body=body,
        payload=payload,
        dedupe_key=dedupe_key,
        status=OutboxStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
    )
    session.add(message)
    return message


@dataclass
class SendReport:
    """What one run of a sender did."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)


Deliver = Callable[[Session, OutboxMessage], None]


def transports(mail: MailSettings) -> Deliver:
    """The delivery function for these mail settings: SMTP for e-mail, the endpoint's format for webhooks."""

    def deliver(session: Session, message: OutboxMessage) -> None:
        if message.channel == Channel.EMAIL.value:
            send_mail(mail, message)
            return
        endpoint = session.get(WebhookEndpoint, message.address)
        if endpoint is None or not endpoint.active:
            raise DeliveryError(f"no active webhook endpoint named {message.address!r}")
        post_webhook(endpoint, message, base_url=mail.base_url)

    return deliver


def send_due(
    sessions: sessionmaker[Session], deliver: Deliver, *, now: datetime | None = None, limit: int = 100
) -> SendReport:
    """Deliver up to `limit` due messages, each in its own transaction; returns what happened to each."""
    report = SendReport()
    for _ in range(limit):
        with sessions() as session, session.begin():
            at = now or utcnow()
            message = _claim(session, at)
            if message is None:
                break
            try:
                deliver(session, message)
            except DeliveryError as exc:
                _failed(message, str(exc), report, at)
            else:
                message.status = OutboxStatus.SENT.value
                message.sent_at = utcnow()
                message.attempts += 1
                message.last_error = None
                report.sent.append(message.id)
    return report


def _claim(session: Session, now: datetime) -> OutboxMessage | None:
    query = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def _failed(message: OutboxMessage, error: str, report: SendReport, at: datetime) -> None:
    message.attempts += 1
    message.last_error = error[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.DEAD.value
        report.dead.append(message.id)
        return
    wait = min(FIRST_RETRY * 2 ** (message.attempts - 1), LONGEST_RETRY)
    message.next_attempt_at = at + wait
    report.retried.append(message.id)


def dead_letters(session: Session, *, limit: int = 200) -> list[OutboxMessage]:
    """Messages that could not be delivered, newest first (the administrator's list)."""
    query = sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DEAD.value)
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))


def send_again(session: Session, message_id: int) -> OutboxMessage:
    """Put a dead message back in the queue with its attempts reset.

    :raises NotFoundError: no such message. :raises ConflictError: it is not dead.
    """
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFoundError(Problem("record_missing", f"outbox message {message_id} does not exist", record=message_id))
    if message.status != OutboxStatus.DEAD.value:
        raise ConflictError(
            Problem(
                "message_state",
                f"outbox message {message_id} is {message.status}, not undeliverable",
                status=message.status,
            )
        )
    message.status, message.attempts, message.next_attempt_at = OutboxStatus.PENDING.value, 0, utcnow()
    return message
