"""The one place the runtime, sandbox helpers and service-task operators meet (composition root of the engine)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.aftersales.operators import dispatch
from engine.aftersales.visits import service as rounds
from engine.bpmn.runtime import WorkflowRuntime
from engine.platform.context import current_step


def working_days_after(start_iso: str, days: int) -> str:
    """Sandbox helper: the ISO deadline at close of business `days` working days after `start_iso` (§4.6 rule)."""
    start = datetime.fromisoformat(str(start_iso).replace("Z", "+00:00"))
    return current_step().calendar().deadline(start, int(days)).due_at.isoformat()


SANDBOX_HELPERS: dict[str, Any] = {"working_days_after": working_days_after}


def build_runtime() -> WorkflowRuntime:
    """A runtime wired to the sandbox helpers and the registered service-task operators."""
    runtime = WorkflowRuntime(helpers=SANDBOX_HELPERS, service_handler=dispatch)
    rounds.use_runtime(runtime)
    return runtime
