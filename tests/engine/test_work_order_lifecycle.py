"""Work orders (issue 9 item 6, §5.3, §2.6): cancel (the round ends, the case moves on), reschedule, and the checks
a WO's issue must pass."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.aftersales.visits.lifecycle import cancel_work_order
from engine.aftersales.visits.lifecycle import reschedule_work_order
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import PermissionDeniedError
from engine.records.timeline import TimelineEvent
from engine.records.work_order import WorkOrder
from tests.helpers import case_tasks
from tests.helpers import do
from tests.helpers import drive_to_dispatch


def issued(session, runtime, calendar, user_named):
    csi, instance = drive_to_dispatch(session, runtime, calendar, user_named)
    do(session, runtime, csi.id, "issue_work_order", user_named("manager"), calendar)
    return csi, session.scalars(sa.select(WorkOrder).where(WorkOrder.csi_id == csi.id)).one()


def test_cancelling_a_work_order_ends_its_round_and_the_case_moves_on(session, runtime, calendar, user_named):
    csi, work_order = issued(session, runtime, calendar, user_named)
    with pytest.raises(InvalidInputError):
        cancel_work_order(session, runtime, user_named("manager"), work_order.wo_no, "", calendar=calendar)
    session.rollback()
    with pytest.raises(PermissionDeniedError):
        cancel_work_order(session, runtime, user_named("engineer"), work_order.wo_no, "r", calendar=calendar)
    session.rollback()
    cancel_work_order(session, runtime, user_named("supervisor"), work_order.wo_no, "顾客取消上门", calendar=calendar)
    session.commit()
    session.expire_all()
    assert work_order.status == "cancelled" and work_order.cancel_reason == "顾客取消上门"
    assert case_tasks(session, csi.id) == ["close_case"] and csi.status != "cancelled"
    with pytest.raises(ConflictError):
        cancel_work_order(session, runtime, user_named("manager"), work_order.wo_no, "again", calendar=calendar)


def test_rescheduling_moves_the_planned_date_with_a_reason(session, runtime, calendar, user_named):
    _, work_order = issued(session, runtime, calendar, user_named)
    for body, field in (
        ({"planned_date": "2099-01-05"}, "reason"),
        ({"planned_date": "2020-01-05", "reason": "r"}, "planned_date"),
        ({"planned_date": "soon", "reason": "r"}, "planned_date"),
    ):
        with pytest.raises(InvalidInputError) as refused:
            reschedule_work_order(session, user_named("manager"), work_order.wo_no, body)
        assert field in refused.value.fields
        session.rollback()
    reschedule_work_order(
        session, user_named("manager"), work_order.wo_no, {"planned_date": "2099-01-05", "reason": "顾客要求改期"}
    )
    session.commit()
    assert work_order.planned_date.isoformat() == "2099-01-05"
    event = session.scalars(sa.select(TimelineEvent).where(TimelineEvent.kind == "wo.rescheduled")).one()
    assert event.data["before"] == "2026-12-01" and event.message == "顾客要求改期"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"engineers": ["nobody"]}, "engineers"),
        ({"engineers": ["qc"]}, "engineers"),  # not an engineer: temporary staff are assigned later (§2.6)
        ({"planned_date": "2020-01-06", "planned_date_reason": ""}, "planned_date_reason"),
        ({"labour_rate": 0}, "labour_rate"),
    ],
)
def test_a_work_order_needs_real_engineers_a_reasoned_past_date_and_a_rate(
    session, runtime, calendar, user_named, changes, field
):
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    with pytest.raises(InvalidInputError) as refused:
        do(session, runtime, csi.id, "issue_work_order", user_named("manager"), calendar, **changes)
    assert field in refused.value.fields
    session.rollback()
    assert session.scalars(sa.select(WorkOrder).where(WorkOrder.csi_id == csi.id)).all() == []
