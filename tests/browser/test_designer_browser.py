"""A process designer in real Chromium: rename a task and add a form field, validate, deploy; the next case runs on
the new version while older cases keep theirs. Also: a lint error pinned on the canvas, an imported BPMN file from
another tool, the DMN editor, and the history and migration pages."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.platform.tasks import form_of
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.process import TaskStatus
from tests.conftest import shared_corpus
from tests.helpers import do
from tests.helpers import register

SHOTS = os.environ.get("AFTERSALES_SCREENSHOTS")
MIWG = shared_corpus("bpmn-miwg") / "C.9.2.bpmn"


def shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png")


def open_modeler(page, process_id):
    page.goto(f"/designer/process/{process_id}")
    page.wait_for_selector('#designer[data-ready="1"]')


def select_element(page, element_id):
    page.click(f'.djs-element[data-element-id="{element_id}"] .djs-hit', force=True)
    page.wait_for_selector(".bio-properties-panel-header")


def versions(session, process_id):
    query = sa.select(ProcessVersion.version).where(ProcessVersion.process_id == process_id)
    return sorted(session.scalars(query))


def open_task_name(session, instance):
    query = sa.select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.OPEN.value)
    return session.scalars(query).one()


def test_designer_renames_a_task_adds_a_form_field_and_the_next_case_uses_the_new_version(
    page, sign_in, session, runtime, calendar, user_named
):
    manager = user_named("manager")
    _, old_case = register(session, runtime, manager, calendar)  # waits at analyse_root_cause on v1
    movable_csi, movable = register(session, runtime, manager, calendar)
    do(session, runtime, movable_csi.id, "analyse_root_cause", manager, calendar)  # waits at review_csi
    old_id, movable_id = old_case.id, movable.id
    session.commit()  # SQLite has one writer: the test holds no transaction while the browser works
    sign_in("modeler")

    started = time.perf_counter()
    open_modeler(page, "decide_service_plan")
    opened = time.perf_counter()
    select_element(page, "analyse_root_cause")
    page.fill("#bio-properties-panel-name", "原因分析（新）")
    page.wait_for_function(
        "() => window.aftersalesDesigner.modeler.get('elementRegistry').get('analyse_root_cause')"
        ".businessObject.name === '原因分析（新）'"
    )
    shot(page, "designer-modeler-properties")
    page.click(".as-buttons button:has-text('编辑表单')")
    page.wait_for_selector('#designer[data-form-open="analyse_root_cause.schema.json"]')
    schema = json.loads(page.input_value("[data-form-schema]"))
    schema["properties"]["supplier_batch"] = {"type": "string", "maxLength": 64, "title": "供方批次号"}
    page.locator("[data-form-json]").evaluate("details => { details.open = true; }")  # the JSON under the visual editor
    page.fill("[data-form-schema]", json.dumps(schema, ensure_ascii=False, indent=2))
    page.wait_for_function(
        "() => (document.getElementById('designer').dataset.previewFields || '').includes('supplier_batch')"
    )
    assert page.locator("[data-form-preview] label:has-text('供方批次号')").is_visible()
    shot(page, "designer-form-editor")
    edited = time.perf_counter()
    page.click("[data-action=validate]")
    page.wait_for_selector('#designer[data-validated="ok"]')
    validated = time.perf_counter()
    page.click("[data-action=deploy]")
    page.fill("[data-deploy-note]", "原因分析改名，新增供方批次号")
    confirm = time.perf_counter()
    page.click("[data-deploy-confirm]")
    page.wait_for_function(
        "() => (document.getElementById('designer').dataset.deployed || '').includes('after_sales_case')"
    )
    deployed = time.perf_counter()
    machine = (opened - started) + (validated - edited) + (deployed - confirm)  # what the designer waits for
    print(
        f"\ndesigner round trip: open {opened - started:.2f}s, validate {validated - edited:.2f}s, "
        f"deploy {deployed - confirm:.2f}s = {machine:.2f}s waiting (target < 2 s); "
        f"wall clock with the scripted editing {deployed - started:.2f}s"
    )
    assert machine < 4  # target 2 s; the margin keeps a loaded CI machine from failing the build
    assert "v2" in page.inner_text("[data-version-badge]")

    session.expire_all()
    assert versions(session, "decide_service_plan") == [1, 2] and versions(session, "after_sales_case") == [1, 2]
    v2 = session.scalars(
        sa.select(ProcessVersion).where(ProcessVersion.process_id == "after_sales_case", ProcessVersion.version == 2)
    ).one()
    assert v2.deployed_by == "modeler"
    _, new_case = register(session, runtime, manager, calendar)
    assert new_case.process_version_id == v2.id
    new_task = open_task_name(session, new_case)
    assert new_task.name == "原因分析（新）"
    assert "supplier_batch" in form_of(session, new_task).schema["properties"]
    old = session.get(ProcessInstance, old_id)
    assert old.process_version_id != v2.id
    old_task = open_task_name(session, old)
    assert old_task.name == "原因分析" and "supplier_batch" not in form_of(session, old_task).schema["properties"]
    v2_id = v2.id
    session.commit()

    page.goto("/designer/process/decide_service_plan/history")
    assert page.locator("text=原因分析（新）").first.is_visible()
    assert page.locator("text=供方批次号").first.is_visible()
    shot(page, "designer-history")
    page.goto("/designer/process/after_sales_case/migration")
    assert page.locator(f'input[name=instance][value="{movable_id}"]').is_checked()
    assert page.locator(f'input[name=instance][value="{old_id}"]').count() == 0
    shot(page, "designer-migration-preview")
    page.click("button[type=submit]:has-text('v2')")
    page.wait_for_selector("[data-report]")
    shot(page, "designer-migration-report")
    session.expire_all()
    assert session.get(ProcessInstance, movable_id).process_version_id == v2_id
    assert session.get(ProcessInstance, old_id).process_version_id != v2_id


def test_a_lint_error_is_pinned_on_its_element(page, sign_in):
    sign_in("modeler")
    page.goto("/designer/")
    assert page.locator("a:has-text('售后服务案件')").first.is_visible()
    shot(page, "designer-index")
    open_modeler(page, "decide_service_plan")
    select_element(page, "analyse_root_cause")
    page.select_option("#bio-properties-panel-as-form-schema", "")
    page.click("[data-action=validate]")
    page.wait_for_selector('#designer[data-validated="problems"]')
    overlay = page.locator('.problem-overlay[data-problem-for="analyse_root_cause"]')
    assert overlay.is_visible() and "form" in overlay.inner_text()
    assert page.locator('.djs-element.has-problem[data-element-id="analyse_root_cause"]').count() == 1
    assert page.locator("[data-problems-list] li").count() >= 1
    page.click("body")
    shot(page, "designer-validation-error")


@pytest.mark.skipif(not MIWG.exists(), reason="the BPMN MIWG corpus is not in ../shared/corpus")
def test_bpmn_from_another_tool_opens_and_validation_lists_what_the_engine_cannot_run(page, sign_in):
    sign_in("modeler")
    page.goto("/designer/new")
    page.wait_for_selector('#designer[data-ready="1"]')
    page.set_input_files("[data-open-file]", str(MIWG))
    page.wait_for_selector('#designer[data-ready="1"]')
    assert page.locator(".djs-element[data-element-id='UserTask_DecideOnApplication']").count() == 1
    assert page.input_value("[data-file-name]") == "C.9.2.bpmn"
    page.click("[data-action=validate]")
    page.wait_for_selector('#designer[data-validated="problems"]')
    items = page.locator("[data-problems-list] li")
    assert items.count() >= 5
    assert page.locator(".problem-overlay").count() >= 3
    shot(page, "designer-imported-miwg")


def test_the_dmn_editor_opens_the_decision_table_and_validates(page, sign_in):
    sign_in("modeler")
    page.goto("/designer/decisions/service_billing.dmn")
    page.wait_for_selector('#designer[data-ready="1"]')
    page.wait_for_selector(".tjs-table")
    assert page.locator(".tjs-table tbody tr").count() >= 3
    page.click("[data-action=validate]")
    page.wait_for_selector('#designer[data-validated="ok"]')
    shot(page, "designer-dmn")


def test_operators_are_bound_in_the_panel_and_badged_on_the_canvas(page, sign_in):
    sign_in("modeler")
    open_modeler(page, "after_sales_case")
    badge = page.locator('.as-operator-badge[data-operator-for="answer_customer"]')
    assert badge.inner_text() == "⚙ record_customer_answer" and "§4.6" in badge.get_attribute("data-tip")
    assert page.locator('.as-operator-badge[data-operator-for="flag_sla_breach"]').count() == 1
    assert page.locator(".as-operator-badge").count() == 12

    select_element(page, "answer_customer")
    assert page.input_value("#bio-properties-panel-as-operator") == "record_customer_answer"
    note = page.locator('[data-operator-note="record_customer_answer"]')
    assert "§4.6" in note.inner_text() and "answer_channel" in note.inner_text()  # the form fields it reads
    assert page.input_value("#bio-properties-panel-as-param-csi_id") == "csi_id"
    assert page.locator("label[for='bio-properties-panel-as-param-csi_id']").inner_text().startswith("csi_id *")
    assert page.input_value("#bio-properties-panel-as-prop-caseStatus") == page.evaluate(
        "() => window.aftersalesDesigner.modeler.get('elementRegistry').get('answer_customer').businessObject"
        ".extensionElements.values[0].values.find((p) => p.name === 'caseStatus').value"
    )
    assert page.locator("#bio-properties-panel-as-assignee").count() == 1
    if SHOTS:  # the operator's group at the top of the panel, the canvas at 100 % around the task, a tooltip open
        page.evaluate(
            """() => {
              const modeler = window.aftersalesDesigner.modeler, canvas = modeler.get('canvas');
              const task = modeler.get('elementRegistry').get('answer_customer'), box = canvas.viewbox();
              canvas.viewbox({ x: task.x - 250, y: task.y - 170, width: box.outer.width, height: box.outer.height });
            }"""
        )
        page.evaluate("() => document.querySelector('[data-group-id=\"group-as-records\"]').scrollIntoView()")
        page.hover('.as-operator-badge[data-operator-for="issue_work_order"]')  # its tooltip: § and what it writes
        shot(page, "designer-operators")
        page.evaluate("() => window.aftersalesDesigner.modeler.get('canvas').zoom('fit-viewport')")

    # pick another operator: its declared parameters are prefilled, the badge follows at once; none removes both
    page.select_option("#bio-properties-panel-as-operator", "record_sla_exception")
    page.wait_for_selector('.as-operator-badge[data-operator-for="answer_customer"]:has-text("record_sla_exception")')
    assert page.input_value("#bio-properties-panel-as-param-csi_id") == "csi_id"
    page.fill("#bio-properties-panel-as-param-csi_id", "int(case_ref)")  # a parameter is an expression on the data
    page.wait_for_function(
        "() => window.aftersalesDesigner.modeler.get('elementRegistry').get('answer_customer').businessObject"
        ".extensionElements.values.find((e) => e.$type === 'spiffworkflow:ServiceTaskOperator')"
        ".parameterList.parameters[0].value === 'int(case_ref)'"
    )
    page.select_option("#bio-properties-panel-as-operator", "")
    page.wait_for_selector('.as-operator-badge[data-operator-for="answer_customer"]', state="detached")
    assert page.locator("#bio-properties-panel-as-param-csi_id").count() == 0
    page.evaluate("() => window.aftersalesDesigner.modeler.get('commandStack').undo()")  # back, with its badge
    page.wait_for_selector('.as-operator-badge[data-operator-for="answer_customer"]:has-text("record_sla_exception")')

    # a service task is not offered the operators that read a submitted form
    select_element(page, "flag_sla_breach")
    offered = page.eval_on_selector_all("#bio-properties-panel-as-operator option", "os => os.map(o => o.value)")
    assert "record_sla_breach" in offered and "record_plan_decision" not in offered
    assert page.locator("#bio-properties-panel-as-assignee").count() == 0


LANE_FREE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="lane_free_notice" name="无泳道通知" isExecutable="true">
    <bpmn:startEvent id="notice_start" name="开始" />
    <bpmn:endEvent id="notice_end" name="结束" />
    <bpmn:sequenceFlow id="f1" sourceRef="notice_start" targetRef="notice_end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="lane_free_notice">
    <bpmndi:BPMNShape id="s_di" bpmnElement="notice_start"><dc:Bounds x="180" y="100" width="36" height="36" />
    </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="e_di" bpmnElement="notice_end"><dc:Bounds x="300" y="100" width="36" height="36" />
    </bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="216" y="118" /><di:waypoint x="300" y="118" />
    </bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def test_the_deploy_notes_are_listed_and_a_retired_process_is_marked_on_the_index(page, sign_in, session):
    sign_in("modeler")
    page.goto("/designer/new")
    page.wait_for_selector('#designer[data-ready="1"]')
    upload = {"name": "lane_free_notice.bpmn", "mimeType": "application/xml", "buffer": LANE_FREE.encode()}
    page.set_input_files("[data-open-file]", files=[upload])
    page.wait_for_selector('#designer[data-ready="1"]')
    page.click("[data-action=deploy]")
    page.click("[data-deploy-confirm]")
    page.wait_for_function(
        "() => (document.getElementById('designer').dataset.deployed || '').includes('lane_free_notice')"
    )
    notes = page.locator("section[data-deploy-notes]")
    assert notes.is_visible() and "only process designers and admins may start it" in notes.inner_text()

    page.goto("/designer/process/lane_free_notice/history")
    assert page.locator("[data-version-files='1'] [data-file]").all_inner_texts() == ["lane_free_notice.bpmn"]
    page.click(".retire-box summary")
    page.click("[data-retire-confirm]")  # the reason is required: the browser keeps the form
    assert page.url.endswith("/history")
    page.fill("#retire-reason", "仅用于演示，停用")
    page.click("[data-retire-confirm]")
    page.wait_for_url("**/designer/")
    assert "已停用" in page.inner_text(".flash-success")
    row = page.locator('tr[data-retired="lane_free_notice"]')
    assert "已停用" in row.inner_text() and "仅用于演示，停用" in row.inner_text()
    shot(page, "designer-index-retired")
    page.goto("/designer/process/lane_free_notice/history")
    assert "仅用于演示，停用" in page.inner_text("[data-retired]")
