"""Import rules of STYLE.md §10: engine never imports Flask; only engine/bpmn imports SpiffWorkflow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules("engine"), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_never_imports_flask(path):
    assert not {m for m in imports_of(path) if m.split(".")[0] in {"flask", "flask_babel", "flask_wtf", "web"}}


@pytest.mark.parametrize("path", modules("engine") + modules("web"), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_engine_bpmn_imports_spiffworkflow(path):
    spiff = {m for m in imports_of(path) if m.split(".")[0] == "SpiffWorkflow"}
    assert not spiff or path.is_relative_to(ROOT / "engine" / "bpmn")


@pytest.mark.parametrize(
    "path", modules("engine/records") + modules("engine/bpmn"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_records_and_bpmn_do_not_reach_up_into_services(path):
    upper = ("engine.platform", "engine.aftersales", "engine.reports")
    assert not {m for m in imports_of(path) if m.startswith(upper)}

