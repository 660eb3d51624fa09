"""BPMN/DMN boundary: the only package importing SpiffWorkflow, so the engine's quirks stay in one place."""
