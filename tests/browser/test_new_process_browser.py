"""A process designer draws a NEW three-lane process in real Chromium and it runs (issue 7, "the model is the truth"):
the modeler opens a bare BPMN (three lanes without roles, a start event, three user tasks without forms), gives
each lane its role, creates the start form and the task forms in the form editor, sets the business key and an
assignee, validates and deploys; the start lane's role starts it from "发起流程", each lane's role completes its task
through the task pages, and the director sees the instance completed in monitoring."""

from __future__ import annotations

import json
import os
from pathlib import Path

import sqlalchemy as sa

from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion

SHOTS = os.environ.get("AFTERSALES_SCREENSHOTS")
PROCESS = "part_return_check"

# What a designer might sketch before binding anything: lanes without roles, tasks without forms.
BARE_BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="collaboration">
    <bpmn:participant id="pool" name="退件检验" processRef="{PROCESS}" />
  </bpmn:collaboration>
  <bpmn:process id="{PROCESS}" name="退件检验" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_receive"><bpmn:flowNodeRef>return_received</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>confirm_return</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_inspect"><bpmn:flowNodeRef>inspect_return</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_refund"><bpmn:flowNodeRef>refund_customer</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>return_done</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="return_received" name="收到退件" />
    <bpmn:userTask id="confirm_return" name="确认退件" />
    <bpmn:userTask id="inspect_return" name="检验退件" />
    <bpmn:userTask id="refund_customer" name="办理退款" />
    <bpmn:endEvent id="return_done" name="退件完成" />
    <bpmn:sequenceFlow id="f1" sourceRef="return_received" targetRef="confirm_return" />
    <bpmn:sequenceFlow id="f2" sourceRef="confirm_return" targetRef="inspect_return" />
    <bpmn:sequenceFlow id="f3" sourceRef="inspect_return" targetRef="refund_customer" />
    <bpmn:sequenceFlow id="f4" sourceRef="refund_customer" targetRef="return_done" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="collaboration">
      <bpmndi:BPMNShape id="pool_di" bpmnElement="pool" isHorizontal="true">
        <dc:Bounds x="120" y="60" width="700" height="390" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_receive_di" bpmnElement="lane_receive" isHorizontal="true">
        <dc:Bounds x="150" y="60" width="670" height="130" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_inspect_di" bpmnElement="lane_inspect" isHorizontal="true">
        <dc:Bounds x="150" y="190" width="670" height="130" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_refund_di" bpmnElement="lane_refund" isHorizontal="true">
        <dc:Bounds x="150" y="320" width="670" height="130" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="return_received_di" bpmnElement="return_received">
        <dc:Bounds x="192" y="107" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="confirm_return_di" bpmnElement="confirm_return">
        <dc:Bounds x="280" y="85" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="inspect_return_di" bpmnElement="inspect_return">
        <dc:Bounds x="430" y="215" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="refund_customer_di" bpmnElement="refund_customer">
        <dc:Bounds x="580" y="345" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="return_done_di" bpmnElement="return_done">
        <dc:Bounds x="742" y="367" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="228" y="125" /><di:waypoint x="280" y="125" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="380" y="125" /><di:waypoint x="480" y="125" />
        <di:waypoint x="480" y="215" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f3_di" bpmnElement="f3"><di:waypoint x="530" y="255" /><di:waypoint x="630" y="255" />
        <di:waypoint x="630" y="345" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f4_di" bpmnElement="f4"><di:waypoint x="680" y="385" /><di:waypoint x="742" y="385" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
START_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "退件登记",
    "type": "object",
    "additionalProperties": False,
    "required": ["part_no", "reason"],
    "properties": {
        "part_no": {"type": "string", "minLength": 1, "maxLength": 64, "title": "备件号"},
        "reason": {"type": "string", "minLength": 1, "maxLength": 500, "title": "退件原因"},
    },
}
ROLES = {"lane_receive": "service_manager", "lane_inspect": "engineering_qc", "lane_refund": "sales"}
WORK = [  # who completes which task, with what note: the qc task is assigned to qc by its assignee expression
    ("manager", "确认退件", "外观完好，同意退回"),
    ("qc", "检验退件", "轴承滚道剥落"),
    ("sales", "办理退款", "已退款 380 元"),
]


def shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png")


def pick(page, element_id):
    """Select an element through the modeler (a lane's body is not a click target) and wait for the panel."""
    page.evaluate(
        "id => { const m = window.aftersalesDesigner.modeler; "
        "m.get('selection').select(m.get('elementRegistry').get(id)); }",
        element_id,
    )
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))")  # the panel renders


def model_property(page, element_id, name):
    return page.evaluate(
        """([id, name]) => {
          const bo = window.aftersalesDesigner.modeler.get('elementRegistry').get(id).businessObject;
          const ext = (bo.extensionElements && bo.extensionElements.values) || [];
          const props = ext.find((e) => e.$type === 'spiffworkflow:Properties');
          const prop = props && props.values.find((p) => p.name === name);
          return prop ? prop.value : null;
        }""",
        [element_id, name],
    )


def type_property(page, selector, element_id, name, value):
    page.fill(selector, value)
    page.wait_for_function(
        """([id, name, value]) => {
          const bo = window.aftersalesDesigner.modeler.get('elementRegistry').get(id).businessObject;
          const props = ((bo.extensionElements && bo.extensionElements.values) || [])
            .find((e) => e.$type === 'spiffworkflow:Properties');
          return !!props && props.values.some((p) => p.name === name && p.value === value);
        }""",
        arg=[element_id, name, value],
    )


def new_form_for(page, element_id):
    """The panel's "new form" button: the form is created in the form editor and bound to the element."""
    pick(page, element_id)
    page.click(".as-buttons button.as-button-primary")
    page.wait_for_selector(f'#designer[data-form-open="{element_id}.schema.json"]')
    assert model_property(page, element_id, "formJsonSchemaFilename") == f"{element_id}.schema.json"
    page.click("[data-tab=diagram]")


def design_and_deploy(page):
    page.goto("/designer/new")
    page.wait_for_selector('#designer[data-ready="1"]')
    bare = {"name": f"{PROCESS}.bpmn", "mimeType": "application/xml", "buffer": BARE_BPMN.encode()}
    page.set_input_files("[data-open-file]", files=[bare])
    page.wait_for_selector('#designer[data-ready="1"]')
    assert page.input_value("[data-file-name]") == f"{PROCESS}.bpmn"

    for lane, role in ROLES.items():
        pick(page, lane)
        page.select_option("#bio-properties-panel-as-lane-role", role)
        page.wait_for_function(
            "([id, role]) => window.aftersalesDesigner.modeler.get('elementRegistry').get(id)"
            ".businessObject.name === role",
            arg=[lane, role],
        )

    # the start form: made with the panel's button, then written in the form editor
    pick(page, "return_received")
    assert page.locator("[data-group-id='group-as-start-form']").is_visible()
    page.click(".as-buttons button:has-text('新建发起表单')")
    page.wait_for_selector('#designer[data-form-open="return_received.schema.json"]')
    page.locator("[data-form-json]").evaluate("details => { details.open = true; }")  # the JSON under the visual editor
    page.fill("[data-form-schema]", json.dumps(START_FORM, ensure_ascii=False, indent=2))
    page.fill("[data-form-ui]", json.dumps({"ui:order": ["part_no", "reason"], "reason": {"ui:widget": "textarea"}}))
    page.wait_for_function("() => document.getElementById('designer').dataset.previewFields === 'part_no,reason'")
    assert page.locator("[data-form-preview] label:has-text('备件号')").is_visible()
    shot(page, "designer-new-process-start-form")
    page.click("[data-tab=diagram]")
    pick(page, "return_received")
    assert page.input_value("#bio-properties-panel-as-start-schema") == "return_received.schema.json"
    assert page.input_value("#bio-properties-panel-as-start-ui") == "return_received.ui.json"
    type_property(page, "#bio-properties-panel-as-business-key", "return_received", "businessKey", "part_no")

    new_form_for(page, "confirm_return")
    new_form_for(page, "inspect_return")
    pick(page, "inspect_return")
    type_property(page, "#bio-properties-panel-as-assignee", "inspect_return", "assignee", '"qc"')

    # the third form is created in the form editor's list first, then picked in the panel
    page.click("[data-tab=forms]")
    page.fill("#new-form-name", "refund_customer")
    page.click("[data-form-new] button[type=submit]")
    page.wait_for_selector('#designer[data-form-open="refund_customer.schema.json"]')
    page.click("[data-tab=diagram]")
    pick(page, "refund_customer")
    page.select_option("#bio-properties-panel-as-form-schema", "refund_customer.schema.json")
    page.select_option("#bio-properties-panel-as-form-ui", "refund_customer.ui.json")
    assert model_property(page, "refund_customer", "formJsonSchemaFilename") == "refund_customer.schema.json"

    pick(page, "inspect_return")
    shot(page, "designer-new-process")
    page.click("[data-action=validate]")
    page.wait_for_selector("#designer[data-validated]")
    problems = page.locator("[data-problems-list] li").all_inner_texts()
    assert page.get_attribute("#designer", "data-validated") == "ok", problems
    page.click("[data-action=deploy]")
    page.fill("[data-deploy-note]", "新流程：退件检验（三条泳道）")
    page.click("[data-deploy-confirm]")
    page.wait_for_function(f"() => (document.getElementById('designer').dataset.deployed || '').includes('{PROCESS}')")
    assert page.get_attribute("#designer", "data-deploy-note-count") == "0"  # the start event is in a role's lane
    assert page.locator("section[data-deploy-notes]").is_hidden()


