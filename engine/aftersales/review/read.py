"""Read the `service_billing` DMN proposal a review task sees (§3.1 allowed plans, §3.2 billing and cost bearer).

Read-only: the task's instance is loaded, never run or saved. The review form shows the proposal, pre-selects the
proposed billing, and explains that a different billing needs a written reason (checked by review/billing.py).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import EngineError
from engine.platform.runtime import Runtime
from engine.platform.step import load_workflow
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import TaskStatus

PROPOSAL_KEYS = ("proposed_billing", "cost_bearer", "allowed_plans")
INPUT_KEYS = ("product_category", "coverage", "responsibility")


def billing_proposal(session: Session, runtime: Runtime, task: HumanTask) -> dict[str, Any] | None:
    """The DMN outputs (`proposed_billing`, `cost_bearer`, `allowed_plans`) in the task's data, with the DMN's
    inputs under `inputs`; None when the task sees no proposal (no DMN ran before it, or the state is gone)."""
    instance = session.get(ProcessInstance, task.instance_id)
    if instance is None:
        return None
    try:
        data = runtime.task_data(load_workflow(session, runtime, instance), task.id)
    except EngineError:
        return None
    if not any(key in data for key in PROPOSAL_KEYS):
        return None
    proposal: dict[str, Any] = {key: _plain(data.get(key)) for key in PROPOSAL_KEYS}
    proposal["inputs"] = {key: _plain(data.get(key)) for key in INPUT_KEYS}
    return proposal


def open_review_proposal(session: Session, runtime: Runtime, csi_id: int) -> dict[str, Any] | None:
    """The proposal an open task of the case sees (for the printed CSI before the review, §4.2), if any: the task
    is found by what its data holds, not by its id."""
    query = sa.select(HumanTask).where(HumanTask.csi_id == csi_id, HumanTask.status == TaskStatus.OPEN.value)
    for task in session.scalars(query.order_by(HumanTask.created_at.desc())):
        proposal = billing_proposal(session, runtime, task)
        if proposal is not None:
            return proposal
    return None


def _plain(value: Any) -> Any:
    """JSON-ready copy (the DMN gives lists; tuples or sets would not serialize)."""
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return value
