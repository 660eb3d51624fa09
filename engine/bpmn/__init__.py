"""BPMN/DMN boundary: the only package importing SpiffWorkflow, so the engine's quirks stay in one place."""

from engine.bpmn import timer_bounds  # noqa: F401  (bounds Spiff's timer durations before any of it runs)
