"""Notifications: the outbox of messages to deliver (mail, chat webhooks), written in the same transaction as the
step that causes them and delivered once by a sender; the in-app notices behind the bell; webhook endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engine.db import Base
from engine.db import UTCDateTime
from engine.labels import N_


class OutboxStatus(StrEnum):
    """pending → sent, or → dead after the last failed attempt (the dead-letter list)."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


OUTBOX_STATUS_LABELS: Mapping[OutboxStatus, str] = {
    OutboxStatus.PENDING: N_("Waiting to be sent"),
    OutboxStatus.SENT: N_("Sent"),
    OutboxStatus.DEAD: N_("Undeliverable"),
}


class Channel(StrEnum):
    """How a message travels."""

    EMAIL = "email"
    WEBHOOK = "webhook"


class OutboxMessage(Base):
    """One message to deliver; `dedupe_key` makes a producer's retry add nothing twice."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(sa.String(48))
    channel: Mapped[str] = mapped_column(sa.String(16))
    address: Mapped[str] = mapped_column(sa.String(320))  # an e-mail address, or a webhook endpoint's name
    recipient: Mapped[str | None] = mapped_column(sa.String(64))  # the user it is for, if any
    lang: Mapped[str] = mapped_column(sa.String(16), default="zh_Hans_CN")
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Notice(Base):
    """One in-app notification behind the bell in the page header."""

    __tablename__ = "notice"
    __table_args__ = (sa.Index("ix_notice_user_unread", "username", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(48))
    title: Mapped[str] = mapped_column(sa.String(300))
    link: Mapped[str | None] = mapped_column(sa.String(300))
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)  # a repeated notice adds nothing
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookKind(StrEnum):
    """The chat tools a webhook endpoint speaks to."""

    WECOM = "wecom"
    DINGTALK = "dingtalk"
    JSON = "json"


class WebhookEndpoint(Base):
    """A chat group or system that receives notices of the listed kinds (all kinds when empty)."""

    __tablename__ = "webhook_endpoint"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    url: Mapped[str] = mapped_column(sa.String(500))
    secret: Mapped[str] = mapped_column(sa.String(200), default="")
    kinds: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
