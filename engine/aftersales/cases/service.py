"""Case use cases shared by the features: load a CSI for a step, and close it (§2.2, §4.5) once its open items
are settled or explained (issue 9)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.csi import CSIStatus
from engine.records.part_return import OPEN_RETURN_STATUSES
from engine.records.part_return import PartReturn
from engine.records.quality import QualityFeedback
from engine.records.supplier_claim import SupplierClaim


def get_case(session: Session, csi_id: Any) -> CSI:
    """The CSI with this id.

    :raises NotFoundError: no such CSI.
    """
    csi = session.get(CSI, int(csi_id)) if csi_id is not None else None
    if csi is None:
        raise NotFoundError(Problem("case_missing", f"CSI {csi_id} does not exist", case=csi_id))
    return csi


def open_items(session: Session, csi: CSI) -> list[str]:
    """What is still open on a case: QAHRC0722C under investigation (§5.6), supplier claims not yet settled or
    rejected (open, submitted, accepted or partly accepted: `closed_at` not set, §5.5), spare part returns not yet
    exchanged, credited or refused (§3.1), a §4.6 breach without the supervisor's reason."""
    items = list(
        session.scalars(
            sa.select(QualityFeedback.qf_no).where(
                QualityFeedback.csi_id == csi.id, QualityFeedback.status == "submitted"
            )
        )
    )
    items += session.scalars(
        sa.select(SupplierClaim.sc_no).where(SupplierClaim.csi_id == csi.id, SupplierClaim.closed_at.is_(None))
    )
    items += session.scalars(
        sa.select(PartReturn.rt_no).where(PartReturn.csi_id == csi.id, PartReturn.status.in_(OPEN_RETURN_STATUSES))
    )
    if csi.sla_breached_at is not None and not csi.sla_exception_reason:
        items.append("§4.6")
    return items


def close(session: Session, csi: CSI, form: Mapping[str, Any], *, actor: str) -> None:
    """§2.2, §4.5: the case is closed with the filing location of its service archive and signed originals; with
    open items (QF under investigation, open supplier claim or part return, missing §4.6 reason) only when the
    manager records why.

    :raises InvalidInputError: open items and no `open_items_reason` (nothing changes; the manager may wait).
    """
    items = open_items(session, csi)
    reason = str(form.get("open_items_reason") or "").strip()
    if items and not reason:
        listed = ", ".join(items)
        raise InvalidInputError(
            "the case has open items",
            {
                "open_items_reason": Problem(
                    "open_items", f"still open: {listed}; wait, or record why the case closes now", items=listed
                )
            },
        )
    if items:
        log_event(
            session,
            "csi.closed_with_open_items",
            actor=actor,
            csi_id=csi.id,
            message=reason,
            data={"items": items, "reason": reason},
        )
    csi.archive_location = form["archive_location"]
    csi.closing_notes = form.get("closing_notes")
    csi.closed_at = utcnow()
    csi.status = CSIStatus.CLOSED.value
