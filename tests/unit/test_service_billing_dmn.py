"""The `service_billing` decision table (§3.1, §3.2), row by row, run the way a business rule task runs it.

A tiny process (start → businessRuleTask `propose_billing` → userTask `check` → end) is parsed together with the
real workflows/service_billing.dmn and started on the real sandboxed runtime; the data the user task sees is what
the review would see. Every rule has a case, and the table lints clean inside the real workflows/ bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.bpmn.lint import lint_bundle
from engine.bpmn.specs import parse_bundle
from engine.errors import WorkflowRuntimeError
from engine.platform.definitions import read_directory
from engine.records.user import ROLE_KEYS

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
DMN_FILE = WORKFLOWS / "service_billing.dmn"
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
OPERATORS = {"record_sla_breach", "start_visit_round", "finish_visit_round"}

PROBE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="billing_probe_definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="billing_probe" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="to_propose" sourceRef="start" targetRef="propose_billing" />
    <bpmn:businessRuleTask id="propose_billing" name="Propose billing">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>service_billing</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="to_check" sourceRef="propose_billing" targetRef="check" />
    <bpmn:userTask id="check" name="Check" />
    <bpmn:sequenceFlow id="to_end" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""

EQUIP = ["parts_only", "field_service", "training", "none"]
SPARE = ["parts_only", "none"]
EQUIPMENT = ("complete_equipment", "tool_set")

# (rule id, product_category, coverage, responsibility, proposed_billing, cost_bearer, allowed_plans)
CASES: list[tuple[str, Any, Any, Any, str, str, list[str]]] = [
    ("spare_contract", "spare_part", "contract", None, "contract", "contract", SPARE),
    ("spare_contract", "spare_part", "contract", "customer", "contract", "contract", SPARE),
    ("spare_warranty_company", "spare_part", "in_warranty", "design", "free", "company", SPARE),
    ("spare_warranty_company", "spare_part", "in_warranty", "transport", "free", "company", SPARE),
    ("spare_warranty_supplier", "spare_part", "in_warranty", "supplier", "free", "supplier", SPARE),
    ("spare_warranty_customer", "spare_part", "in_warranty", "customer", "paid", "customer", SPARE),
    ("spare_warranty_no_analysis", "spare_part", "in_warranty", None, "free", "company", SPARE),
    ("spare_expired_defect", "spare_part", "out_of_warranty", "manufacturing", "partly_paid", "shared", SPARE),
    ("spare_other", "spare_part", "out_of_warranty", "supplier", "paid", "customer", SPARE),
    ("spare_other", "spare_part", "unknown", None, "paid", "customer", SPARE),
    *[
        case
        for category in EQUIPMENT
        for case in [
            ("equipment_contract", category, "contract", "design", "contract", "contract", EQUIP),
            ("equipment_warranty_company", category, "in_warranty", "manufacturing", "free", "company", EQUIP),
            ("equipment_warranty_company", category, "in_warranty", "unknown", "free", "company", EQUIP),
            ("equipment_warranty_supplier", category, "in_warranty", "supplier", "free", "supplier", EQUIP),
            ("equipment_warranty_customer", category, "in_warranty", "customer", "paid", "customer", EQUIP),
            ("equipment_warranty_no_analysis", category, "in_warranty", None, "free", "company", EQUIP),
            ("equipment_expired_defect", category, "out_of_warranty", "design", "partly_paid", "shared", EQUIP),
            ("equipment_other", category, "out_of_warranty", "customer", "paid", "customer", EQUIP),
            ("equipment_other", category, "out_of_warranty", None, "paid", "customer", EQUIP),
            ("equipment_other", category, "unknown", None, "paid", "customer", EQUIP),
        ]
    ],
    ("unidentified_contract", None, "contract", None, "contract", "contract", EQUIP),
    ("catch_all", None, "unknown", None, "paid", "customer", EQUIP),
    ("catch_all", "gadget", "in_warranty", "design", "paid", "customer", EQUIP),
    ("catch_all", None, "not_a_coverage", "design", "paid", "customer", EQUIP),
]


@pytest.fixture(scope="module")
def bundle() -> Any:
    return parse_bundle({"billing_probe.bpmn": PROBE, "service_billing.dmn": DMN_FILE.read_bytes()})


def propose(runtime: Any, bundle: Any, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Run the probe to its user task: (the data the task sees, id of the rule that decided)."""
    handle = runtime.start(bundle, "billing_probe", data)
    ready = runtime.snapshot(handle).ready
    assert [t.bpmn_id for t in ready] == ["check"]
    seen = runtime.task_data(handle, ready[0].id)
    rule_task = next(t for t in handle.get_tasks() if t.task_spec.bpmn_id == "propose_billing")
    matched = rule_task.task_spec.dmnEngine.decide(rule_task)  # FIRST: every match, in table order
    return seen, matched[0].id


