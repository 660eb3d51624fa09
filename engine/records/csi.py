"""CSI (顾客事件记录, Customer Service Incident): the case record of a complaint or service request (§4.2).

Lifecycle: registered → analysing (root cause, §4.2) → under_review (§4.4) → plan_decided (stops the §4.6 clock;
the customer is answered at once) → dispatching (§5.1: SO/WO/training being issued) → in_execution (visit rounds
run until the customer is satisfied, §5.8) → awaiting_closure → closed (archive filed, §2.2, §4.5).
Any state before closed → cancelled (withdrawn by the customer, registered twice, or its case instance terminated):
its instances end, its tasks close, and it leaves the backlog, ageing and the §4.6 figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engine.db import Base
from engine.db import UTCDateTime
from engine.labels import N_
from engine.records.master import Customer


class CaseKind(StrEnum):
    """Kinds of incoming request (DESIGN.md API, §2.3, §4.2, §6)."""

    QUALITY_COMPLAINT = "quality_complaint"
    SERVICE_REQUEST = "service_request"
    PARTS_CLAIM = "parts_claim"
    TRAINING_REQUEST = "training_request"


class CSIStatus(StrEnum):
    """Where a CSI stands; changed only by services, each change with a timeline entry."""

    REGISTERED = "registered"
    ANALYSING = "analysing"
    UNDER_REVIEW = "under_review"
    PLAN_DECIDED = "plan_decided"
    DISPATCHING = "dispatching"
    IN_EXECUTION = "in_execution"
    AWAITING_CLOSURE = "awaiting_closure"
    CLOSED = "closed"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset({CSIStatus.CLOSED.value, CSIStatus.CANCELLED.value})
CSI_STATUS_LABELS: Mapping[CSIStatus, str] = {
    CSIStatus.REGISTERED: N_("Registered"),
    CSIStatus.ANALYSING: N_("Analysing root cause"),
    CSIStatus.UNDER_REVIEW: N_("Under review"),
    CSIStatus.PLAN_DECIDED: N_("Plan decided"),
    CSIStatus.DISPATCHING: N_("Dispatching service"),
    CSIStatus.IN_EXECUTION: N_("Service in progress"),
    CSIStatus.AWAITING_CLOSURE: N_("Awaiting closure"),
    CSIStatus.CLOSED: N_("Closed"),
    CSIStatus.CANCELLED: N_("Cancelled"),
}
CASE_KIND_LABELS: Mapping[CaseKind, str] = {
    CaseKind.QUALITY_COMPLAINT: N_("Quality complaint"),
    CaseKind.SERVICE_REQUEST: N_("Service request"),
    CaseKind.PARTS_CLAIM: N_("Parts claim"),
    CaseKind.TRAINING_REQUEST: N_("Training request"),
}


class Coverage(StrEnum):
    """§3.2 period of use: a service contract, else the SO# sale date and the product's 三包期 policy (§2.4)."""

    CONTRACT = "contract"
    IN_WARRANTY = "in_warranty"
    OUT_OF_WARRANTY = "out_of_warranty"
    UNKNOWN = "unknown"


COVERAGE_LABELS: Mapping[Coverage, str] = {
    Coverage.CONTRACT: N_("Service contract"),
    Coverage.IN_WARRANTY: N_("In warranty"),
    Coverage.OUT_OF_WARRANTY: N_("Out of warranty"),
    Coverage.UNKNOWN: N_("Unknown"),
}


