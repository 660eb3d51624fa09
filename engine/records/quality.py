"""Quality loop records: QAHRC0722C quality problem feedback (§5.6) and QAHRC0807C satisfaction survey (§5.7)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engine.db import Base
from engine.db import UTCDateTime

DISSATISFIED = frozenset({"dissatisfied", "very_dissatisfied"})


class QualityFeedback(Base):
    """QAHRC0722C: a (potential) quality problem found in service, filed by the engineer to Engineering/QC.

    Lifecycle: submitted → closed (investigated, corrective action set) or rejected (not a quality problem).
    """

    __tablename__ = "quality_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    qf_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    form_code: Mapped[str] = mapped_column(sa.String(16), default="QAHRC0722C")
    csi_id: Mapped[int] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    wo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_order.id"))
    psr_id: Mapped[int | None] = mapped_column(sa.ForeignKey("psr.id"))
    description: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="submitted")
    filed_by: Mapped[str] = mapped_column(sa.String(64))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    investigation: Mapped[str | None] = mapped_column(sa.Text)
    corrective_action: Mapped[str | None] = mapped_column(sa.Text)
    reviewed_by: Mapped[str | None] = mapped_column(sa.String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SatisfactionSurvey(Base):
    """QAHRC0807C: customer opinions and suggestions recorded by the engineer, sent to the service manager."""

    __tablename__ = "satisfaction_survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    sv_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    form_code: Mapped[str] = mapped_column(sa.String(16), default="QAHRC0807C")
    csi_id: Mapped[int] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    wo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_order.id"))
    psr_id: Mapped[int | None] = mapped_column(sa.ForeignKey("psr.id"))
    satisfaction: Mapped[str] = mapped_column(sa.String(24))
    dissatisfied: Mapped[bool] = mapped_column(default=False)
    opinions: Mapped[str] = mapped_column(sa.Text, default="")
    filed_by: Mapped[str] = mapped_column(sa.String(64))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
