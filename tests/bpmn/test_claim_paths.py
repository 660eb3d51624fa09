"""Path tests of the claim escalation process (§5.5) on the real workflows/ (shipped and renamed): a claim raised by
a visit or on a case runs its own `supplier_claim` instance for Sales — submitted, answered, settled or rejected —
while the round and the case go on without waiting for it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.aftersales.cases.lifecycle import withdraw_case
from engine.aftersales.cases.service import open_items
from engine.aftersales.claims.service import raise_case_claim
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import PermissionDeniedError
from engine.records.process import ProcessInstance
from engine.records.supplier_claim import SupplierClaim
from engine.records.timeline import TimelineEvent
from engine.reports.dashboard import Period
from engine.reports.lists import open_supplier_claims
from tests.helpers import case_tasks
from tests.helpers import do
from tests.helpers import drive_to_dispatch

UNRECOVERABLE = {"old_parts": "unrecoverable", "parts_used": [{"part_no": "BRG-6205", "qty": 2, "source": "bought"}]}


@pytest.fixture
def run(session, runtime, calendar, user_named):
    """`run(csi, bpmn_id, user, **changes)` completes the case's task as that user."""

    def complete(csi, bpmn_id, username, **changes):
        do(session, runtime, csi.id, bpmn_id, user_named(username), calendar, **changes)

    return complete


def visit_raising_a_claim(session, runtime, calendar, user_named, run):
    csi, case = drive_to_dispatch(session, runtime, calendar, user_named)  # responsibility: supplier
    run(csi, "issue_work_order", "manager")
    run(csi, "field_visit", "engineer", **UNRECOVERABLE)
    session.expire_all()
    (claim,) = session.scalars(sa.select(SupplierClaim).where(SupplierClaim.csi_id == csi.id)).all()
    return csi, case, claim


def claim_instance(session, claim):
    session.expire_all()
    return session.scalars(sa.select(ProcessInstance).where(ProcessInstance.business_key == claim.sc_no)).one()


def events(session, csi, kind):
    query = sa.select(TimelineEvent).where(TimelineEvent.csi_id == csi.id, TimelineEvent.kind == kind)
    return list(session.scalars(query))


def test_a_visit_claim_runs_beside_the_round_until_accepted_and_settled(session, runtime, calendar, user_named, run):
    csi, case, claim = visit_raising_a_claim(session, runtime, calendar, user_named, run)
    instance = claim_instance(session, claim)
    assert instance.process_id == "supplier_claim" and instance.parent_instance_id == case.id
    assert instance.status == "running" and claim.status == "open"
    rounds = session.scalars(
        sa.select(ProcessInstance).where(
            ProcessInstance.csi_id == csi.id, ProcessInstance.process_id == "field_visit_round"
        )
    ).all()
    assert [r.status for r in rounds] == ["completed"]  # the round finished without waiting for the claim
    assert case_tasks(session, csi.id) == ["close_case", "send_claim"] and csi.status == "awaiting_closure"
    assert open_items(session, csi) == [claim.sc_no]
    run(csi, "send_claim", "sales")
    run(csi, "claim_answer", "sales")
    session.expire_all()
    assert claim.status == "accepted" and claim.accepted_amount == Decimal("1200.00") and claim.closed_at is None
    with pytest.raises(InvalidInputError) as refused:  # a settlement still to come is not recorded as made
        run(csi, "claim_settlement", "sales", settled_on="2099-01-04")
    session.rollback()
    assert refused.value.fields["settled_on"].code == "future"
    assert open_items(session, csi) == [claim.sc_no]  # accepted, not yet settled: still open (§5.5)
    run(csi, "claim_settlement", "sales")
    session.expire_all()
    assert claim.status == "settled" and claim.recovered_amount == Decimal("1200.00") and claim.closed_at
    assert claim.settlement_kind == "credit_note" and claim.settlement_reference == "CN-LY-0917"
    assert claim_instance(session, claim).status == "completed"
    assert csi.status == "awaiting_closure" and open_items(session, csi) == []  # the claim never moves the case
    for kind in (
        "supplier_claim.raised",
        "supplier_claim.submitted",
        "supplier_claim.answered",
        "supplier_claim.settled",
    ):
        assert len(events(session, csi, kind)) == 1, kind
    run(csi, "close_case", "manager", open_items_reason="")
    session.expire_all()
    assert csi.status == "closed"


def test_a_partly_accepted_claim_is_settled_for_the_accepted_amount(session, runtime, calendar, user_named, run):
    csi, _, claim = visit_raising_a_claim(session, runtime, calendar, user_named, run)
    run(csi, "send_claim", "sales", claim_amount=1500.0)
    run(csi, "claim_answer", "sales", supplier_answer="partly_accepted", accepted_amount=900.0)
    session.expire_all()
    assert claim.status == "partly_accepted" and claim.accepted_amount == Decimal("900.00")
    listed = open_supplier_claims(session, Period.last_weeks(date.today()), utcnow())
    row = dict(zip(listed.columns, next(r for r in listed.rows if r[0] == claim.sc_no), strict=True))
    assert (row["status"], row["supplier_code"], row["supplier"]) == (
        "partly_accepted",
        "S-BRG",
        "洛阳精密轴承有限公司",
    )
    assert (row["claim_amount"], row["accepted_amount"], row["recovered_amount"]) == (
        Decimal("1500.00"),
        Decimal("900.00"),
        None,
    )
    with pytest.raises(InvalidInputError) as refused:
        run(csi, "claim_settlement", "sales", recovered_amount=1000.0)  # more than accepted
    session.rollback()
    assert "recovered_amount" in refused.value.fields
    run(csi, "claim_settlement", "sales", recovered_amount=900.0, settlement_kind="replacement")
    session.expire_all()
    assert claim.status == "settled" and claim.recovered_amount == Decimal("900.00") and claim.closed_at
    listed = open_supplier_claims(session, Period.last_weeks(date.today()), utcnow())
    assert claim.sc_no not in [r[0] for r in listed.rows]  # settled: no longer open (§5.5)