def complete_my_task(page, sign_in, user, name, note):
    sign_in(user)
    page.goto("/")
    page.click(f"a:has-text('{name}')")
    page.wait_for_selector("[name=note]")
    assert "P-7731" in page.inner_text("main")  # the business key from the start form
    page.fill("[name=note]", note)
    page.click("button[type=submit]:has-text('完成任务')")
    page.wait_for_load_state()
    assert page.locator(".flash-error, .error-summary").count() == 0, page.inner_text("main")


def test_a_new_three_lane_process_is_designed_deployed_started_and_completed(page, sign_in, session):
    sign_in("modeler")
    design_and_deploy(page)
    version = session.scalars(sa.select(ProcessVersion).where(ProcessVersion.process_id == PROCESS)).one()
    assert version.version == 1 and version.deployed_by == "modeler"
    session.commit()  # SQLite has one writer: hold no transaction while the browser works

    page.goto(f"/designer/process/{PROCESS}/history")
    files = page.locator("[data-version-files='1'] [data-file]").all_inner_texts()
    assert f"{PROCESS}.bpmn" in files and "forms/return_received.schema.json" in files
    assert "新流程：退件检验（三条泳道）" in page.inner_text(".version-meta")
    shot(page, "designer-history-files")

    sign_in("manager")
    page.goto("/processes/")
    page.click("a.start-card:has-text('退件检验')")
    page.fill("[name=part_no]", "P-7731")
    page.fill("[name=reason]", "客户反映异响")
    page.click("button[type=submit]:has-text('发起')")
    page.wait_for_url("**/tasks/**")
    assert "确认退件" in page.inner_text("h1")
    instance = session.scalars(sa.select(ProcessInstance).where(ProcessInstance.process_id == PROCESS)).one()
    instance_id, business_key = instance.id, instance.business_key
    session.commit()
    assert business_key == "P-7731"

    for user, name, note in WORK:
        complete_my_task(page, sign_in, user, name, note)
        if user == "manager":  # the inspection is assigned by the task's assignee expression
            inspect = session.scalars(sa.select(HumanTask).where(HumanTask.bpmn_id == "inspect_return")).one()
            assert inspect.assignee == "qc" and inspect.lane == "engineering_qc"
            session.commit()

    sign_in("director")
    page.goto(f"/monitor/instances/{instance_id}")
    page.wait_for_selector(".mon-canvas-pane[data-ready]")
    assert "已完成" in page.inner_text(".mon-head")
    page.wait_for_selector('.djs-element.highlight-done[data-element-id="refund_customer"]')
    shot(page, "monitor-new-process-completed")
    session.expire_all()
    assert session.get(ProcessInstance, instance_id).status == "completed"
