"""Bilingual models (issue 11): processes, tasks and lanes in the reader's language: Chinese BPMN names, English from
the `i18n:name-en` extension attribute, lanes labelled from the role table (inbox, diagrams, heatmap, monitoring)."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

from lxml import etree

from engine.platform.model_names import NAME_EN
from engine.platform.model_names import english_names
from engine.platform.model_names import localized_diagram
from tests.conftest import PROJECT_ROOT
from tests.web.test_monitor_pages import cases  # noqa: F401 - fixture
from tests.web.test_monitor_pages import signed_in

WORKFLOWS = PROJECT_ROOT / "workflows"
NAMED = {"process", "participant", "userTask", "serviceTask", "businessRuleTask", "callActivity", "startEvent"}
NAMED |= {"endEvent", "boundaryEvent", "intermediateCatchEvent", "exclusiveGateway", "parallelGateway"}


def bpmn_files() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(WORKFLOWS.glob("*.bpmn"))}


def test_every_named_element_of_the_shipped_workflows_has_an_english_name() -> None:
    missing = []
    for path in sorted(WORKFLOWS.glob("*.bpmn")):
        for element in etree.parse(str(path)).iter():
            if not isinstance(element.tag, str):
                continue
            kind = etree.QName(element).localname
            if kind in NAMED and element.get("name") and not element.get(NAME_EN):
                missing.append(f"{path.name}: {element.get('id')}")
    assert missing == []


def test_english_names_and_a_diagram_for_the_english_reader() -> None:
    files = bpmn_files()
    names = english_names(files)
    assert names["review_csi"] == "Review CSI" and names["after_sales_case"] == "After-sales case"
    xml = localized_diagram(
        "decide_service_plan.bpmn",
        files["decide_service_plan.bpmn"],
        english=True,
        lane_labels={"service_supervisor": "Service supervisor"},
    )
    root = etree.fromstring(xml)
    by_id = {e.get("id"): e.get("name") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    assert by_id["review_csi"] == "Review CSI" and by_id["service_supervisor_lane"] == "Service supervisor"
    chinese = localized_diagram("decide_service_plan.bpmn", files["decide_service_plan.bpmn"], english=False,
                                lane_labels={"service_supervisor": "服务主管"})  # fmt: skip
    by_id = {e.get("id"): e.get("name") for e in etree.fromstring(chinese).iter() if isinstance(e.tag, str)}
    assert by_id["review_csi"] == "评审CSI" and by_id["service_supervisor_lane"] == "服务主管"


def english(client: Any) -> Any:
    with client.session_transaction() as state:
        state["lang"] = "en"
    return client


def test_inbox_monitoring_heatmap_and_diagrams_speak_the_readers_language(client: Any, cases: Any) -> None:  # noqa: F811
    director = signed_in(client, "director")
    chinese = unescape(director.get(f"/monitor/instances/{cases['first'].id}").get_data(as_text=True))
    assert "售后服务案件" in chinese and "确定服务方案" in chinese
    english(director)
    html = director.get(f"/monitor/instances/{cases['first'].id}").get_data(as_text=True)
    page = unescape(html)
    assert "After-sales case" in page and "Decide the service plan" in page and "售后服务案件" not in page
    config = json.loads(unescape(re.search(r'data-config="([^"]+)"', html).group(1)))
    url = next(d["url"] for d in config["diagrams"] if d["process_id"] == "decide_service_plan")
    xml = director.get(url).get_data(as_text=True)
    assert 'name="Root-cause analysis"' in xml and 'name="Service manager"' in xml
    assert 'name="service_manager"' not in xml  # lane keys never reach the reader
    raw = director.get(url + "?raw=1").get_data(as_text=True)
    assert raw == (WORKFLOWS / "decide_service_plan.bpmn").read_text(encoding="utf-8")
    listing = unescape(director.get("/monitor/instances").get_data(as_text=True))
    assert "After-sales case v1" in listing and "Root-cause analysis" in listing
    heatmap = unescape(director.get("/monitor/heatmap").get_data(as_text=True))
    assert "After-sales case v1" in heatmap and "Review CSI" in heatmap
    inbox = unescape(english(signed_in(client, "manager")).get("/?tab=available").get_data(as_text=True))
    assert "Root-cause analysis" in inbox


def test_a_user_tasks_english_name_is_its_forms_english_title() -> None:
    """One English word per step: the inbox (BPMN name) and the task page (form title) agree."""
    import json

    spiff = "{http://spiffworkflow.org/bpmn/schema/1.0/core}property"
    differ = []
    for path in sorted(WORKFLOWS.glob("*.bpmn")):
        for task in etree.parse(str(path)).iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask"):
            form = next(p.get("value") for p in task.iter(spiff) if p.get("name") == "formJsonSchemaFilename")
            schema = WORKFLOWS / "forms" / form.split("/")[-1]
            title = json.loads(schema.read_text(encoding="utf-8"))["x-i18n"]["en"]["title"]
            if task.get(NAME_EN) != title:
                differ.append((task.get("id"), task.get(NAME_EN), title))
    assert differ == []
