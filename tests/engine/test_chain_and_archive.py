"""The document chain (§5–§6), record views by number, the DMN proposal read model and the service archive."""

from __future__ import annotations

import pytest

from engine.aftersales.archives.read import ArchiveNotKeptError
from engine.aftersales.archives.read import _moment
from engine.aftersales.archives.read import list_archived_units
from engine.aftersales.archives.read import service_archive
from engine.aftersales.cases.read import case_view
from engine.aftersales.review.read import billing_proposal
from engine.aftersales.review.read import open_review_proposal
from engine.errors import NotFoundError
from engine.reports import chain
from tests.helpers import case_task
from tests.helpers import do
from tests.helpers import register
from tests.scenarios import field_service_case
from tests.scenarios import paid_service_case
from tests.scenarios import parts_only_case


@pytest.fixture
def people(user_named):
    return user_named


def numbers(items):
    return [item["number"] for item in items]


def test_field_service_chain_links_every_record_both_ways(session, runtime, calendar, people):
    csi = field_service_case(session, runtime, calendar, people)
    found = chain.document_chain(session, csi)
    assert found["csi"]["number"] == csi.csi_no and found["csi"]["archive_location"]
    assert found["csi"]["billing"] == "free" and found["csi"]["cost_bearer"] == "supplier"
    (wo,) = found["wo"]
    assert wo["status"] == "completed" and wo["rounds"] == 2 and wo["engineers"] == ["engineer"]
    assert wo["labour_hours"] == "10.00" and wo["labour_cost"] == "2000.00"  # (6.5 + 3.5) h × 200 (§5.3)
    assert numbers(found["psr"]) == [r["number"] for r in wo["psr"]] and len(found["psr"]) == 2
    first, second = found["psr"]
    assert first["wo"]["number"] == wo["number"] and first["round_no"] == 1
    recovery, purchase = found["po"]
    assert recovery["purpose"] == "recover_old_parts" and recovery["psr"]["number"] == first["number"]
    assert purchase["purpose"] == "buy_parts" and purchase["prj_no"] == wo["number"]  # PRJ# = WO# (§5.5)
    assert purchase["wo"]["number"] == wo["number"] and purchase["total_price"] == "0.00"
    assert csi.csi_no in purchase["remarks"] and purchase["csi"]["number"] == csi.csi_no
    assert [r["number"] for r in second["po"]] == [purchase["number"]]
    (feedback,) = found["quality_feedback"]
    assert feedback["form_code"] == "QAHRC0722C" and feedback["status"] == "closed"
    assert second["quality_feedback"][0]["number"] == feedback["number"]
    assert [s["form_code"] for s in found["survey"]] == ["QAHRC0807C", "QAHRC0807C"]
    (claim,) = found["supplier_claim"]
    assert claim["csi_snapshot"]["csi_no"] == csi.csi_no and claim["status"] == "submitted"
    assert claim["psr"]["number"] == second["number"] and claim["claim_amount"] == "1200.00"
    edges = {(e["from"], e["to"], e["relation"]) for e in found["edges"]}
    assert (csi.csi_no, wo["number"], "work_order") in edges
    assert (wo["number"], first["number"], "visit") in edges
    assert (second["number"], purchase["number"], "purchase") in edges
    assert (second["number"], claim["number"], "supplier_claim") in edges
    assert found["totals"]["labour_cost"] == "2000.00"


def test_case_view_records_section_is_the_document_chain(session, runtime, calendar, people):
    csi = paid_service_case(session, runtime, calendar, people)
    records = case_view(session, csi)["records"]
    (wo,) = records["wo"]
    (fee,) = records["so"]
    assert fee["so_type"] == "service_fee" and fee["amount"] == "2600.00"
    assert wo["fee_so"]["number"] == fee["number"] and fee["wo"]["number"] == wo["number"]  # §5.4 both ways
    assert (wo["number"], fee["number"], "fee_so") in {(e["from"], e["to"], e["relation"]) for e in records["edges"]}
    assert records["totals"]["fee_amount"] == "2600.00"


