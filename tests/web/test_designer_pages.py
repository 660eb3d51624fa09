"""Designer pages and their JSON endpoints through the real app (CSRF on): roles, the panel's catalog (operators,
properties), validate, deploy, preview, history with each version's files, retiring a process, downloads and the
migration of a running case."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa

from engine.config import PROJECT_ROOT
from engine.records.process import ProcessDefinition
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.timeline import TimelineEvent
from tests.helpers import register
from tests.web.test_pages_flow import sign_in
from tests.web.test_pages_flow import submit
from tests.web.test_pages_flow import text_of

PLAN_BPMN = (PROJECT_ROOT / "workflows" / "decide_service_plan.bpmn").read_text(encoding="utf-8")
CASE_BPMN = (PROJECT_ROOT / "workflows" / "after_sales_case.bpmn").read_text(encoding="utf-8")
SCHEMA = (PROJECT_ROOT / "workflows" / "forms" / "analyse_root_cause.schema.json").read_text(encoding="utf-8")


def config_of(html: str) -> dict[str, Any]:
    found = re.search(r'data-config="([^"]+)"', html)
    assert found, "no editor config on the page"
    return dict(json.loads(unescape(found.group(1))))


def designer_client(client: Any) -> tuple[Any, dict[str, Any]]:
    """The client signed in as the modeler, with the modeler page's config (CSRF token, endpoints)."""
    sign_in(client, "modeler")
    page = client.get("/designer/process/decide_service_plan")
    assert page.status_code == 200
    return client, config_of(page.get_data(as_text=True))


def post_json(client: Any, config: dict[str, Any], url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json=body, headers={"X-CSRFToken": config["csrf"]})


@pytest.mark.parametrize(
    "path",
    [
        "/designer/",
        "/designer/process/decide_service_plan",
        "/designer/process/after_sales_case/history",
        "/designer/process/after_sales_case/migration",
        "/designer/decisions/service_billing.dmn",
        "/designer/forms/analyse_root_cause.schema.json",
        "/designer/new",
    ],
)
def test_designer_pages_are_for_process_designers_only(client, path):
    sign_in(client, "manager")
    assert client.get(path).status_code == 403
    sign_in(client, "modeler")  # a new sign-in replaces the session
    response = client.get(path)
    assert response.status_code == 200, path
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_modeler_page_offers_roles_operators_forms_and_decisions(client):
    _, config = designer_client(client)
    assert config["mode"] == "bpmn" and config["file"] == "decide_service_plan.bpmn"
    assert "service_supervisor" in config["roles"] and config["roleLabels"]["service_supervisor"]
    assert "record_sla_breach" in config["operators"] and config["decisions"] == ["service_billing"]
    assert "analyse_root_cause.schema.json" in config["forms_used"]
    source = client.get(config["source"])
    assert source.status_code == 200 and source.get_data(as_text=True) == PLAN_BPMN
    form = client.get(config["formUrl"].replace("__NAME__", "analyse_root_cause.schema.json"))
    assert json.loads(form.get_data(as_text=True))["title"] == "原因分析"


def test_non_designers_cannot_validate_or_deploy(client):
    _, config = designer_client(client)
    client.post("/logout", data={"csrf_token": config["csrf"]})
    sign_in(client, "manager")
    token = config_of_any(client)
    for url in ("/designer/validate", "/designer/deploy"):
        response = client.post(url, json={"files": {"x.bpmn": PLAN_BPMN}}, headers={"X-CSRFToken": token})
        assert response.status_code == 403


