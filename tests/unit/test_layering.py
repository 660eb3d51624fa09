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


@pytest.mark.parametrize("path", modules("engine/platform"), ids=lambda p: str(p.relative_to(ROOT)))
def test_platform_knows_no_application(path):
    """The general engine never imports the after-sales application or the read models (issue 7 item 5)."""
    assert not {m for m in imports_of(path) if m.startswith(("engine.aftersales", "engine.reports"))}


_WRITES = {"add", "add_all", "delete", "flush", "commit", "merge", "log_event", "run_step", "write_step"}


@pytest.mark.parametrize("path", modules("engine/reports"), ids=lambda p: str(p.relative_to(ROOT)))
def test_read_models_never_write(path):
    """Dashboard, monitoring, heatmap and the document chain only read: no session writes, no engine steps."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    assert not calls & _WRITES
    assert not {m for m in imports_of(path) if m.startswith("engine.aftersales") and not m.endswith(".read")}
    assert "sqlalchemy" not in imports_of(path) or "sa.update" not in path.read_text(encoding="utf-8")


def test_no_module_looks_up_a_task_by_its_bpmn_id():
    """Behaviour is declared in the model: no Python compares a task's BPMN id with a literal (issue 7 item 2)."""
    offenders = []
    for path in modules("engine") + modules("web"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            sides = [node.left, *node.comparators] if isinstance(node, ast.Compare) else []
            if any(isinstance(side, ast.Constant) for side in sides):
                names = [n for n in ast.walk(node) if isinstance(n, ast.Attribute) and n.attr == "bpmn_id"]
                if names:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
