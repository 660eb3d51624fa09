"""The composition root: the platform's registry filled by the after-sales application, the sandbox helpers, and
the runtime that carries them (the one place these meet)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine import aftersales
from engine.bpmn.budget import MIB
from engine.bpmn.budget import StepLimits
from engine.bpmn.budget import refuse
from engine.config import Settings
from engine.config import load_settings
from engine.platform.context import current_step
from engine.platform.registry import Registry
from engine.platform.runtime import Runtime
from engine.records.user import ROLE_KEYS

# About four years of working days: far past any regulatory deadline, and each extra year costs a holiday table.
MAX_WORKING_DAYS = 1000


def working_days_after(start_iso: str, days: int) -> str:
    """Sandbox helper: the ISO deadline at close of business `days` working days after `start_iso` (§4.6 rule).

    :raises BudgetExceededError: `days` is outside 1..MAX_WORKING_DAYS (10**9 would walk the calendar for seconds).
    """
    count = int(days)
    if not 1 <= count <= MAX_WORKING_DAYS:
        refuse("argument", f"1..{MAX_WORKING_DAYS} days", f"working_days_after() was given days={count}")
    start = datetime.fromisoformat(str(start_iso).replace("Z", "+00:00"))
    return current_step().calendar().deadline(start, count).due_at.isoformat()


SANDBOX_HELPERS: dict[str, Any] = {"working_days_after": working_days_after}


def step_limits(settings: Settings) -> StepLimits:
    """The step budgets configured for this deployment (AFTERSALES_STEP_* variables)."""
    return StepLimits(
        seconds=settings.step_budget_seconds,
        memory_bytes=settings.step_memory_mb * MIB,
        data_bytes=settings.step_data_max_bytes,
    )


def build_registry() -> Registry:
    """The registry of the platform with the after-sales application registered."""
    registry = Registry(roles=ROLE_KEYS)
    aftersales.register(registry)
    return registry


def build_runtime(settings: Settings | None = None) -> Runtime:
    """A runtime wired to the sandbox helpers, the registry's operators, catalog and step hooks, and the budgets."""
    return Runtime(build_registry(), SANDBOX_HELPERS, limits=step_limits(settings or load_settings()))