def config_of_any(client: Any) -> str:
    html = client.get("/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_post_without_the_csrf_header_is_refused(client):
    designer_client(client)
    assert client.post("/designer/validate", json={"files": {"a.bpmn": PLAN_BPMN}}).status_code == 400


def test_validate_returns_problems_pinned_to_elements_and_422_for_bad_xml(client):
    _, config = designer_client(client)
    ok = post_json(client, config, "/designer/validate", {"files": {"decide_service_plan.bpmn": PLAN_BPMN}})
    assert ok.status_code == 200 and ok.get_json() == {"ok": True, "problems": []}

    bad = post_json(client, config, "/designer/validate", {"files": {"decide_service_plan.bpmn": "<definitions><x"}})
    assert bad.status_code == 422
    [problem] = [p for p in bad.get_json()["problems"] if p["file"] == "decide_service_plan.bpmn"]
    assert problem["line"] == 1 and "well-formed" in problem["message"]

    lane = PLAN_BPMN.replace('name="service_manager">', 'name="somebody">', 1)
    pinned = post_json(client, config, "/designer/validate", {"files": {"decide_service_plan.bpmn": lane}})
    assert pinned.status_code == 422
    assert {"analyse_root_cause"} <= {p["element_id"] for p in pinned.get_json()["problems"]}


def test_validate_refuses_a_malformed_request(client):
    _, config = designer_client(client)
    assert post_json(client, config, "/designer/validate", {"files": {}}).status_code == 422
    assert post_json(client, config, "/designer/validate", {"files": {"a.bpmn": 3}}).status_code == 422
    names = post_json(client, config, "/designer/validate", {"files": {"../evil.sh": "x"}})
    assert names.status_code == 422 and "unsupported file name" in names.get_json()["problems"][0]["message"]


def test_deploy_makes_a_new_version_with_who_and_the_history_shows_the_change(client, session):
    _, config = designer_client(client)
    renamed = PLAN_BPMN.replace('name="原因分析"', 'name="原因分析（新）"')
    bad = post_json(client, config, "/designer/deploy", {"files": {"decide_service_plan.bpmn": "<x"}})
    assert bad.status_code == 422 and bad.get_json()["problems"]
    response = post_json(
        client, config, "/designer/deploy", {"files": {"decide_service_plan.bpmn": renamed}, "note": "新名称"}
    )
    assert response.status_code == 201, response.get_json()
    created = {v["process_id"]: v for v in response.get_json()["created"]}
    assert created["decide_service_plan"]["version"] == 2 and created["decide_service_plan"]["deployed_by"] == "modeler"
    again = post_json(client, config, "/designer/deploy", {"files": {"decide_service_plan.bpmn": renamed}})
    assert again.status_code == 200 and again.get_json()["created"] == []

    history = client.get("/designer/process/decide_service_plan/history").get_data(as_text=True)
    assert "v2" in history and "新名称" in history and "原因分析（新）" in history and "analyse_root_cause" in history
    diff = client.get("/designer/process/decide_service_plan/diff?from=1&to=2").get_data(as_text=True)
    assert "原因分析（新）" in diff
    session.expire_all()
    versions = session.scalars(sa.select(ProcessVersion).where(ProcessVersion.process_id == "decide_service_plan"))
    assert sorted(v.version for v in versions) == [1, 2]


def test_form_preview_renders_the_task_form_and_rejects_bad_json(client):
    _, config = designer_client(client)
    schema = json.loads(SCHEMA)
    schema["properties"]["supplier_batch"] = {"type": "string", "title": "供方批次号", "maxLength": 40}
    ok = post_json(client, config, config["previewUrl"], {"schema": json.dumps(schema), "ui": "{}"})
    assert ok.status_code == 200
    body = ok.get_json()
    assert (
        body["fields"][-1] == "supplier_batch" and "供方批次号" in body["html"] and 'name="root_cause"' in body["html"]
    )
    bad = post_json(client, config, config["previewUrl"], {"schema": '{"title": "x",\n oops}', "ui": "{}"})
    assert bad.status_code == 422 and "第 2 行" in bad.get_json()["message"]  # the user's language (zh)
    odd = post_json(client, config, config["previewUrl"], {"schema": '{"properties": {"a": 1}}', "ui": "{}"})
    assert odd.status_code == 422


def test_downloads_of_a_version(client):
    designer_client(client)
    bpmn = client.get("/designer/process/decide_service_plan/versions/1/download")
    assert bpmn.status_code == 200 and bpmn.get_data(as_text=True) == PLAN_BPMN
    assert "decide_service_plan.v1.bpmn" in bpmn.headers["Content-Disposition"]
    archive = client.get("/designer/process/after_sales_case/versions/1/bundle.zip")
    names = zipfile.ZipFile(io.BytesIO(archive.get_data())).namelist()
    assert {"after_sales_case.bpmn", "decide_service_plan.bpmn", "VERSION.txt"} <= set(names)
    assert client.get("/designer/process/after_sales_case/versions/9/download").status_code == 404
    assert client.get("/designer/files/1/no_such.bpmn").status_code == 404


def test_migration_page_moves_the_eligible_case_and_reports_the_other(client, session, runtime, calendar, user_named):
    from tests.helpers import do

    manager = user_named("manager")
    _, moving = register(session, runtime, manager, calendar)
    stuck_csi, stuck = register(session, runtime, manager, calendar)
    do(session, runtime, stuck_csi.id, "analyse_root_cause", manager, calendar)
    do(session, runtime, stuck_csi.id, "review_csi", user_named("supervisor"), calendar)
    session.commit()
    _, config = designer_client(client)
    renamed = CASE_BPMN.replace('name="答复顾客"', 'name="答复顾客（新）"')
    assert (
        post_json(client, config, "/designer/deploy", {"files": {"after_sales_case.bpmn": renamed}}).status_code == 201
    )

    preview = client.get("/designer/process/after_sales_case/migration").get_data(as_text=True)
    assert f'name="instance" value="{moving.id}"' in preview
    assert f'name="instance" value="{stuck.id}"' not in preview and "答复顾客 (answer_customer)" in preview
    token = re.search(r'name="csrf_token" value="([^"]+)"', preview).group(1)
    result = client.post(
        "/designer/process/after_sales_case/migration",
        data={"csrf_token": token, "to": "2", "instance": [str(moving.id), str(stuck.id)]},
    )
    page = result.get_data(as_text=True)
    assert result.status_code == 200 and "v1 → v2" in page and "answer_customer" in page
    session.expire_all()
    assert (
        session.get(ProcessInstance, moving.id).process_version_id
        != session.get(ProcessInstance, stuck.id).process_version_id
    )
    kinds = session.scalars(sa.select(TimelineEvent.kind).where(TimelineEvent.instance_id == moving.id))
    assert "instance.migrated" in list(kinds)


def test_migration_post_without_instances_is_refused(client):
    designer_client(client)
    page = client.get("/designer/process/after_sales_case/migration").get_data(as_text=True)
    assert "No unfinished instance" in page or "没有" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/designer/").get_data(as_text=True)).group(1)
    response = client.post("/designer/process/after_sales_case/migration", data={"csrf_token": token, "to": "1"})
    assert response.status_code == 422


def test_the_modeler_page_offers_operator_specs_and_the_catalogs_properties(client):
    _, config = designer_client(client)
    specs = {s["name"]: s for s in config["operatorSpecs"]}
    decision = specs["record_plan_decision"]
    assert decision["section"] == "§4.4–§4.6" and decision["user_task_only"] and "opinion" in decision["form_fields"]
    assert {"name": "csi_id", "type": "int", "required": True} == {
        k: v for k, v in decision["params"][0].items() if k != "doc"
    }
    assert not specs["record_sla_breach"]["user_task_only"] and "CSI" in specs["record_sla_breach"]["doc"]
    properties = {p["name"]: p for p in config["properties"]}
    assert properties["assignee"]["expression"] and properties["businessKey"]["expression"]
    assert "under_review" in properties["caseStatus"]["values"] and properties["caseStatus"]["projected"]
    labels = config["valueLabels"]["caseStatus"]
    assert set(labels) == set(properties["caseStatus"]["values"]) and labels["under_review"] != "under_review"


def test_the_history_names_the_files_each_version_runs_on_and_its_deploy_note(client):
    _, config = designer_client(client)
    changed = PLAN_BPMN.replace('name="原因分析"', 'name="原因分析（新）"')
    deployed = post_json(
        client, config, "/designer/deploy", {"files": {"decide_service_plan.bpmn": changed}, "note": "改名"}
    )
    assert deployed.status_code == 201
    html = client.get("/designer/process/after_sales_case/history").get_data(as_text=True)
    v2 = re.search(r'data-version-files="2">(.*?)</div>', html, re.S)
    assert v2, "no file list for v2"
    files = re.findall(r'data-file="([^"]+)"', v2.group(1))
    assert {"after_sales_case.bpmn", "decide_service_plan.bpmn", "service_billing.dmn"} <= set(files)
    assert "forms/analyse_root_cause.schema.json" in files and all(not f.endswith(".txt") for f in files)
    assert "改名" in unescape(html)
    first = re.findall(r'data-file="([^"]+)"', re.search(r'data-version-files="1">(.*?)</div>', html, re.S).group(1))
    assert client.get(re.search(r'href="(/designer/files/[^"]+)" data-file', html).group(1)).status_code == 200
    assert set(first) == set(files)  # the same files; their texts differ


def test_a_designer_retires_a_process_with_a_reason_and_the_index_shows_it(client, session):
    designer_client(client)
    history = "/designer/process/field_visit_round/history"
    action = "/designer/process/field_visit_round/retire"
    assert client.post(action, data={"reason": "x"}).status_code == 400  # no CSRF token
    missing = submit(client, history, action, {"reason": "  "})
    assert missing.status_code == 302 and missing.headers["Location"].endswith(f"{history}#retire")
    assert "请填写停用原因" in text_of(client.get(history))  # the flash after the redirect
    definition = session.get(ProcessDefinition, "field_visit_round")
    assert definition is not None and definition.retired_at is None
    session.commit()  # SQLite has one writer: hold no transaction while the app writes

    done = submit(client, history, action, {"reason": "改由外包服务商处理"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/designer/")
    index = text_of(client.get("/designer/"))
    assert 'data-retired="field_visit_round"' in index and "改由外包服务商处理" in index
    session.expire_all()
    definition = session.get(ProcessDefinition, "field_visit_round")
    assert definition.retired_by == "modeler" and definition.retire_reason == "改由外包服务商处理"
    session.commit()
    page = text_of(client.get(history))
    assert "data-retired" in page and 'action="/designer/process/field_visit_round/retire"' not in page

    again = submit(client, "/designer/", action, {"reason": "再次"})
    assert again.status_code == 302 and again.headers["Location"].endswith(history)
    assert submit(client, "/designer/", "/designer/process/no_such/retire", {"reason": "x"}).status_code == 404
    sign_in(client, "manager")
    assert submit(client, "/", action, {"reason": "x"}).status_code == 403
