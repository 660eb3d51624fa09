"""The platform's runtime: the SpiffWorkflow runtime bound to the registry, so the lint, the operators and the step
hooks all come from one place, passed where the runtime is passed (no module-level state)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from engine.bpmn.budget import StepLimits
from engine.bpmn.runtime import WorkflowRuntime
from engine.platform.registry import Registry
from engine.platform.warm import WarmWorkflows


class Runtime(WorkflowRuntime):
    """A WorkflowRuntime whose service handler, catalog and step hooks are those of `registry`."""

    def __init__(
        self, registry: Registry, helpers: Mapping[str, Callable[..., Any]], *, limits: StepLimits | None = None
    ) -> None:
        super().__init__(helpers=helpers, service_handler=registry.dispatch, catalog=registry.catalog(), limits=limits)
        self.registry = registry
        self.warm = WarmWorkflows()  # live workflows of recently stepped instances (engine/platform/warm.py)
