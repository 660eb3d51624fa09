"""The composition root: the platform's registry filled by the after-sales application, the sandbox helpers, and
the runtime that carries them (the one place these meet)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine import aftersales
from engine.platform.context import current_step
from engine.platform.registry import Registry
from engine.platform.runtime import Runtime
from engine.records.user import ROLE_KEYS


def working_days_after(start_iso: str, days: int) -> str:
    """Sandbox helper: the ISO deadline at close of business `days` working days after `start_iso` (§4.6 rule)."""
    start = datetime.fromisoformat(str(start_iso).replace("Z", "+00:00"))
    return current_step().calendar().deadline(start, int(days)).due_at.isoformat()


SANDBOX_HELPERS: dict[str, Any] = {"working_days_after": working_days_after}


def build_registry() -> Registry:
    """The registry of the platform with the after-sales application registered."""
    registry = Registry(roles=ROLE_KEYS)
    aftersales.register(registry)
    return registry


def build_runtime() -> Runtime:
    """A runtime wired to the sandbox helpers and the registry's operators, catalog and step hooks."""
    return Runtime(build_registry(), SANDBOX_HELPERS)