def test_a_rejected_claim_is_closed_with_the_suppliers_reason(session, runtime, calendar, user_named, run):
    csi, _, claim = visit_raising_a_claim(session, runtime, calendar, user_named, run)
    run(csi, "send_claim", "sales")
    with pytest.raises(InvalidInputError) as refused:
        run(csi, "claim_answer", "sales", supplier_answer="rejected")
    session.rollback()
    assert "rejection_reason" in refused.value.fields
    run(csi, "claim_answer", "sales", supplier_answer="rejected", rejection_reason="超出质保期，供方不予受理")
    session.expire_all()
    assert claim.status == "rejected" and claim.closed_at and claim.rejection_reason
    assert claim_instance(session, claim).status == "completed"
    assert case_tasks(session, csi.id) == ["close_case"] and open_items(session, csi) == []


def test_the_claim_forms_refuse_bad_input_and_write_nothing(session, runtime, calendar, user_named, run):
    csi, _, claim = visit_raising_a_claim(session, runtime, calendar, user_named, run)
    for changes, field in (
        ({"supplier_code": "NOPE"}, "supplier_code"),
        ({"supplier_code": "S-OLD"}, "supplier_code"),  # inactive
        ({"parts": [{"part_no": "已按规定处理", "qty": 1}]}, "parts"),
        ({"claim_amount": -5.0}, "claim_amount"),
        ({"claim_amount": 0.001}, "claim_amount"),  # fen are the smallest unit: no silent rounding to 0.00
    ):
        with pytest.raises(InvalidInputError) as refused:
            run(csi, "send_claim", "sales", **changes)
        session.rollback()
        assert field in refused.value.fields, changes
    session.expire_all()
    assert claim.status == "open" and claim.supplier_id is None
    run(csi, "send_claim", "sales")
    for amount, code in ((5000.0, "above_claimed"), (1200.0, "not_partial"), (0, "not_partial"), (9.999, "cents")):
        with pytest.raises(InvalidInputError) as refused:  # partly accepted: a part of the claimed 1200.00
            run(csi, "claim_answer", "sales", supplier_answer="partly_accepted", accepted_amount=amount)
        session.rollback()
        assert refused.value.fields["accepted_amount"].code == code, amount
    session.expire_all()
    assert claim.status == "submitted" and claim.accepted_amount is None


def test_a_claim_raised_on_a_case_starts_its_process(session, runtime, calendar, user_named):
    csi, case = drive_to_dispatch(session, runtime, calendar, user_named)
    body = {"part_no": "SEAL-40", "quantity": 3, "reason": "油封老化渗油，无法回收", "supplier_code": "S-SEAL"}
    with pytest.raises(PermissionDeniedError):
        raise_case_claim(session, runtime, user_named("engineer"), csi.id, body, calendar=calendar)
    for bad, field in (
        ({"part_no": "X-UNKNOWN"}, "part_no"),
        ({"quantity": 0}, "quantity"),
        ({"reason": " "}, "reason"),
        ({"supplier_code": "NOPE"}, "supplier_code"),
        ({"claim_amount": -1}, "claim_amount"),
    ):
        with pytest.raises(InvalidInputError) as refused:
            raise_case_claim(session, runtime, user_named("manager"), csi.id, {**body, **bad}, calendar=calendar)
        session.rollback()
        assert field in refused.value.fields, bad
    assert session.scalars(sa.select(SupplierClaim).where(SupplierClaim.csi_id == csi.id)).all() == []
    claim = raise_case_claim(session, runtime, user_named("manager"), csi.id, body, calendar=calendar)
    session.commit()
    assert claim.parts == [{"part_no": "SEAL-40", "qty": 3}] and claim.supplier == "宁波密封件厂"
    assert claim.wo_id is None and claim.csi_snapshot["csi_no"] == csi.csi_no
    assert claim_instance(session, claim).parent_instance_id == case.id
    assert "send_claim" in case_tasks(session, csi.id)


def test_no_claim_is_raised_on_a_closed_case(session, runtime, calendar, user_named, run):
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    run(csi, "issue_work_order", "manager")
    run(csi, "field_visit", "engineer")
    run(csi, "close_case", "manager")
    body = {"part_no": "SEAL-40", "quantity": 1, "reason": "渗油"}
    with pytest.raises(ConflictError):
        raise_case_claim(session, runtime, user_named("manager"), csi.id, body, calendar=calendar)


def test_withdrawing_the_case_ends_its_claim_process_and_closes_the_claim(session, runtime, calendar, user_named):
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    body = {"part_no": "SEAL-40", "quantity": 1, "reason": "渗油，无法回收"}
    claim = raise_case_claim(session, runtime, user_named("manager"), csi.id, body, calendar=calendar)
    session.commit()
    withdraw_case(session, runtime, user_named("manager"), csi.id, "客户撤回投诉", calendar=calendar)
    session.commit()
    session.expire_all()
    assert claim_instance(session, claim).status == "terminated"
    assert claim.closed_at is not None and claim.status == "cancelled"  # closed; nobody is reminded of it
    (ended,) = events(session, csi, "supplier_claim.ended")
    assert ended.data["reason"] == "客户撤回投诉"
    assert "send_claim" not in case_tasks(session, csi.id)
