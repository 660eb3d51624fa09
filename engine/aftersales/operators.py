"""Service-task operators: BPMN `serviceTaskOperator` ids mapped to functions that change records in the step."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from engine.aftersales.visits import service as rounds
from engine.clock import utcnow
from engine.errors import NotFoundError
from engine.platform.context import current_step
from engine.platform.timeline import log_event
from engine.records.csi import CSI

Operator = Callable[..., dict[str, Any]]


def record_sla_breach(csi_id: int) -> dict[str, Any]:
    """§4.6: the plan was not decided within 3 working days; stamp the CSI once and put it on the timeline."""
    step = current_step()
    csi = step.session.get(CSI, int(csi_id))
    if csi is None:
        raise NotFoundError(f"CSI {csi_id} does not exist")
    if csi.sla_breached_at is None:
        csi.sla_breached_at = utcnow()
        log_event(
            step.session,
            "sla.breached",
            actor="system",
            csi_id=csi.id,
            instance_id=step.instance_id,
            bpmn_id="record_sla_breach",
            message=f"§4.6 plan not decided by {csi.plan_due_at.isoformat()}",
            data={"plan_due_at": csi.plan_due_at.isoformat()},
        )
    return {"recorded": True, "breached_at": csi.sla_breached_at.isoformat()}


SERVICE_TASKS: Mapping[str, Operator] = {
    "record_sla_breach": record_sla_breach,
    "start_visit_round": rounds.start_visit_round,
    "finish_visit_round": rounds.finish_visit_round,
}


def dispatch(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """Call the operator registered under `operation` (the deploy lint guarantees it exists)."""
    operator = SERVICE_TASKS.get(operation)
    if operator is None:
        raise NotFoundError(f"no service-task operator named {operation!r}")
    return operator(**params)