def test_parts_only_so_rests_on_the_csi(session, runtime, calendar, people):
    csi = parts_only_case(session, runtime, calendar, people)
    (order,) = chain.document_chain(session, csi)["so"]
    assert order["so_type"] == "parts_only" and order["wo"] is None and len(order["lines"]) == 2
    assert order["remarks"].startswith(f"CSI: {csi.csi_no}")  # §5.2


def test_record_view_by_type_and_number(session, runtime, calendar, people):
    csi = field_service_case(session, runtime, calendar, people)
    found = chain.document_chain(session, csi)
    for record_type, key in chain.CHAIN_KEYS.items():
        for item in found[key]:
            view = chain.record_view(session, record_type, item["number"])
            assert view == item and view["case_id"] == csi.id
    whole = chain.record_view(session, "csi", csi.csi_no)
    assert whole["origin_so_no"] == "SO-2025-0001" and whole["records"]["wo"] == numbers(found["wo"])
    assert chain.find_csi_of(session, "po", found["po"][0]["number"]).id == csi.id
    for record_type, number in (("wo", "WO-1999-000001"), ("invoice", "1"), ("csi", "CSI-1999-000001")):
        with pytest.raises(NotFoundError):
            chain.record_view(session, record_type, number)


def test_review_task_sees_the_dmn_proposal(session, runtime, calendar, people):
    csi, _ = register(session, runtime, people("manager"), calendar)
    do(session, runtime, csi.id, "analyse_root_cause", people("manager"), calendar)
    proposal = billing_proposal(session, runtime, case_task(session, csi.id, "review_csi"))
    assert proposal is not None
    assert proposal["proposed_billing"] == "free" and proposal["cost_bearer"] == "supplier"  # in warranty (§3.2)
    assert "field_service" in proposal["allowed_plans"]
    assert proposal["inputs"] == {"product_category": "complete_equipment", "coverage": "in_warranty",
                                  "responsibility": "supplier"}  # fmt: skip
    assert open_review_proposal(session, runtime, csi.id) == proposal
    assert not session.dirty and not session.new  # read-only


def test_complete_equipment_has_a_service_archive_in_time_order(session, runtime, calendar, people):
    csi = field_service_case(session, runtime, calendar, people)
    archive = service_archive(session, " CNC500-0001 ")
    unit = archive["unit"]
    assert unit["product"]["code"] == "P-CNC500" and unit["so_no"] == "SO-2025-0001" and unit["archive_required"]
    assert unit["customer"]["code"] == "C001" and unit["warranty_until"] and unit["policy_version"] == 1
    assert numbers(archive["cases"]) == [csi.csi_no]
    assert len(archive["work_orders"]) == 1 and len(archive["visits"]) == 2
    assert [(p["part_no"], p["source"]) for p in archive["parts_changed"]] == [
        ("BRG-6205", "stock"),
        ("SPN-500", "bought"),
    ]
    assert len(archive["quality_feedback"]) == 1 and len(archive["surveys"]) == 2
    assert len(archive["supplier_claims"]) == 1
    kinds = [e["type"] for e in archive["events"]]
    assert kinds[0] == "sale" and kinds.count("psr") == 2 and kinds.count("part") == 2
    moments = [_moment(e["at"]) for e in archive["events"]]
    assert moments == sorted(moments)
    assert "CNC500-0001" in [u["serial_no"] for u in list_archived_units(session)]
    assert "TK-7781" not in [u["serial_no"] for u in list_archived_units(session)]


def test_tool_sets_and_unknown_serials_have_no_archive(session):
    with pytest.raises(ArchiveNotKeptError) as refused:
        service_archive(session, "TK-7781")
    assert "§3.1" in str(refused.value) and refused.value.category == "tool_set"
    with pytest.raises(NotFoundError) as unknown:
        service_archive(session, "NO-SUCH-1")
    assert not isinstance(unknown.value, ArchiveNotKeptError)
