"""Importing Camunda 7, Flowable and Activiti models: converted files pass the deploy lint and run to completion on the
real engine; what cannot be converted is reported element by element; unknown groups stop the import with a
question."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from lxml import etree

from engine.bootstrap import build_runtime
from engine.bpmn.importer import ImportResult
from engine.bpmn.importer import RoleMappingError
from engine.bpmn.importer import import_files
from engine.bpmn.importer import import_model
from engine.bpmn.lint import lint_bundle
from engine.bpmn.lint import validate_bundle
from engine.bpmn.runtime import WorkflowRuntime
from engine.bpmn.specs import ParsedBundle
from engine.config import PROJECT_ROOT
from engine.errors import DefinitionError
from engine.platform.forms import TaskForm
from engine.platform.forms import validate_form_data
from engine.records.user import ROLE_KEYS
from tests.conftest import shared_corpus

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "import"
MIWG = shared_corpus("bpmn-miwg")
MIWG_FILES = sorted(MIWG.glob("*.bpmn")) if MIWG.is_dir() else []
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
VENDOR_NAMESPACES = ("camunda.org/schema", "activiti.org/bpmn", "flowable.org/bpmn")

# Each corpus model: its files, the role mapping a designer would give, the start data beyond the start form.
MODELS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "invoice": (
        ("camunda_invoice.bpmn", "camunda_invoice_assign_approver.dmn"),
        {"approverGroups": "service_manager", "Team assistant": "service_supervisor", "accounting": "sales"},
    ),
    "loan_approval": (("camunda_loan_approval.bpmn",), {"demo": "service_manager"}),
    "pizza_vendor": (
        ("camunda_pizza_order.bpmn",),
        {"chef": "service_engineer", "clerk": "service_manager", "delivery": "service_engineer"},
    ),
    "vacation_request": (
        ("camunda_vacation_request.bpmn",),
        {"management": "service_manager", "${employee}": "service_engineer"},
    ),
    "onboarding": (("camunda_onboarding.bpmn",), {"facility": "admin", "team_lead": "service_manager", "it": "admin"}),
    "complaint_timers": (("camunda_complaint_timers.bpmn",), {}),
    "holidayRequest": (
        ("flowable_holiday_request.bpmn20.xml",),
        {"managers": "service_manager", "employee": "service_engineer"},
    ),
    "vacationRequest": (
        ("activiti_vacation_request.bpmn20.xml",),
        {"management": "service_manager", "employeeName": "service_engineer"},
    ),
}


def lint(files: Mapping[str, bytes]) -> list[Any]:
    return lint_bundle(files, catalog=build_runtime().catalog)


def convert(model: str, **changes: str) -> ImportResult:
    names, mapping = MODELS[model]
    files = {name: (CORPUS / name).read_bytes() for name in names}
    return import_files(files, group_roles={**mapping, **changes}, roles=ROLE_KEYS, lint=lint)


def lines(result: ImportResult, severity: str | None = None) -> list[str]:
    return [str(n) for n in result.report if severity is None or n.severity == severity]


def model_tree(result: ImportResult) -> Any:
    [bpmn] = [name for name in result.models if name.endswith(".bpmn")]
    return etree.fromstring(result.files[bpmn])


def vendor_namespaces(data: bytes) -> set[str]:
    """Vendor namespaces declared or used anywhere in a converted file."""
    root = etree.fromstring(data)
    used = {ns for el in root.iter(etree.Element) for ns in el.nsmap.values()}
    used |= {etree.QName(key).namespace or "" for el in root.iter(etree.Element) for key in el.attrib}
    return {ns for ns in used if any(vendor in ns for vendor in VENDOR_NAMESPACES)}


# ---- running a converted model on the engine ----------------------------------------------------------------


def valid_answer(schema: Mapping[str, Any], answer: Mapping[str, Any]) -> dict[str, Any]:
    """Form data derived from the generated schema (defaults, first options, minimums), overridden by `answer`."""
    data: dict[str, Any] = {}
    for key, node in schema.get("properties", {}).items():
        if node.get("readOnly"):
            continue
        if "default" in node:
            data[key] = node["default"]
        elif "enum" in node:
            data[key] = node["enum"][0]
        elif node.get("type") == "boolean":
            data[key] = True
        elif node.get("type") in ("integer", "number"):
            data[key] = node.get("minimum", 1)
        elif node.get("format") == "date":
            data[key] = "2026-03-02"
        else:
            data[key] = "x" * max(1, node.get("minLength", 1))
    data.update(answer)
    return validate_form_data(TaskForm(dict(schema), {}), data)  # what the task page's submit checks


def start_form(bundle: ParsedBundle, process_id: str) -> dict[str, Any]:
    tree = bundle.trees[bundle.process_file(process_id)]
    found = tree.getroot().xpath(
        "//bpmn:process[@id=$p]/bpmn:startEvent//spiffworkflow:property[@name='formJsonSchemaFilename']/@value",
        p=process_id,
        namespaces=NS,
    )
    return bundle.form(found[0]) if found else {"properties": {}}


class Run:
    """Drives one instance: answers each ready task (in order per task id), delivers messages, lets time pass."""

    def __init__(self, runtime: WorkflowRuntime, result: ImportResult, process_id: str) -> None:
        self.runtime = runtime
        self.bundle = validate_bundle(result.files, catalog=build_runtime().catalog)
        self.process_id = process_id
        self.done: list[str] = []
        self.seen: dict[str, dict[str, Any]] = {}
        self.lanes: dict[str, str] = {}

    def start(self, answer: Mapping[str, Any] | None = None, **extra: Any) -> Any:
        data = {**valid_answer(start_form(self.bundle, self.process_id), answer or {}), **extra}
        return self.runtime.start(self.bundle, self.process_id, data)

    def to_end(
        self,
        handle: Any,
        answers: Mapping[str, list[dict[str, Any]]],
        messages: tuple[str, ...] = (),
        idle: tuple[str, ...] = (),
    ) -> None:
        """Run to the end; tasks named in `idle` are left for the timers."""
        pending = {k: list(v) for k, v in answers.items()}
        waits = list(messages)
        for _ in range(40):
            snapshot = self.runtime.snapshot(handle)
            ready = [t for t in snapshot.ready if t.bpmn_id not in idle]
            if snapshot.completed:
                return
            if ready:
                self.complete(handle, ready[0], pending)
            elif waits:
                assert self.runtime.deliver_message(handle, waits.pop(0), {}), "no event waits for the message"
            elif snapshot.next_timer_due is not None:
                with time_machine.travel(snapshot.next_timer_due + timedelta(seconds=1), tick=False):
                    self.runtime.fire_due_timers(handle)
            else:
                pytest.fail(f"stuck at {snapshot.active_elements} after {self.done}")
        pytest.fail(f"did not finish: {self.done}")

    def complete(self, handle: Any, task: Any, pending: dict[str, list[dict[str, Any]]]) -> None:
        answer = pending[task.bpmn_id].pop(0) if pending.get(task.bpmn_id) else {}
        schema = self.bundle.form(task.form_file) if task.form_file else {"properties": {}}
        self.seen[task.bpmn_id] = self.runtime.task_data(handle, task.id)
        self.lanes[task.bpmn_id] = task.lane
        self.runtime.complete(handle, task.id, valid_answer(schema, answer))
        self.done.append(task.bpmn_id)


def test_camunda_invoice_runs_with_its_decision_table_and_the_review_loop(runtime):
    run = Run(runtime, convert("invoice"), "invoice")
    handle = run.start({"amount": 600, "invoiceCategory": "Software License Costs"})
    run.to_end(handle, {"approve_invoice": [{"approved": False}, {"approved": True}], "review_invoice": [{}]})
    assert run.done == ["approve_invoice", "review_invoice", "approve_invoice", "prepare_bank_transfer"]
    assert run.seen["approve_invoice"]["approverGroup"] == "management"  # FEEL [250..1000] became 250 <= ? <= 1000
    assert run.lanes == {
        "approve_invoice": "service_manager",
        "review_invoice": "service_supervisor",
        "prepare_bank_transfer": "sales",
    }


def test_camunda_loan_approval_runs_through_its_external_task_as_a_no_op(runtime):
    run = Run(runtime, convert("loan_approval"), "loan_approval")
    handle = run.start({"netIncome": 5000, "loanAmount": 20000})
    run.to_end(handle, {"approve_request": [{"approved": True}]})
    assert run.done == ["approve_request"]
    rejected = run.start({"netIncome": 1000, "loanAmount": 20000})  # 20000 > 5 * 1000: the default flow
    run.to_end(rejected, {"approve_request": [{"approved": True}]})
    assert run.done == ["approve_request", "approve_request"]


def test_camunda_pizza_vendor_waits_for_the_payment_message(runtime):
    run = Run(runtime, convert("pizza_vendor"), "pizza_vendor")
    handle = run.start({"pizza": "funghi", "address": "上海市闵行区"})
    run.to_end(handle, {}, messages=("payment",))
    assert run.done == ["bake_pizza", "deliver_pizza"]


def test_camunda_pizza_timer_calms_the_customer_while_the_pizza_bakes(runtime):
    run = Run(runtime, convert("pizza_vendor"), "pizza_vendor")
    handle = run.start()
    due = runtime.snapshot(handle).next_timer_due
    assert due is not None and timedelta(minutes=44) < due - datetime.now(UTC) <= timedelta(minutes=45)
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        runtime.fire_due_timers(handle)
    assert sorted(t.bpmn_id for t in runtime.snapshot(handle).ready) == ["bake_pizza", "calm_customer"]
    run.to_end(handle, {"calm_customer": [{"apology": "十分钟内送到"}]}, messages=("payment",))
    assert sorted(run.done) == ["bake_pizza", "calm_customer", "deliver_pizza"]


def test_camunda_vacation_request_loops_back_on_not_approved(runtime):
    run = Run(runtime, convert("vacation_request"), "vacation_request")
    handle = run.start({"days": 5})
    run.to_end(
        handle,
        {
            "approve_vacation": [{"approved": False}, {"approved": True}],
            "adjust_request": [{"resend": "yes", "days": 3}],
        },
    )
    assert run.done == ["approve_vacation", "adjust_request", "approve_vacation", "confirm_vacation", "file_paperwork"]
    assert run.lanes["file_paperwork"] == "hr" and run.lanes["adjust_request"] == "service_engineer"


def test_camunda_onboarding_calls_the_account_setup_process(runtime):
    run = Run(runtime, convert("onboarding"), "onboarding")
    run.to_end(run.start(), {})
    assert sorted(run.done) == sorted(
        ["prepare_workplace", "hand_over_credentials", "plan_training", "welcome_new_hire"]
    )
    assert run.lanes["hand_over_credentials"] == "admin"


def test_camunda_timers_from_variables_and_boundary_escalation_run(runtime):
    run = Run(runtime, convert("complaint_timers"), "complaint_timers")
    run.to_end(run.start(feedbackDelay="PT2H"), {"answer_complaint": [{"notifyQuality": True, "notifySales": False}]})
    assert run.done == ["answer_complaint", "inform_quality"]
    late = run.start(feedbackDelay="PT1H")
    run.to_end(late, {}, idle=("answer_complaint",))  # the reminders fire, then the three-day timer escalates
    assert run.done[2:] == ["escalate_complaint"]


def test_flowable_holiday_request_runs(runtime):
    run = Run(runtime, convert("holidayRequest"), "holidayRequest")
    run.to_end(run.start({"employee": "li.lei", "nrOfHolidays": 3}), {"approveTask": [{"approved": True}]})
    assert run.done == ["approveTask", "holidayApprovedTask"]
    assert run.lanes == {"approveTask": "service_manager", "holidayApprovedTask": "service_engineer"}


def test_activiti_vacation_request_runs_with_string_valued_decisions(runtime):
    run = Run(runtime, convert("vacationRequest"), "vacationRequest")
    answers = {
        "handleRequest": [{"vacationApproved": "false"}, {"vacationApproved": "true"}],
        "adjustVacationRequestTask": [{"resendRequest": "true", "numberOfDays": 2}],
    }
    run.to_end(run.start({"numberOfDays": 4}), answers)
    assert run.done == ["handleRequest", "adjustVacationRequestTask", "handleRequest"]


# ---- what the conversion produces ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(MODELS))
def test_vendor_namespaces_are_gone_and_the_deploy_lint_passes(model):
    result = convert(model)
    assert result.ok, lines(result, "error")
    assert lint(result.files) == []
    for name, data in result.files.items():
        assert name.endswith(".json") or not vendor_namespaces(data), name
    code = model_tree(result).xpath(
        "//bpmn:conditionExpression | //bpmn:timeDuration | //bpmn:timeCycle", namespaces=NS
    )
    assert not [el.text for el in code if "${" in (el.text or "")]


def test_unknown_group_asks_for_a_role_and_produces_nothing():
    names, mapping = MODELS["invoice"]
    files = {n: (CORPUS / n).read_bytes() for n in names}
    with pytest.raises(RoleMappingError) as caught:
        import_files(files, group_roles={"approverGroups": "service_manager"}, roles=ROLE_KEYS)
    asked = {(q.kind, q.key): q.element_ids for q in caught.value.questions}
    assert asked == {
        ("lane", "Team assistant"): ("review_invoice",),
        ("group", "accounting"): ("prepare_bank_transfer",),
    }
    assert "accounting" in str(caught.value) and "prepare_bank_transfer" in str(caught.value)


def test_a_mapping_to_something_that_is_not_a_role_is_asked_again():
    with pytest.raises(RoleMappingError) as caught:
        convert("loan_approval", demo="accountant")
    [question] = caught.value.questions
    assert (question.key, question.kind, question.element_ids) == ("demo", "user", ("approve_request",))
    assert "'accountant' is not a role" in str(question)


def test_a_mapped_group_becomes_the_lane_of_its_task():
    result = convert("holidayRequest")
    tree = model_tree(result)
    lane_of = {
        ref.text: ref.getparent().get("name") for ref in tree.iterfind(".//bpmn:lane/bpmn:flowNodeRef", namespaces=NS)
    }
    assert lane_of["approveTask"] == "service_manager" and lane_of["holidayApprovedTask"] == "service_engineer"
    assert "holidayRequest.bpmn20.xml" not in result.files and "holidayRequest.bpmn" in result.files
    assert any("group 'managers' is the role 'service_manager'" in line for line in lines(result, "info"))


def test_existing_lanes_are_renamed_to_the_role_of_their_tasks():
    tree = model_tree(convert("invoice"))
    names = {lane.get("id"): lane.get("name") for lane in tree.iterfind(".//bpmn:lane", namespaces=NS)}
    assert names == {
        "lane_assistant": "service_supervisor",
        "lane_approver": "service_manager",
        "lane_accountant": "sales",
    }


def test_new_lanes_get_shapes_inside_a_new_pool_around_their_tasks():
    tree = model_tree(convert("vacation_request"))
    [participant] = tree.iterfind(".//bpmn:participant", namespaces=NS)
    plane = tree.find(".//bpmndi:BPMNPlane", namespaces=NS)
    assert plane.get("bpmnElement") == participant.getparent().get("id")

    def box(element_id: str) -> tuple[float, float, float, float]:
        bounds = plane.find(f"bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds", namespaces=NS)
        return tuple(float(bounds.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]

    pool = box(participant.get("id"))
    for lane in tree.iterfind(".//bpmn:lane", namespaces=NS):
        x, y, w, h = box(lane.get("id"))
        assert pool[1] <= y and y + h <= pool[1] + pool[3]
        for ref in lane.iterfind("bpmn:flowNodeRef", namespaces=NS):
            nx, ny, nw, nh = box(ref.text)
            assert x <= nx and nx + nw <= x + w and y <= ny and ny + nh <= y + h, (lane.get("name"), ref.text)


def test_lanes_of_a_pool_that_grows_push_the_pool_below_down():
    tree = model_tree(convert("onboarding"))
    plane = tree.find(".//bpmndi:BPMNPlane", namespaces=NS)
    top = plane.find("bpmndi:BPMNShape[@bpmnElement='onboarding_pool']/dc:Bounds", namespaces=NS)
    below = plane.find("bpmndi:BPMNShape[@bpmnElement='accounts_pool']/dc:Bounds", namespaces=NS)
    assert float(top.get("y")) + float(top.get("height")) <= float(below.get("y"))
    assert len(tree.findall(".//bpmn:laneSet", namespaces=NS)) == 2


def test_timers_get_quoted_and_their_expressions_translated():
    result = convert("complaint_timers")
    tree = model_tree(result)
    timers = {
        el.getparent().getparent().get("id"): el.text
        for el in tree.xpath("//bpmn:timeDuration | //bpmn:timeCycle | //bpmn:timeDate", namespaces=NS)
    }
    assert timers == {
        "three_days": '"P3D"',
        "remind_twice": '"R2/PT12H"',
        "sales_deadline": '"2030-01-31T09:00:00+00:00"',
        "wait_for_feedback": "feedbackDelay",
    }
    assert any("[sales_deadline] warning: timer date" in line and "UTC was assumed" in line for line in lines(result))
    assert "[wait_for_feedback] warning: timer duration reads feedbackDelay, which no form" in "".join(lines(result))
    pizza = model_tree(convert("pizza_vendor"))
    assert pizza.findtext(".//bpmn:boundaryEvent[@id='pizza_late']//bpmn:timeDuration", namespaces=NS) == '"PT45M"'


def test_java_delegates_become_no_op_tasks_with_a_report_line():
    result = convert("invoice")
    archive = model_tree(result).find(".//*[@id='archive_invoice']")
    assert etree.QName(archive).localname == "scriptTask"  # a plain bpmn:task would wait for a person
    assert archive.findtext("bpmn:script", namespaces=NS).startswith("pass")
    assert "ArchiveInvoiceService" in archive.findtext("bpmn:documentation", namespaces=NS)
    assert (
        "camunda_invoice.bpmn:103 [archive_invoice] warning: service task: Java delegate "
        "org.example.invoice.ArchiveInvoiceService replaced by a no-op task: bind a registered operator"
    ) in lines(result)
    loan = lines(convert("loan_approval"), "warning")
    assert any("[grant_loan]" in line and "external task topic 'loan-granting'" in line for line in loan)
    assert any("[notify_rejection]" in line and "groovy script replaced by a no-op task" in line for line in loan)


def test_camunda_form_fields_become_a_json_schema_and_ui_hints():
    result = convert("loan_approval")
    schema = json.loads(result.files["forms/loan_requested.schema.json"])
    assert schema["required"] == ["firstname", "lastname", "netIncome", "loanAmount", "loanType"]
    assert schema["properties"]["lastname"] == {
        "title": "Last name",
        "type": "string",
        "minLength": 2,
        "maxLength": 25,
    }
    assert schema["properties"]["loanAmount"] == {
        "title": "Loan amount",
        "type": "integer",
        "minimum": 1000,
        "maximum": 500000,
    }
    assert schema["properties"]["loanType"]["x-enumNames"] == ["Mortgage (5%)", "Cash advance (10%)"]
    assert schema["properties"]["applicationDate"] == {
        "title": "Application date",
        "type": "string",
        "format": "date",
        "default": "2026-03-01",
    }
    ui = json.loads(result.files["forms/approve_request.ui.json"])
    assert ui["ui:order"][-3:] == ["approved", "riskClass", "decisionNote"]
    assert ui["riskClass"] == {"ui:widget": "radio"} and ui["firstname"] == {"ui:readonly": True}
    approve = json.loads(result.files["forms/approve_request.schema.json"])
    assert approve["properties"]["firstname"]["readOnly"] is True and "required" not in approve
    assert any("validation 'validator'" in line for line in lines(result, "warning"))


def test_flowable_form_properties_become_a_json_schema():
    schema = json.loads(convert("vacationRequest").files["forms/handleRequest.schema.json"])
    assert schema["required"] == ["vacationApproved"]
    assert schema["properties"]["vacationApproved"]["enum"] == ["true", "false"]
    assert schema["properties"]["vacationApproved"]["x-enumNames"] == ["Approve", "Reject"]
    start = json.loads(convert("vacationRequest").files["forms/request.schema.json"])
    assert start["properties"]["numberOfDays"]["default"] == 1
    assert start["properties"]["startDate"]["format"] == "date"


def test_a_form_key_alone_gets_a_comment_form_and_a_report_line():
    result = convert("invoice")
    schema = json.loads(result.files["forms/prepare_bank_transfer.schema.json"])
    assert list(schema["properties"]) == ["comment"] and "required" not in schema
    assert any(
        "[prepare_bank_transfer] warning: form 'embedded:app:forms/prepare-bank-transfer.html' lives outside" in line
        for line in lines(result)
    )


def test_generated_forms_never_replace_forms_other_processes_use():
    data = (CORPUS / "camunda_loan_approval.bpmn").read_bytes()
    deployed = {"approve_request.schema.json": {"after_sales_case"}, "loan_requested.schema.json": {"loan_approval"}}
    result = import_model(
        data, "loan.bpmn", group_roles={"demo": "service_manager"}, roles=ROLE_KEYS, deployed_forms=deployed
    )
    assert "forms/loan_approval_approve_request.schema.json" in result.files  # another process's form stays
    assert "forms/loan_requested.schema.json" in result.files  # a re-import replaces its own form


def test_dropped_engine_settings_are_reported_once_per_kind_and_element():
    result = convert("complaint_timers")
    answer = [line for line in lines(result) if "[answer_complaint]" in line and "dropped" in line]
    assert sorted(line.split(": ", 1)[1].split(" dropped")[0] for line in answer) == [
        "camunda:asyncAfter",
        "camunda:inputOutput",
        "camunda:jobPriority",
    ]


def test_a_process_that_is_not_executable_is_made_executable_and_reported():
    data = (CORPUS / "camunda_loan_approval.bpmn").read_bytes().replace(b'isExecutable="true"', b'isExecutable="false"')
    result = import_model(data, "loan.bpmn", group_roles={"demo": "service_manager"}, roles=ROLE_KEYS, lint=lint)
    assert result.ok and model_tree(result).find("bpmn:process", namespaces=NS).get("isExecutable") == "true"
    assert any("was not executable" in line for line in lines(result, "warning"))


def test_untranslatable_expressions_are_reported_on_their_element_and_left_for_the_designer():
    data = (
        (CORPUS / "camunda_loan_approval.bpmn")
        .read_bytes()
        .replace(b"${approved &amp;&amp; loanAmount le netIncome * 5}", b"${loanService.isAffordable(execution)}")
    )
    result = import_model(data, "loan.bpmn", group_roles={"demo": "service_manager"}, roles=ROLE_KEYS, lint=lint)
    assert not result.ok
    [error] = [n for n in result.report if n.severity == "error"]
    assert (error.element_id, error.line) == ("flow_granted", 99)
    assert "calls loanService.isAffordable(...)" in error.message


def test_feel_decision_cells_become_python():
    dmn = convert("invoice").files["invoice_assign_approver.dmn"].decode()
    for cell in ("? &lt;= 250", "250 &lt;= ? &lt;= 1000", '? in ("Software License Costs", "Misc")', "not (? =="):
        assert cell in dmn
    assert "xmlns:camunda" not in dmn and "inputVariable" not in dmn


def test_a_model_already_in_this_dialect_passes_through():
    workflows = PROJECT_ROOT / "workflows"
    files = {n: (workflows / n).read_bytes() for n in ("decide_service_plan.bpmn", "service_billing.dmn")}
    result = import_files(files, group_roles={}, roles=ROLE_KEYS)
    assert not lines(result, "warning") and not lines(result, "error")
    assert set(result.files) == {"decide_service_plan.bpmn", "service_billing.dmn"}  # its forms are already deployed


def test_a_file_that_is_not_bpmn_is_refused_with_its_line():
    with pytest.raises(DefinitionError, match="neither BPMN 2.0 nor DMN"):
        import_model(b"<?xml version='1.0'?>\n<html/>", "page.bpmn", group_roles={}, roles=ROLE_KEYS)


@pytest.mark.skipif(not MIWG_FILES, reason="the BPMN MIWG corpus is not in ../shared/corpus")
def test_every_miwg_model_converts_or_is_explained_element_by_element():
    converted, unexplained = [], []
    for path in MIWG_FILES:
        files = {path.name: path.read_bytes()}
        try:
            result = import_files(files, group_roles={"*": "service_manager"}, roles=ROLE_KEYS, lint=lint)
        except RoleMappingError as err:  # answer every question the way a designer would, then convert
            assert all(q.element_ids for q in err.questions), path.name
            answers = {"*": "service_manager", **{q.key: "service_manager" for q in err.questions}}
            result = import_files(files, group_roles=answers, roles=ROLE_KEYS, lint=lint)
        unexplained += [f"{path.name}: {n}" for n in result.report if n.severity == "error" and not n.element_id]
        converted += [path.name] if result.ok else []
    assert not unexplained
    assert {"A.1.0.bpmn", "C.9.1.bpmn"} <= set(converted)
