"""Correcting a registration (issue 9 item 2, §4.2, §3.2, §4.6): checks again, recomputes, re-arms the timer."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest
import sqlalchemy as sa
import time_machine

from engine.aftersales.intake.correction import correct_registration
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import PermissionDeniedError
from engine.records.process import ProcessInstance
from engine.records.timeline import TimelineEvent
from tests.helpers import case_tasks
from tests.helpers import do
from tests.helpers import register

MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 Shanghai: §4.6 due Thursday 26th 17:30
TUESDAY = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # due Friday 27th 17:30


def corrected(session, csi_id):
    session.expire_all()
    query = sa.select(TimelineEvent).where(TimelineEvent.csi_id == csi_id, TimelineEvent.kind == "csi.corrected")
    return list(session.scalars(query))


def test_a_wrong_so_and_customer_are_corrected_with_coverage_recomputed(session, runtime, calendar, user_named):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    assert csi.coverage == "in_warranty"
    body = {"customer_code": "C002", "origin_so_no": "SO-2022-0042", "serial_no": "CNC500-0042", "reason": "SO#录错"}
    correct_registration(session, runtime, user_named("manager"), csi.id, body, calendar=calendar)
    session.commit()
    session.expire_all()
    assert (csi.origin_so_no, csi.serial_no, csi.customer.code) == ("SO-2022-0042", "CNC500-0042", "C002")
    assert csi.coverage == "out_of_warranty" and instance.status == "running"
    assert case_tasks(session, csi.id) == ["analyse_root_cause"]  # the case keeps its place
    [event] = corrected(session, csi.id)
    assert event.data["reason"] == "SO#录错" and event.data["restarted"] is False
    assert event.data["changes"]["origin_so_no"] == {"before": "SO-2025-0001", "after": "SO-2022-0042"}
    assert event.data["changes"]["coverage"] == {"before": "in_warranty", "after": "out_of_warranty"}
    do(session, runtime, csi.id, "analyse_root_cause", user_named("manager"), calendar)  # the DMN sees the new inputs
    assert case_tasks(session, csi.id) == ["review_csi"]


def test_a_corrected_receipt_time_moves_the_deadline_and_re_arms_the_timer(session, runtime, calendar, user_named):
    with time_machine.travel(TUESDAY, tick=False):
        csi, instance = register(session, runtime, user_named("manager"), calendar, received_at=TUESDAY)
        assert instance.next_timer_due == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
        body = {"received_at": "2026-11-23T09:00:00+08:00", "reason": "电话实为周一收到"}
        correct_registration(session, runtime, user_named("supervisor"), csi.id, body, calendar=calendar)
        session.commit()
    session.expire_all()
    assert csi.received_at == MONDAY
    assert csi.plan_due_at == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert instance.next_timer_due == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert "plan_due_at" in corrected(session, csi.id)[0].data["changes"]


def test_a_corrected_kind_restarts_the_case_process_on_its_new_path(session, runtime, calendar, user_named):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    body = {"kind": "service_request", "reason": "并非质量问题，而是维修请求"}
    correct_registration(session, runtime, user_named("manager"), csi.id, body, calendar=calendar)
    session.commit()
    session.expire_all()
    instances = session.scalars(sa.select(ProcessInstance).where(ProcessInstance.csi_id == csi.id)).all()
    assert [i.status for i in instances] == ["terminated", "running"]
    assert csi.kind == "service_request" and csi.status == "under_review"  # not cancelled
    assert case_tasks(session, csi.id) == ["review_csi"]
    assert corrected(session, csi.id)[0].data["restarted"] is True


@pytest.mark.parametrize(
    ("username", "body", "error", "field"),
    [
        ("engineer", {"description": "x", "reason": "r"}, PermissionDeniedError, None),
        ("manager", {"description": "新描述"}, InvalidInputError, "reason"),
        ("manager", {"reason": "nothing"}, InvalidInputError, "body"),
        ("manager", {"channel": "mail", "reason": "r"}, InvalidInputError, "channel"),
        ("manager", {"origin_so_no": "SO-NOPE", "reason": "r"}, InvalidInputError, "origin_so_no"),
        ("manager", {"origin_so_no": None, "reason": "r"}, InvalidInputError, "origin_so_no"),  # §4.2
        ("manager", {"serial_no": "CNC500-0042", "reason": "r"}, InvalidInputError, "serial_no"),
        ("manager", {"customer_code": "C002", "reason": "r"}, InvalidInputError, "origin_so_no"),
        ("manager", {"kind": "training_request", "reason": "r"}, InvalidInputError, "kind"),
        ("manager", {"received_at": "2099-01-01T00:00:00+08:00", "reason": "r"}, InvalidInputError, "received_at"),
    ],
)
def test_a_bad_correction_names_the_field_and_changes_nothing(
    session, runtime, calendar, user_named, username, body, error, field
):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    before = (csi.origin_so_no, csi.customer_id, csi.kind, csi.plan_due_at, instance.state_json)
    with pytest.raises(error) as raised:
        correct_registration(session, runtime, user_named(username), csi.id, body, calendar=calendar)
    session.rollback()
    session.expire_all()
    if field:
        assert field in raised.value.fields
    assert (csi.origin_so_no, csi.customer_id, csi.kind, csi.plan_due_at, instance.state_json) == before
    assert corrected(session, csi.id) == []


def test_no_correction_once_the_plan_is_decided(session, runtime, calendar, user_named):
    csi, _ = register(session, runtime, user_named("manager"), calendar)
    do(session, runtime, csi.id, "analyse_root_cause", user_named("manager"), calendar)
    do(session, runtime, csi.id, "review_csi", user_named("supervisor"), calendar)
    with pytest.raises(ConflictError):
        correct_registration(
            session, runtime, user_named("manager"), csi.id, {"description": "x", "reason": "r"}, calendar=calendar
        )
