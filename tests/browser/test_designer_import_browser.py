"""A process designer in real Chromium imports a Camunda model with its decision table: answers the role questions,
reads the report, opens the result in the modeler (lanes, forms and the DMN come along) and deploys it from
there."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from engine.records.process import ProcessVersion

SHOTS = os.environ.get("AFTERSALES_SCREENSHOTS")
CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "import"
ROLES = {"${approverGroups}": "service_manager", "Team assistant": "service_supervisor", "accounting": "sales"}


def shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_a_camunda_model_is_imported_opened_in_the_modeler_and_deployed(page, sign_in, session):
    session.commit()  # SQLite has one writer: the test holds no transaction while the browser works
    sign_in("modeler")
    page.goto("/designer/")
    page.click("a[href='/designer/import']")
    files = [str(CORPUS / "camunda_invoice.bpmn"), str(CORPUS / "camunda_invoice_assign_approver.dmn")]
    page.set_input_files("#import-file", files)
    page.click("[data-import-upload] button[type=submit]")
    page.wait_for_selector("[data-import-questions]")
    for key, role in ROLES.items():
        page.select_option(f'tr[data-question="{key}"] select', role)
    shot(page, "designer-import-questions")
    page.click("[data-import-questions] button[type=submit]")
    page.wait_for_selector("[data-import-report]")
    assert page.locator("[data-count-error='0']").count() == 1
    assert page.locator("tr[data-severity=warning]:has-text('archive_invoice')").count() >= 1
    shot(page, "designer-import-report")

    page.click("button[name=action][value=open]")
    page.wait_for_selector('#designer[data-ready="1"]')
    registry = "window.aftersalesDesigner.modeler.get('elementRegistry')"
    assert page.evaluate(f"{registry}.get('lane_approver').businessObject.name") == "service_manager"
    assert page.evaluate(f"{registry}.get('archive_invoice').type") == "bpmn:ScriptTask"
    assert page.locator("[data-form-file='approve_invoice.schema.json']").count() == 1
    shot(page, "designer-import-modeler")
    page.click("[data-action=validate]")
    page.wait_for_selector('#designer[data-validated="ok"]')
    page.click("[data-action=deploy]")
    page.fill("[data-deploy-note]", "从 Camunda 导入")
    page.click("[data-deploy-confirm]")
    page.wait_for_function("() => (document.getElementById('designer').dataset.deployed || '').includes('invoice')")

    session.expire_all()
    version = session.scalars(sa.select(ProcessVersion).where(ProcessVersion.process_id == "invoice")).one()
    assert (version.version, version.deployed_by) == (1, "modeler")
