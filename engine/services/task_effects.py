"""What completing each user task writes into the CSI record (the facts), keyed by the task's BPMN id."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.clock import utcnow
from engine.records.csi import CSI
from engine.records.csi import CSIStatus

Effect = Callable[[CSI, Mapping[str, Any], str], None]


def analyse_root_cause(csi: CSI, data: Mapping[str, Any], actor: str) -> None:
    """§4.2: the root cause and the responsible party come first, before the review."""
    csi.root_cause = data["root_cause"]
    csi.responsibility = data["responsibility"]
    csi.analysed_by = actor


def review_csi(csi: CSI, data: Mapping[str, Any], actor: str) -> None:
    """§4.4–§4.5: the review's written opinion and service plan enter the CSI; this decides the plan (§4.6 clock)."""
    csi.review_form = data["review_form"]
    csi.review_opinion = data["opinion"]
    csi.service_plan = list(data["service_plan"])
    csi.signed_original_location = data["signed_original_location"]
    csi.reviewed_by = actor
    csi.plan_decided_at = utcnow()


def answer_customer(csi: CSI, data: Mapping[str, Any], actor: str) -> None:
    """§4.6: the customer was told the decided plan; channel, time and summary are recorded."""
    csi.answer_channel = data["answer_channel"]
    csi.answered_at = datetime.fromisoformat(data["answered_at"].replace("Z", "+00:00"))
    csi.plan_summary = data["plan_summary"]
    csi.answered_by = actor


def dispatch_service(csi: CSI, data: Mapping[str, Any], actor: str) -> None:
    """§5.1: the service manager organised the service; the case leaves intake."""
    csi.dispatch_notes = data["dispatch_notes"]
    csi.status = CSIStatus.DISPATCHED.value


def handle_overdue_plan(csi: CSI, data: Mapping[str, Any], actor: str) -> None:
    """§4.6 "normally 3 working days": the supervisor records why this case took longer."""
    csi.sla_exception_reason = data["exception_reason"]


TASK_EFFECTS: Mapping[str, Effect] = {
    "analyse_root_cause": analyse_root_cause,
    "review_csi": review_csi,
    "answer_customer": answer_customer,
    "dispatch_service": dispatch_service,
    "handle_overdue_plan": handle_overdue_plan,
}
