"""Designer services: validate edits over the deployed bundle, deploy, history with a readable diff, download."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from engine.config import PROJECT_ROOT
from engine.errors import DefinitionError
from engine.platform import designer
from engine.platform.designer_diff import diff_files
from tests.conftest import shared_corpus

WORKFLOWS = PROJECT_ROOT / "workflows"
PLAN_BPMN = (WORKFLOWS / "decide_service_plan.bpmn").read_text(encoding="utf-8")
SCHEMA = (WORKFLOWS / "forms" / "analyse_root_cause.schema.json").read_text(encoding="utf-8")
MIWG = shared_corpus("bpmn-miwg")
MIWG_FILES = sorted(MIWG.glob("*.bpmn")) if MIWG.is_dir() else []


def with_optional_field(schema_text: str) -> str:
    schema = json.loads(schema_text)
    schema["properties"]["supplier_batch"] = {"type": "string", "maxLength": 64, "title": "供方批次号"}
    return json.dumps(schema, ensure_ascii=False, indent=2)


def test_catalog_offers_the_bundle_forms_operators_roles_and_decisions(session, runtime):
    catalog = designer.pickers(session, runtime.catalog)
    assert "analyse_root_cause.schema.json" in catalog.forms
    assert "analyse_root_cause.ui.json" in catalog.ui_forms
    assert "service_manager" in catalog.roles
    assert "record_sla_breach" in [o["name"] for o in catalog.operators]
    [decision] = [o for o in catalog.operators if o["name"] == "record_plan_decision"]
    assert decision["section"] == "§4.4–§4.6" and "opinion" in decision["form_fields"]
    assert [p["name"] for p in decision["params"]][0] == "csi_id"
    assert catalog.decisions == ["service_billing"]
    assert {"after_sales_case", "decide_service_plan", "field_visit_round"} <= set(catalog.processes)


def test_validate_pins_problems_to_elements_of_the_edited_file(session, runtime):
    broken = PLAN_BPMN.replace(
        '<bpmn:lane id="service_manager_lane" name="service_manager">',
        '<bpmn:lane id="service_manager_lane" name="nobody">',
    )
    assert broken != PLAN_BPMN
    problems = designer.validate_edits(session, {"decide_service_plan.bpmn": broken}, runtime.catalog)
    assert problems and all(p.file == "decide_service_plan.bpmn" and p.element_id and p.line for p in problems)
    assert any(p.element_id == "analyse_root_cause" and "'nobody'" in p.message for p in problems)
    assert designer.validate_edits(session, {"decide_service_plan.bpmn": PLAN_BPMN}, runtime.catalog) == []


def test_validate_reports_malformed_xml_with_its_line(session, runtime):
    problems = designer.validate_edits(session, {"decide_service_plan.bpmn": "<definitions>\n<oops"}, runtime.catalog)
    [problem] = [p for p in problems if p.file == "decide_service_plan.bpmn"]
    assert problem.line == 2 and "well-formed" in problem.message
    assert any(p.element_id == "decide_service_plan" for p in problems)  # the call activity now calls nothing


def test_unsupported_file_names_are_refused(session, runtime):
    with pytest.raises(DefinitionError):
        designer.validate_edits(session, {"../../etc/passwd": "x"}, runtime.catalog)


def test_deploy_records_who_and_when_and_history_explains_the_change(session, runtime):
    renamed = PLAN_BPMN.replace('name="原因分析"', 'name="原因分析（新）"')
    result = designer.deploy_edits(
        session,
        {"decide_service_plan.bpmn": renamed, "analyse_root_cause.schema.json": with_optional_field(SCHEMA)},
        actor="modeler",
        catalog=runtime.catalog,
        note="rename analysis",
    )
    session.commit()
    assert {v.process_id for v in result.created} == {"after_sales_case", "decide_service_plan"}
    latest = designer.get_version(session, "decide_service_plan")
    assert (latest.version, latest.deployed_by) == (2, "modeler")

    entries = designer.history(session, "decide_service_plan")
    assert [e.version.version for e in entries] == [2, 1]
    assert entries[0].note == "rename analysis" and entries[1].changes is None
    changes = {(c.kind, c.element_id): c for c in entries[0].changes}
    renamed_task = changes[("changed", "analyse_root_cause")]
    assert renamed_task.element_type == "userTask"
    assert ("name", "原因分析", "原因分析（新）") in renamed_task.details
    field = changes[("added", "supplier_batch")]
    assert field.file == "forms/analyse_root_cause.schema.json" and field.name == "供方批次号"
    assert ("required", "", "no") in field.details


def test_diff_names_lane_condition_form_and_layout_changes():
    old = {"p.bpmn": PLAN_BPMN}
    moved_lane = PLAN_BPMN.replace("<bpmn:flowNodeRef>analyse_root_cause</bpmn:flowNodeRef>", "")
    changes = diff_files(old, {"p.bpmn": moved_lane})
    [lane_change] = [c for c in changes if c.element_id == "analyse_root_cause"]
    assert lane_change.details[0][0] == "lane" and lane_change.details[0][2] == ""
    moved = PLAN_BPMN.replace('<dc:Bounds x="', '<dc:Bounds x="1', 1)
    assert [c.element_type for c in diff_files(old, {"p.bpmn": moved})] == ["layout"]
    assert diff_files(old, old) == []


def test_download_files_and_zip_of_a_version(session):
    version = designer.get_version(session, "decide_service_plan", 1)
    assert designer.main_file(session, version) == "decide_service_plan.bpmn"
    files = designer.version_files(session, version)
    assert "forms/analyse_root_cause.schema.json" in files and "service_billing.dmn" in files
    assert designer.bundle_file(session, version.bundle_id, "decide_service_plan.bpmn") == PLAN_BPMN
    archive = zipfile.ZipFile(io.BytesIO(designer.version_zip(session, version)))
    assert "decide_service_plan.bpmn" in archive.namelist()
    assert "version: 1" in archive.read("VERSION.txt").decode()


@pytest.mark.skipif(not MIWG_FILES, reason="the BPMN MIWG corpus is not in ../shared/corpus")
def test_bpmn_written_by_other_tools_passes_or_is_explained_element_by_element(session, runtime):
    unexplained, passed, not_executable = [], [], []
    for path in MIWG_FILES:  # one database for all 21 files: the lint is pure, the fixture is not
        text = path.read_text(encoding="utf-8")
        problems = designer.validate_edits(session, {path.name: text}, runtime.catalog)
        unexplained += [f"{path.name}: {p}" for p in problems if p.file != path.name or not p.element_id]
        not_executable += [path.name] if any("nothing deployed" in p.message for p in problems) else []
        runnable = text.replace('isExecutable="false"', 'isExecutable="true"')
        passed += [path.name] if not designer.validate_edits(session, {path.name: runnable}, runtime.catalog) else []
    assert not unexplained
    assert {"A.1.0.bpmn", "A.3.0.bpmn"} <= set(not_executable)  # said so, instead of "no problems"
    assert "A.1.0.bpmn" in passed  # a plain task chain runs once marked executable
