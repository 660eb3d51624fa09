"""Values a form or the registration let through but no record can hold (found trying the product from outside):
each is refused with a 422 naming the field, the task stays open and nothing is written — never a 500, never a
completed task whose parked instance no retry can end (§4.2 registration, §4.6 answer, §5.3 WO and PSR)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import StatementError

from engine.bpmn.scripting import error_text
from engine.platform.registry import unrecordable_value
from engine.records.csi import CSI
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from tests.helpers import ANSWERS
from tests.helpers import QUALITY_COMPLAINT

BEFORE_VISIT = ("analyse_root_cause", "review_csi", "answer_customer", "issue_work_order")
LANE = {"review_csi": "supervisor", "field_visit": "engineer"}


def _count(session: Any, model: Any) -> int:
    session.commit()
    value = session.scalar(sa.select(sa.func.count()).select_from(model))
    session.commit()
    return int(value)


def _task(api: Any, case_id: int, bpmn_id: str) -> dict[str, Any]:
    listed = api(LANE.get(bpmn_id, "manager")).get(f"/api/v1/tasks?case_id={case_id}").get_json()
    return next(t for t in listed if t["bpmn_id"] == bpmn_id)


def _case_at(api: Any, bpmn_id: str) -> tuple[int, dict[str, Any]]:
    """A registered case worked up to the open task `bpmn_id`."""
    case = api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()
    for step in BEFORE_VISIT[: BEFORE_VISIT.index(bpmn_id)] if bpmn_id in BEFORE_VISIT else BEFORE_VISIT:
        task = _task(api, case["id"], step)
        answer = api(LANE.get(step, "manager")).post(
            f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS[step]}
        )
        assert answer.status_code == 200, answer.get_json()
    return case["id"], _task(api, case["id"], bpmn_id)


@pytest.mark.parametrize(
    ("received_at", "code"),
    [
        ("0001-01-01T00:00:00+14:00", "datetime"),  # was a 500: the calendar overflowed before year 1 in UTC
        ("1899-12-31T09:00:00+08:00", "datetime"),
        ("2020-01-02T09:00:00+08:00", "before_sale"),  # the demo SO-2025-0001 was sold in 2025
    ],
)
def test_a_registration_dated_out_of_range_or_before_the_sale_is_refused_naming_received_at(
    api, session, received_at, code
):
    before = _count(session, CSI)
    response = api("manager").post("/api/v1/cases", json={**QUALITY_COMPLAINT, "received_at": received_at})
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["fields"]) == ["received_at"]
    assert _count(session, CSI) == before


@pytest.mark.parametrize(
    ("bpmn_id", "change", "field"),
    [
        ("issue_work_order", {"labour_rate": 1e308}, "labour_rate"),  # was 202 + a parked instance (decimal)
        ("issue_work_order", {"labour_rate": 1e20}, "labour_rate"),  # was stored as given
        (
            "answer_customer",
            {"answered_at": "9999-12-31T23:59:59-12:00"},
            "answered_at",
        ),  # was 202 (SQL in the incident)
        ("answer_customer", {"answered_at": "2099-01-01T10:00:00+08:00"}, "answered_at"),  # the customer was told
        ("field_visit", {"visit_date": "2099-01-01"}, "visit_date"),  # a PSR reports a visit made
        ("field_visit", {"labour_hours": 1e-9}, "labour_hours"),  # was recorded as 0.00 hours
        ("field_visit", {"parts_used": [{"part_no": "BRG-6205", "qty": 2**63, "source": "stock"}]}, "parts_used"),
    ],
)
@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_completion_with_a_value_no_record_holds_is_refused_and_the_task_stays_open(
    api, session, bpmn_id, change, field
):
    case_id, task = _case_at(api, bpmn_id)
    before = (_count(session, ProcessInstance), _count(session, HumanTask))
    user = api(LANE.get(bpmn_id, "manager"))
    response = user.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {**ANSWERS[bpmn_id], **change}})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["fields"], response.get_json()
    assert (_count(session, ProcessInstance), _count(session, HumanTask)) == before
    assert user.get(f"/api/v1/tasks/{task['id']}").get_json()["status"] == "open"
    session.expire_all()
    instance = session.get(ProcessInstance, _instance_id(session, case_id))
    assert instance is not None and instance.status == "running"  # not parked


def _instance_id(session: Any, case_id: int) -> int:
    query = sa.select(ProcessInstance.id).where(ProcessInstance.csi_id == case_id).order_by(ProcessInstance.id)
    return int(session.scalars(query).first())


def test_a_long_value_is_not_echoed_back_in_the_message(api):
    _, task = _case_at(api, "analyse_root_cause")
    data = {**ANSWERS["analyse_root_cause"], "root_cause": "x" * 5000}
    response = api("manager").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert response.status_code == 422
    assert len(response.get_data()) < 1000 and "root_cause" in response.get_json()["fields"]


def test_only_value_conversion_failures_count_as_unrecordable_values():
    import decimal

    overflow = StatementError(
        "bind failed", "UPDATE csi SET answered_at=?", {}, OverflowError("date value out of range")
    )
    assert unrecordable_value(overflow) == "date value out of range"
    assert unrecordable_value(decimal.InvalidOperation()) == "not a valid amount"
    locked = OperationalError("BEGIN", {}, Exception("database is locked"))
    assert unrecordable_value(locked) is None  # a database fault is not the user's value
    assert unrecordable_value(KeyError("csi_id")) is None  # nor is a bug in an operator


def test_incident_texts_keep_the_error_but_not_the_statement_or_its_case_data():
    failed = StatementError(
        "(builtins.OverflowError) date value out of range", "UPDATE csi SET answered_at=?", ("secret",), None
    )
    text = error_text(failed)
    assert "date value out of range" in text and "UPDATE csi" not in text and "secret" not in text
    not_null = Exception(
        'null value in column "phone" violates not-null constraint\nDETAIL:  Failing row contains (13800138000, Zhang).'
    )
    assert error_text(not_null) == 'null value in column "phone" violates not-null constraint'  # PostgreSQL's row


def test_an_unknown_id_of_5000_characters_is_not_echoed_back_whole(api):
    response = api("manager").get("/api/v1/tasks/" + "a" * 5000)
    assert response.status_code == 404
    assert len(response.get_data()) < 1000, len(response.get_data())


def test_a_correction_cannot_date_the_receipt_before_the_sale_either(api, session):
    case = api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()
    change = {"received_at": "2020-01-02T09:00:00+08:00", "reason": "wrong date typed"}
    response = api("manager").patch(f"/api/v1/cases/{case['id']}", json=change)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field_codes"] == {"received_at": "before_sale"}
    session.expire_all()
    assert session.get(CSI, case["id"]).received_at.year > 2020  # unchanged


@pytest.mark.parametrize(
    ("value", "with_time", "accepted"),
    [
        ("2026-11-27T09:30:00+08:00", True, True),
        ("2026-11-27T01:30:00Z", True, True),
        ("2026-11-27t01:30:00z", True, False),  # RFC 3339 allows it, the operators' ISO 8601 parsing does not
        ("9999-12-31T23:59:59-12:00", True, False),  # past year 9999 in UTC
        ("2026-11-27T09:30:00", True, False),  # no offset
        ("2026-11-27", False, True),
        ("1899-12-31", False, False),
        ("2026-02-30", False, False),
    ],
)
def test_form_dates_are_held_to_what_a_record_and_an_operator_can_take(value, with_time, accepted):
    from engine.platform.forms import date_problem

    assert (date_problem(value, with_time=with_time) is None) == accepted


def test_a_correction_that_keeps_the_receipt_and_the_so_is_not_held_to_the_sale_date(api, session):
    """A case registered before the check existed, dated before its sale, can still have its description corrected."""
    case = api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()
    session.expire_all()
    csi = session.get(CSI, case["id"])
    csi.received_at = csi.received_at.replace(year=2020)
    session.commit()
    change = {"description": "主轴异响（更正）", "reason": "typo"}
    response = api("manager").patch(f"/api/v1/cases/{case['id']}", json=change)
    assert response.status_code == 200, response.get_json()
