"""Supplier claims in the browser (§5.5): the service manager raises a claim from the case page, the claim shows on
the case and its record page; Sales and admins keep the supplier master on its admin pages (Chinese first)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from engine.records.process import HumanTask
from engine.records.supplier import Supplier
from engine.records.supplier_claim import SupplierClaim
from tests.web.test_pages_flow import browser
from tests.web.test_pages_flow import case_id  # noqa: F401  (fixture)
from tests.web.test_pages_flow import manager  # noqa: F401  (fixture)
from tests.web.test_pages_flow import sign_in
from tests.web.test_pages_flow import submit
from tests.web.test_pages_flow import text_of


def claims_of(sessions, csi_id):
    with sessions() as s:
        return list(s.scalars(sa.select(SupplierClaim).where(SupplierClaim.csi_id == csi_id)))


def test_the_manager_raises_a_claim_from_the_case_page(manager: Any, case_id: int, sessions, app) -> None:  # noqa: F811
    page = f"/cases/{case_id}"
    html = text_of(manager.get(page))
    assert 'id="supplier-claim"' in html and "提出供方索赔" in html and "S-SEAL · 宁波密封件厂" in html
    assert "S-OLD" not in html  # inactive suppliers are not offered
    action = f"/cases/{case_id}/supplier-claims"
    bad = submit(manager, page, action, {"part_no": "NOT-A-PART", "quantity": "0", "reason": "", "supplier_code": ""})
    assert bad.status_code == 422
    refused = text_of(bad)
    assert "不在备件主数据中：NOT-A-PART" in refused and 'id="claim.quantity-error"' in refused
    assert 'value="NOT-A-PART"' in refused  # what was typed comes back
    assert claims_of(sessions, case_id) == []
    done = submit(
        manager,
        page,
        action,
        {
            "part_no": "SEAL-40",
            "quantity": "2",
            "reason": "油封老化渗油",
            "supplier_code": "S-SEAL",
            "claim_amount": "300",
        },
    )
    assert done.status_code == 302
    (claim,) = claims_of(sessions, case_id)
    assert claim.supplier == "宁波密封件厂" and claim.status == "open"
    shown = text_of(manager.get(page))
    assert claim.sc_no in shown and "向供方提出索赔" in shown  # in the chain and as the open Sales task
    record = text_of(manager.get(f"/records/supplier-claim/{claim.sc_no}"))
    assert "SEAL-40 × 2" in record and "油封老化渗油" in record
    engineer = browser(app)
    sign_in(engineer, "engineer")
    assert 'id="supplier-claim"' not in text_of(engineer.get(page))  # only the service manager raises claims


def test_sales_keeps_the_supplier_master_on_its_page(client: Any, sessions) -> None:
    sign_in(client, "sales")
    listing = text_of(client.get("/admin/suppliers"))
    assert "洛阳精密轴承有限公司" in listing and "已停用" in listing
    assert 'href="/admin/suppliers"' in listing  # the navigation offers the master to Sales
    bad = submit(client, "/admin/suppliers", "/admin/suppliers", {"code": "S-BRG", "name": "", "email": "nope"})
    assert bad.status_code == 422
    refused = text_of(bad)
    assert "供方代码 S-BRG 已被使用" in refused and 'id="email-error"' in refused
    added = submit(client, "/admin/suppliers", "/admin/suppliers", {"code": "S-NEW", "name": "新供方有限公司"})
    assert added.status_code == 302
    page = "/admin/suppliers/S-NEW"
    assert (
        submit(client, page, page, {"name": "新供方（更名）", "contact": "周工"}).status_code == 302
    )  # unchecked: inactive
    with sessions() as s:
        supplier = s.scalars(sa.select(Supplier).where(Supplier.code == "S-NEW")).one()
        assert (supplier.name, supplier.contact, supplier.active) == ("新供方（更名）", "周工", False)
    assert re.search(r"S-NEW", text_of(client.get("/admin/suppliers")))


def test_sales_picks_the_supplier_from_the_master_on_the_task_page(manager: Any, case_id: int, sessions, app) -> None:  # noqa: F811
    page = f"/cases/{case_id}"
    body = {"part_no": "SEAL-40", "quantity": "3", "reason": "渗油", "supplier_code": "S-SEAL", "claim_amount": "300"}
    assert submit(manager, page, f"/cases/{case_id}/supplier-claims", body).status_code == 302
    with sessions() as s:
        task_id = s.scalars(
            sa.select(HumanTask.id).where(
                HumanTask.csi_id == case_id, HumanTask.status == "open", HumanTask.lane == "sales"
            )
        ).one()
    sales = browser(app)
    sign_in(sales, "sales")
    form = text_of(sales.get(f"/tasks/{task_id}"))
    assert "S-BRG · 洛阳精密轴承有限公司" in form and "S-SEAL · 宁波密封件厂" in form
    assert "S-OLD" not in form  # an inactive supplier is not offered
    assert re.search(r'<option value="S-SEAL"[^>]*selected', form)  # what the manager named starts the form
    assert 'value="SEAL-40"' in form  # and the parts it named
    assert re.search(r'name="claim_amount"[^>]*value="300(\.0)?"', form) or re.search(
        r'value="300(\.0)?"[^>]*name="claim_amount"', form
    )
