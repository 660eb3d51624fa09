"""Case operators and the case status: what the case process declares about the CSI as a whole.

The CSI status follows the `caseStatus` property the model declares on its wait states (the furthest one live
after a step wins, in the order of CSIStatus), so renaming a task in the designer never changes the status.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.aftersales.cases.digest import send_daily_digest
from engine.aftersales.cases.followups import remind_overdue_followups
from engine.aftersales.cases.lifecycle import cancel_terminated_case
from engine.aftersales.cases.service import close
from engine.aftersales.cases.service import get_case
from engine.aftersales.portal.customer import mail_closure
from engine.bpmn.catalog import Param
from engine.bpmn.catalog import PropertySpec
from engine.bpmn.runtime import Snapshot
from engine.platform.registry import Call
from engine.platform.registry import Registry
from engine.records.csi import CSI
from engine.records.csi import CSIStatus
from engine.records.process import ProcessInstance

CASE_STATUS = PropertySpec(
    "caseStatus",
    values=tuple(s.value for s in CSIStatus),
    projected=True,
    doc="The CSI status while this element is live (§4–§5 lifecycle); the furthest live one wins.",
)
CSI_ID = Param("csi_id", "int", doc="the case (CSI) the step acts on")
_ORDER = {status.value: index for index, status in enumerate(CSIStatus)}


def close_case(call: Call, csi_id: int) -> None:
    """§2.2, §4.5: CSI closed with the filing location of its service archive and signed originals."""
    csi = get_case(call.session, csi_id)
    close(call.session, csi, call.form, actor=call.actor)
    mail_closure(call.session, csi, actor=call.actor)  # the customer's contact is told the case is closed


def project_case_status(session: Session, instance: ProcessInstance, snapshot: Snapshot) -> None:
    """After each step of a case's own process (not its visit rounds), move the CSI to its declared status."""
    if instance.csi_id is None or instance.parent_instance_id is not None:
        return
    csi = session.get(CSI, instance.csi_id)
    if csi is None or csi.status == CSIStatus.CANCELLED.value:  # a withdrawn case keeps its status
        return
    status = furthest_status(snapshot)
    if status is not None:
        csi.status = status


def furthest_status(snapshot: Snapshot) -> str | None:
    """The case status a snapshot declares: closed when the process completed, else the furthest live marker."""
    if snapshot.completed:
        return CSIStatus.CLOSED.value
    declared = [v for v in snapshot.markers.get(CASE_STATUS.name, []) if v in _ORDER]
    return max(declared, key=_ORDER.__getitem__) if declared else None


def register(registry: Registry) -> None:
    """The case's operator, its status property and the hook that projects it."""
    registry.add_property(CASE_STATUS)
    registry.add_step_hook(project_case_status)
    registry.add_termination_hook(cancel_terminated_case)
    registry.operator(
        "record_case_closure",
        params=(CSI_ID,),
        form_fields=("archive_location",),
        user_task_only=True,
        section="§2.2, §4.5",
        doc="CSI: archive location, closing notes, closed_at; status closed; with open items (QF under investigation, "
        "open supplier claim or part return, missing §4.6 reason) only with open_items_reason.",
    )(close_case)
    registry.add_job(send_daily_digest)
    registry.add_job(remind_overdue_followups)