class CSI(Base):
    """One customer incident with its SO#, root cause, review opinion, plan and §4.6 clock."""

    __tablename__ = "csi"
    __table_args__ = (sa.Index("ix_csi_status_received_at", "status", "received_at"),)  # dashboard ageing, lists

    id: Mapped[int] = mapped_column(primary_key=True)
    csi_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(24))
    status: Mapped[str] = mapped_column(sa.String(24), default=CSIStatus.REGISTERED.value)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    origin_so_no: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    sales_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sales_order.id"))
    serial_no: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    product_code: Mapped[str | None] = mapped_column(sa.String(32))
    sale_date: Mapped[date | None] = mapped_column(sa.Date)
    warranty_until: Mapped[date | None] = mapped_column(sa.Date)
    coverage: Mapped[str] = mapped_column(sa.String(24), default=Coverage.UNKNOWN.value)
    policy_version: Mapped[int | None] = mapped_column()
    contract_no: Mapped[str | None] = mapped_column(sa.String(32))
    archive_required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    description: Mapped[str] = mapped_column(sa.Text, default="")
    channel: Mapped[str] = mapped_column(sa.String(32), default="")
    overseas: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[str] = mapped_column(sa.String(64))
    forwarded_by: Mapped[str | None] = mapped_column(sa.String(64))
    plan_due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    plan_due_provisional: Mapped[bool] = mapped_column(default=False)
    plan_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_exception_reason: Mapped[str | None] = mapped_column(sa.Text)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # §4.6 clock paused (waiting on customer)
    sla_pause_reason: Mapped[str | None] = mapped_column(sa.Text)
    sla_paused_days: Mapped[int] = mapped_column(default=0, server_default="0")  # working days paused, all pauses
    root_cause: Mapped[str | None] = mapped_column(sa.Text)
    responsibility: Mapped[str | None] = mapped_column(sa.String(24))
    analysed_by: Mapped[str | None] = mapped_column(sa.String(64))
    review_form: Mapped[str | None] = mapped_column(sa.String(24))
    review_opinion: Mapped[str | None] = mapped_column(sa.Text)
    service_plan: Mapped[list[str] | None] = mapped_column(sa.JSON)
    no_service_reason: Mapped[str | None] = mapped_column(sa.String(24))  # plan "none": unfounded, resolved_by_phone…
    signed_original_location: Mapped[str | None] = mapped_column(sa.String(200))
    signed_original_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # §4.5: the original arrived
    signed_original_received_by: Mapped[str | None] = mapped_column(sa.String(64))
    reviewed_by: Mapped[str | None] = mapped_column(sa.String(64))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer_channel: Mapped[str | None] = mapped_column(sa.String(24))
    plan_summary: Mapped[str | None] = mapped_column(sa.Text)
    answered_by: Mapped[str | None] = mapped_column(sa.String(64))
    billing: Mapped[str | None] = mapped_column(sa.String(16))
    cost_bearer: Mapped[str | None] = mapped_column(sa.String(16))
    billing_override_reason: Mapped[str | None] = mapped_column(sa.Text)
    renegotiations: Mapped[int] = mapped_column(default=0, server_default="0")
    # §5.8: service ended without the customer's agreement (reason, proposed_by/at, approved_by/at, note, wo_no)
    service_end: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    dispatch_notes: Mapped[str | None] = mapped_column(sa.Text)  # §4-only release's placeholder step (kept)
    archive_location: Mapped[str | None] = mapped_column(sa.String(300))
    closing_notes: Mapped[str | None] = mapped_column(sa.Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(64))
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("csi.id"))
    customer: Mapped[Customer] = relationship(lazy="joined")

    @property
    def is_final(self) -> bool:
        """Closed or cancelled: nothing more happens to the case."""
        return self.status in FINAL_STATUSES

    @property
    def sla_applies(self) -> bool:
        """§4.6 counts cases whose plan is decided by review: not training requests (§6, no review), not cancelled
        ones (a withdrawn case leaves the figures)."""
        return self.kind != CaseKind.TRAINING_REQUEST.value and self.status != CSIStatus.CANCELLED.value

    @property
    def sla_running(self) -> bool:
        """The §4.6 clock runs now: it applies, the plan is undecided, the case is open and the clock not paused."""
        return self.sla_applies and not self.is_final and self.plan_decided_at is None and self.sla_paused_at is None

    def sla_breached(self, now: datetime) -> bool:
        """§4.6: breached when the plan was decided late, or is still undecided after the deadline (a paused clock
        does not run out)."""
        if not self.sla_applies:
            return False
        if self.sla_breached_at is not None:
            return True
        if self.sla_paused_at is not None:
            return False
        decided = self.plan_decided_at
        return (decided or now) > self.plan_due_at

    def facts(self) -> dict[str, Any]:
        """The CSI's fields as JSON-ready values (API and print view)."""
        out: dict[str, Any] = {}
        for column in self.__table__.columns:
            value = getattr(self, column.key)
            out[column.key] = value.isoformat() if isinstance(value, date | datetime) else value
        return out
