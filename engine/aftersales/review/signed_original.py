"""§4.5: the signed review original is recorded as received (by whom, when, filed where), so the CSIs whose original
is still missing can be listed (issue 9)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.aftersales.cases.lifecycle import LIFECYCLE_ROLES
from engine.aftersales.cases.lifecycle import lock_case
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import Problem
from engine.platform.access import check_role
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.csi import CSIStatus
from engine.records.user import User

LOCATION_MAX = 200


def record_signed_original(session: Session, user: User, csi_id: int, location: Any) -> CSI:
    """Record that the signed original of the review arrived and where it is filed (§4.5).

    :raises PermissionDeniedError: not a service manager or supervisor. :raises InvalidInputError: no location.
    :raises ConflictError: the plan is not decided yet, the case was cancelled, or the original is already recorded.
    """
    check_role(user, *LIFECYCLE_ROLES)
    text = location.strip() if isinstance(location, str) else ""
    if not text or len(text) > LOCATION_MAX or "\x00" in text:
        problem = Problem("required", "this field is required") if not text else Problem("too_long", "too long")
        raise InvalidInputError("where is it filed?", {"location": problem})
    csi = lock_case(session, csi_id)
    if csi.plan_decided_at is None or csi.status == CSIStatus.CANCELLED.value:
        raise ConflictError(f"{csi.csi_no} has no decided review to sign")
    if csi.signed_original_received_at is not None:
        raise ConflictError(f"the signed original of {csi.csi_no} is already recorded")
    before = csi.signed_original_location
    csi.signed_original_received_at, csi.signed_original_received_by = utcnow(), user.username
    csi.signed_original_location = text
    log_event(
        session,
        "csi.signed_original_received",
        actor=user.username,
        csi_id=csi.id,
        message=text,
        data={"location": text, "planned_location": before},
    )
    return csi
