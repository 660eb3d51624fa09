"""The customer's side (§4.1, §4.6, §5.7): requests sent from the public page, the customer contact of a case, and
the unguessable links through which a customer follows a case or fills the QAHRC0807C survey."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engine.db import Base
from engine.db import UTCDateTime
from engine.labels import N_


class RequestStatus(StrEnum):
    """new → registered (a CSI exists, §4.1) or → declined (spam, not ours) by a service manager."""

    NEW = "new"
    REGISTERED = "registered"
    DECLINED = "declined"


REQUEST_STATUS_LABELS: Mapping[RequestStatus, str] = {
    RequestStatus.NEW: N_("New"),
    RequestStatus.REGISTERED: N_("Registered as CSI"),
    RequestStatus.DECLINED: N_("Declined"),
}


class LinkPurpose(StrEnum):
    """What a customer link opens."""

    STATUS = "status"
    SURVEY = "survey"


class CustomerRequest(Base):
    """A request a customer sent from the public page; it lands with the service managers, who register the CSI."""

    __tablename__ = "customer_request"
    __table_args__ = (sa.Index("ix_customer_request_address_at", "client_address", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=RequestStatus.NEW.value, index=True)
    contact_name: Mapped[str] = mapped_column(sa.String(100))
    contact_email: Mapped[str] = mapped_column(sa.String(320))
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    company: Mapped[str] = mapped_column(sa.String(200), default="")
    customer_code: Mapped[str] = mapped_column(sa.String(32), default="")
    product: Mapped[str] = mapped_column(sa.String(100), default="")
    serial_no: Mapped[str] = mapped_column(sa.String(64), default="")
    description: Mapped[str] = mapped_column(sa.Text)
    files: Mapped[list[dict[str, object]]] = mapped_column(sa.JSON, default=list)  # name, type, size, storage
    client_address: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    csi_id: Mapped[int | None] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    handled_by: Mapped[str | None] = mapped_column(sa.String(64))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)


class CaseContact(Base):
    """Who at the customer hears about a case: the status link at registration, the §4.6 answer, survey links."""

    __tablename__ = "case_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    csi_id: Mapped[int] = mapped_column(sa.ForeignKey("csi.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    email: Mapped[str] = mapped_column(sa.String(320))
    lang: Mapped[str] = mapped_column(sa.String(16), default="zh_Hans_CN")


class CaseLink(Base):
    """An unguessable link to one case's status page or one visit's survey; only its SHA-256 is stored, it expires
    and can be revoked; a survey link works once."""

    __tablename__ = "case_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    csi_id: Mapped[int] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(16))
    wo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_order.id"))
    psr_id: Mapped[int | None] = mapped_column(sa.ForeignKey("psr.id"))
    email: Mapped[str] = mapped_column(sa.String(320), default="")
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
