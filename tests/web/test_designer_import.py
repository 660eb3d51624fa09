"""The designer's import page through the real app (CSRF on): upload, answer the role questions, read the report,
open the result in the modeler, deploy."""

from __future__ import annotations

import io
import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from engine.records.process import ProcessVersion
from tests.web.test_pages_flow import sign_in

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "import"
INVOICE = ("camunda_invoice.bpmn", "camunda_invoice_assign_approver.dmn")
ROLES = {"${approverGroups}": "service_manager", "Team assistant": "service_supervisor", "accounting": "sales"}


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, name
    return unescape(found.group(1))


def upload(client: Any, *names: str) -> Any:
    page = client.get("/designer/import")
    assert page.status_code == 200
    files = [(io.BytesIO((CORPUS / n).read_bytes()), n) for n in names]
    data = {"csrf_token": token(page.get_data(as_text=True)), "file": files}
    return client.post("/designer/import", data=data, content_type="multipart/form-data")


def answer(client: Any, asked: Any, roles: dict[str, str], **extra: str) -> Any:
    html = asked.get_data(as_text=True)
    data = {
        "csrf_token": token(html),
        "sources": hidden(html, "sources"),
        "group": list(roles),
        "role": list(roles.values()),
        **extra,
    }
    return client.post("/designer/import", data=data)


def test_the_import_page_is_for_process_designers_and_linked_from_the_designer(client):
    sign_in(client, "manager")
    assert client.get("/designer/import").status_code == 403
    sign_in(client, "modeler")
    assert "/designer/import" in client.get("/designer/").get_data(as_text=True)
    assert client.get("/designer/import").status_code == 200


def test_unknown_groups_are_asked_for_with_a_role_to_choose(client):
    sign_in(client, "modeler")
    asked = upload(client, *INVOICE)
    assert asked.status_code == 422
    html = unescape(asked.get_data(as_text=True))
    questions = re.findall(r'data-question="([^"]+)"', html)
    assert questions == ["${approverGroups}", "Team assistant", "accounting"]
    assert '<option value="service_manager">' in html and "prepare_bank_transfer" in html
    assert "data-import-report" not in html  # nothing converted yet


def test_answered_roles_give_the_report_element_by_element(client):
    sign_in(client, "modeler")
    converted = answer(client, upload(client, *INVOICE), ROLES)
    assert converted.status_code == 200
    html = unescape(converted.get_data(as_text=True))
    assert 'data-count-error="0"' in html
    assert "replaced by a no-op task: bind a registered operator" in html and "archive_invoice" in html
    assert "forms/approve_invoice.schema.json" in html and "invoice_assign_approver.dmn" in html


def test_open_in_the_modeler_carries_the_model_its_forms_and_its_decision_table(client):
    sign_in(client, "modeler")
    opened = answer(client, upload(client, *INVOICE), ROLES, action="open")
    assert opened.status_code == 200
    config = json.loads(unescape(re.search(r'data-config="([^"]+)"', opened.get_data(as_text=True)).group(1)))
    assert config["file"] == "" and config["source"] == ""
    assert 'data-file-name placeholder="my_process.bpmn" value="invoice.bpmn"' in opened.get_data(as_text=True)
    assert 'name="service_manager"' in config["sourceText"] and "camunda:" not in config["sourceText"]
    assert json.loads(config["importedForms"]["approve_invoice.schema.json"]["schema"])["title"] == "Approve invoice"
    assert list(config["extraFiles"]) == ["invoice_assign_approver.dmn"]
    assert "approve_invoice.schema.json" in config["forms_used"]


def test_deploy_makes_a_version_recorded_for_the_designer(client, sessions):
    sign_in(client, "modeler")
    deployed = answer(client, upload(client, *INVOICE), ROLES, action="deploy", note="from Camunda")
    assert deployed.status_code == 200, deployed.get_data(as_text=True)[:2000]
    assert "/designer/process/invoice/history" in deployed.get_data(as_text=True)
    with sessions() as session:
        version = session.scalars(sa.select(ProcessVersion).where(ProcessVersion.process_id == "invoice")).one()
        assert (version.version, version.deployed_by) == (1, "modeler")


def test_a_model_with_errors_is_reported_and_cannot_be_deployed(client, sessions):
    sign_in(client, "modeler")
    text = (CORPUS / "camunda_loan_approval.bpmn").read_text(encoding="utf-8")
    broken = text.replace("${approved &amp;&amp; loanAmount le netIncome * 5}", "${risk.ok(execution)}")
    page = client.get("/designer/import").get_data(as_text=True)
    data = {"csrf_token": token(page), "file": [(io.BytesIO(broken.encode()), "loan.bpmn")]}
    asked = client.post("/designer/import", data=data, content_type="multipart/form-data")
    refused = answer(client, asked, {"demo": "service_manager"}, action="deploy")
    html = unescape(refused.get_data(as_text=True))
    assert 'data-count-error="1"' in html and "calls risk.ok(...)" in html
    with sessions() as session:
        assert (
            session.scalars(sa.select(ProcessVersion).where(ProcessVersion.process_id == "loan_approval")).all() == []
        )


def test_a_file_that_is_not_bpmn_is_refused_with_its_problem(client):
    sign_in(client, "modeler")
    page = client.get("/designer/import").get_data(as_text=True)
    data = {"csrf_token": token(page), "file": [(io.BytesIO(b"<html><body/></html>"), "page.bpmn")]}
    refused = client.post("/designer/import", data=data, content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "neither BPMN 2.0 nor DMN" in unescape(refused.get_data(as_text=True))


def test_damaged_carried_files_are_refused(client):
    sign_in(client, "modeler")
    page = client.get("/designer/import").get_data(as_text=True)
    refused = client.post("/designer/import", data={"csrf_token": token(page), "sources": "bm90IHpsaWI="})
    assert refused.status_code == 422 and "upload them again" in unescape(refused.get_data(as_text=True))