def case_id(case: tuple[Any, ...]) -> str:
    return "-".join(str(part) for part in case[:4])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rule_decides_billing_bearer_and_plans(runtime, bundle, case):
    rule, category, coverage, responsibility, billing, bearer, plans = case
    data = {"product_category": category, "coverage": coverage, "responsibility": responsibility, "csi_id": 7}
    seen, matched = propose(runtime, bundle, data)
    assert matched == rule
    assert (seen["proposed_billing"], seen["cost_bearer"], seen["allowed_plans"]) == (billing, bearer, plans)
    assert seen["csi_id"] == 7 and seen["coverage"] == coverage  # outputs are merged into the task data


def test_every_rule_has_a_case_and_cites_the_regulation():
    rules = etree.parse(str(DMN_FILE)).getroot().findall(".//dmn:rule", DMN_NS)
    ids = [rule.get("id") for rule in rules]
    assert ids[-1] == "catch_all"
    assert set(ids) == {case[0] for case in CASES}
    for rule in rules:
        assert "§3." in (rule.findtext("dmn:description", "", DMN_NS)), rule.get("id")


def test_spare_parts_never_get_field_service():
    """§3.1: whatever the coverage or responsibility, a spare part's plans exclude field service."""
    for rule, category, *_rest, plans in CASES:
        if category == "spare_part":
            assert "field_service" not in plans, rule
        elif category in EQUIPMENT:
            assert plans == EQUIP, rule


def test_table_uses_dmn_1_3_first_hit_and_its_own_decision_id():
    root = etree.parse(str(DMN_FILE)).getroot()
    assert etree.QName(root).namespace == DMN_NS["dmn"]
    decisions = root.findall("dmn:decision", DMN_NS)
    assert [d.get("id") for d in decisions] == ["service_billing"] == [DMN_FILE.stem]
    assert decisions[0].find("dmn:decisionTable", DMN_NS).get("hitPolicy") == "FIRST"


def test_the_table_lints_clean_in_the_workflows_bundle():
    files = read_directory(WORKFLOWS)
    problems = lint_bundle(files, roles=ROLE_KEYS, operators=OPERATORS)
    assert [str(p) for p in problems if p.file == "service_billing.dmn"] == []


def test_the_table_lints_clean_when_a_business_rule_task_calls_it():
    files = {"billing_probe.bpmn": PROBE, "service_billing.dmn": DMN_FILE.read_bytes()}
    problems = lint_bundle(files, roles=ROLE_KEYS, operators=OPERATORS)
    assert [str(p) for p in problems if p.file == "service_billing.dmn"] == []


def test_a_missing_input_fails_loudly(runtime, bundle):
    """All three inputs must be in the task data (responsibility None for non-quality requests): no silent guess."""
    with pytest.raises(WorkflowRuntimeError, match="responsibility"):
        runtime.start(bundle, "billing_probe", {"product_category": "spare_part", "coverage": "in_warranty"})


def test_an_instance_after_the_decision_round_trips(runtime, bundle):
    data = {"product_category": "tool_set", "coverage": "in_warranty", "responsibility": "supplier"}
    handle = runtime.start(bundle, "billing_probe", data)
    state = runtime.snapshot(handle).state_json
    reloaded = runtime.load(bundle, "billing_probe", state)
    assert runtime.snapshot(reloaded).state_json == state
