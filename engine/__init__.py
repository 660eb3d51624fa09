"""Aftersales BPM engine: records, SpiffWorkflow runtime and use-case services (never imports Flask)."""
