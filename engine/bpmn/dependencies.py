"""Which bundle files a process depends on, so a deploy versions only the processes whose behaviour changed."""

from __future__ import annotations

from typing import Any

from engine.bpmn.specs import ParsedBundle


def process_files(bundle: ParsedBundle, process_id: str) -> set[str]:
    """Files behind one process: its BPMN file, called processes' files, forms its user tasks use, all DMN."""
    spec, subprocess_specs = bundle.spec(process_id)
    specs: list[Any] = [spec, *[s for s in subprocess_specs.values() if s is not None]]
    names = {bundle.name_of(s.file) for s in specs}
    for each in specs:
        for task_spec in each.task_specs.values():
            properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
            for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
                if properties.get(key):
                    names.add(bundle.form_path(properties[key]))
    names.update(name for name in bundle.files if name.endswith(".dmn"))
    return {name for name in names if name}


def process_name(bundle: ParsedBundle, process_id: str) -> str:
    """The process's display name from its BPMN `name` attribute (its id when unnamed)."""
    spec, _ = bundle.spec(process_id)
    return str(spec.description or process_id)
