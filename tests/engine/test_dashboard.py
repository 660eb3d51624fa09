"""Manager dashboard figures (§2.1) from real cases driven through the engine at set times (SQLite; PostgreSQL once).

Five quality complaints on a unit sold 2026-06-01 (in warranty, 24 months), times in Shanghai:
- A: received Mon 16 Nov, plan decided Tue 17 (in time), WO, first visit solved with a quality problem (QF open),
  closed Fri 20.
- B: received Mon 16 Nov, the §4.6 timer fires Thu 19 17:31 (reason recorded), plan decided Fri 20 (late), WO,
  visit 1 not solved → technical support (§5.8) → visit 2 solved with an unrecoverable supplier part → claim 1,200.
- C: received Tue 24 Nov, still analysing (within its limit: pending).
- D: received Mon 2 Nov, never analysed: breached at the same timer run, no reason recorded.
- E: received Tue 17 Nov, plan decided Wed 18 (in time), parts only: 2 × BRG-6205 at 380, free.
Dashboard "now": Wed 25 Nov 20:00; period 2 Nov – 25 Nov (ISO weeks 45–48).
"""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from engine.calendar import load_calendar
from engine.errors import InvalidInputError
from engine.platform.timers import fire_due_timers
from engine.records.master import Customer
from engine.records.master import Product
from engine.records.master import SalesOrder
from engine.records.master import SalesOrderLine
from engine.reports.dashboard import Period
from engine.reports.dashboard import dashboard
from tests.helpers import do
from tests.helpers import register

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=SHANGHAI)
PERIOD = Period(date(2026, 11, 2), date(2026, 11, 25), SHANGHAI)
UNIT = {"origin_so_no": "SO-T-0001", "serial_no": "CNC500-T001"}


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A moment in November 2026, Shanghai time, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def unit(session):
    """A CNC500 sold on 2026-06-01: in warranty through November 2026 whatever day the tests run."""
    product = session.scalars(sa.select(Product).where(Product.code == "P-CNC500")).one()
    customer = session.scalars(sa.select(Customer).where(Customer.code == "C001")).one()
    order = SalesOrder(so_no="SO-T-0001", customer_id=customer.id, sale_date=date(2026, 6, 1))
    order.lines = [SalesOrderLine(product_id=product.id, serial_no="CNC500-T001", qty=1)]
    session.add(order)
    session.commit()


@pytest.fixture
def figures(session, runtime, calendar, user_named, sessions, unit):
    """Drive the five cases, then compute the dashboard as of NOW."""
    manager, supervisor, engineer = user_named("manager"), user_named("supervisor"), user_named("engineer")

    def step(when, csi, bpmn_id, user, **changes):
        with time_machine.travel(when, tick=False):
            do(session, runtime, csi.id, bpmn_id, user, calendar, **changes)

    def new(when):
        with time_machine.travel(when, tick=False):
            csi, _ = register(session, runtime, manager, calendar, received_at=when, **UNIT)
        return csi

    new(at(2, 10))  # D
    a_case, b_case = new(at(16, 10)), new(at(16, 11))
    e_case = new(at(17, 9))
    for csi, day in ((a_case, 17), (e_case, 18)):
        step(at(day, 9), csi, "analyse_root_cause", manager)
        plan = {"service_plan": ["parts_only"]} if csi is e_case else {}
        step(at(day, 10), csi, "review_csi", supervisor, **plan)
        step(at(day, 11), csi, "answer_customer", manager)
    step(at(18, 14), e_case, "issue_parts_so", manager)
    step(at(18, 9), a_case, "issue_work_order", manager)
    step(at(19, 15), a_case, "field_visit", engineer, quality_problem_found=True, quality_problem_description="异响")
    step(at(20, 9), a_case, "close_case", manager)

    with time_machine.travel(at(19, 17, 31), tick=False):
        assert fire_due_timers(sessions, runtime, load_calendar) == 2  # B and D breach §4.6
    session.expire_all()
    step(at(19, 18), b_case, "handle_overdue_plan", supervisor)  # reason: 等待供应商检测报告
    step(at(20, 9), b_case, "analyse_root_cause", manager)
    step(at(20, 16), b_case, "review_csi", supervisor)
    step(at(20, 17), b_case, "answer_customer", manager)
    step(at(21, 9), b_case, "issue_work_order", manager)
    step(at(23, 10), b_case, "field_visit", engineer, outcome="unsolved", satisfaction="neutral")
    step(at(23, 15), b_case, "technical_support", manager)
    step(
        at(24, 10),
        b_case,
        "field_visit",
        engineer,
        old_parts="unrecoverable",
        parts_used=[{"part_no": "BRG-6205", "qty": 2, "source": "stock"}],
    )
    step(at(24, 16), b_case, "send_claim", user_named("sales"))
    new(at(24, 10))  # C
    session.expire_all()
    return dashboard(session, PERIOD, NOW.astimezone(UTC))


def test_default_period_is_the_last_twelve_iso_weeks_up_to_today():
    period = Period.last_weeks(date(2026, 11, 25))  # a Wednesday
    assert (period.first, period.last) == (date(2026, 9, 7), date(2026, 11, 25))
    weeks = period.weeks()
    assert len(weeks) == 12 and weeks[0].label == "2026-W37" and weeks[-1].label == "2026-W48"
    assert weeks[0].start == datetime(2026, 9, 6, 16, 0, tzinfo=UTC)  # Monday 00:00 in Shanghai
    assert weeks[-1].end == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # clipped: the day after the last day


def test_period_from_the_query_string():
    today = date(2026, 11, 25)
    assert Period.parse("2026-01-01", "2026-01-31", today).weeks()[0].label == "2026-W01"  # Thursday: ISO week 1
    assert Period.parse("", "", today) == Period.last_weeks(today)
    for first, last in (("2026-02-30", ""), ("2026-03-01", "2026-02-01"), ("2020-01-01", "2026-01-01"), ("x", "")):
        with pytest.raises(InvalidInputError):
            Period.parse(first, last, today)


def test_weeks_are_iso_weeks_of_the_period(figures):
    assert [w["label"] for w in figures["weeks"]] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    assert figures["period"] == {"from": "2026-11-02", "to": "2026-11-25", "timezone": "Asia/Shanghai"}


def test_sla_compliance_per_week_and_per_supervisor_with_the_recorded_reason(figures):
    sla = figures["sla"]
    assert [(w["met"], w["breached"]) for w in sla["weeks"]] == [(0, 1), (0, 0), (2, 1), (0, 0)]  # C is pending
    assert (sla["met"], sla["breached"], sla["rate"]) == (2, 2, 0.5)
    assert [(s["username"], s["name"], s["met"], s["breached"]) for s in sla["supervisors"]] == [
        ("supervisor", "张主管", 2, 1),
        (None, None, 0, 1),  # D: never reviewed
    ]
    assert sla["supervisors"][0]["rate"] == 0.6667
    assert (sla["explained"], sla["unexplained"]) == (1, 1)
    assert sla["reasons"] == [{"reason": "等待供应商检测报告", "cases": 1}]
    assert len(sla["breaches"]) == 2
    b_row = next(b for b in sla["breaches"] if b["plan_decided_at"])
    assert b_row["reason"] == "等待供应商检测报告" and b_row["reviewed_by"] == "张主管"
    assert b_row["late_hours"] == 22.5  # due Thu 17:30, decided Fri 16:00
    d_row = next(b for b in sla["breaches"] if not b["plan_decided_at"])
    assert d_row["reason"] is None and d_row["status"] == "analysing"


def test_throughput_opened_and_closed_per_week(figures):
    assert figures["throughput"]["opened"] == [1, 0, 3, 1]
    assert figures["throughput"]["closed"] == [0, 0, 1, 0]


def test_ageing_of_open_cases_in_calendar_days(figures):
    ageing = figures["ageing"]
    assert ageing["totals"] == [1, 0, 2, 1, 0]  # C 1 day; B, E 8-9 days; D 23 days
    assert {row["status"]: row["counts"] for row in ageing["by_status"]} == {
        "analysing": [1, 0, 0, 1, 0],
        "awaiting_closure": [0, 0, 2, 0, 0],
    }
    assert (ageing["open"], ageing["undecided_overdue"]) == (4, 1)


def test_backlog_by_step_and_lane(figures):
    steps = {(s["bpmn_id"], s["lane"]): (s["open"], s["overdue"]) for s in figures["backlog"]["steps"]}
    assert steps == {
        ("analyse_root_cause", "service_manager"): (2, 1),  # C in time, D past its §4.6 due time
        ("handle_overdue_plan", "service_supervisor"): (1, 0),  # D: no reason yet
        ("close_case", "service_manager"): (2, 0),  # B and E
        ("quality_feedback_review", "engineering_qc"): (1, 0),  # A's QAHRC0722C
        ("claim_answer", "sales"): (1, 0),  # B's claim waits for the supplier's answer (§5.5)
    }
    lanes = {row["lane"]: (row["open"], row["overdue"]) for row in figures["backlog"]["lanes"]}
    assert lanes == {"service_manager": (4, 1), "service_supervisor": (1, 0), "engineering_qc": (1, 0), "sales": (1, 0)}


def test_first_visit_fix_rate_and_escalations(figures):
    visits = figures["visits"]
    assert (visits["visits"], visits["first_visits"], visits["first_fixed"], visits["fix_rate"]) == (3, 2, 1, 0.5)
    assert [w["first_visits"] for w in visits["weeks"]] == [0, 0, 1, 1]
    escalations = figures["escalations"]
    assert escalations["escalated_visits"] == [0, 0, 0, 1]
    assert (escalations["total_unsolved"], escalations["renegotiated_cases"], escalations["renegotiations"]) == (
        1,
        1,
        1,
    )


def test_quality_feedback_and_surveys(figures):
    feedback = figures["quality_feedback"]
    assert {row["status"]: row["counts"] for row in feedback["by_status"]} == {
        "submitted": [0, 0, 1, 0],
        "closed": [0, 0, 0, 0],
        "rejected": [0, 0, 0, 0],
    }
    assert (feedback["open_now"], feedback["open_over_30_days"]) == (1, 0)
    surveys = figures["surveys"]
    assert {row["level"]: row["surveys"] for row in surveys["levels"]} == {
        "very_satisfied": 0,
        "satisfied": 2,
        "neutral": 1,
        "dissatisfied": 0,
        "very_dissatisfied": 0,
    }
    assert (surveys["total"], surveys["satisfied_rate"], surveys["dissatisfied"]) == (3, 0.6667, 0)


def test_warranty_cost_by_product_responsibility_and_supplier(figures):
    cost = figures["warranty_cost"]
    # labour: A 6.5 h + B 2 × 6.5 h at 200/h; parts: E's free SO, 2 × 380
    expected = {"labour": 3900.0, "parts": 760.0, "total": 4660.0, "charged": 0.0}
    assert cost["by_product"] == [{"key": "P-CNC500", **expected, "name": "CNC500 数控加工中心"}]
    assert cost["by_responsibility"] == [{"key": "supplier", **expected}]
    assert cost["by_coverage"] == [{"key": "in_warranty", **expected}]
    claim = {"supplier": "洛阳精密轴承有限公司", "claims": 1, "claimed": 1200.0, "open": 1, "accepted": 0}
    claim["rejected"] = 0
    assert cost["by_supplier"] == [{**claim, "labour": 2600.0, "parts": 0.0, "total": 2600.0}]  # B's two visits
    assert cost["totals"] == {**expected, "claimed": 1200.0}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_same_figures_on_postgresql(figures):
    """Every figure above, once, on PostgreSQL (the queries are portable: no dialect-only function)."""
    test_weeks_are_iso_weeks_of_the_period(figures)
    test_sla_compliance_per_week_and_per_supervisor_with_the_recorded_reason(figures)
    test_throughput_opened_and_closed_per_week(figures)
    test_ageing_of_open_cases_in_calendar_days(figures)
    test_backlog_by_step_and_lane(figures)
    test_first_visit_fix_rate_and_escalations(figures)
    test_quality_feedback_and_surveys(figures)
    test_warranty_cost_by_product_responsibility_and_supplier(figures)


def test_an_so_keeps_the_value_of_its_lines_beside_them():
    """Issue 12: the dashboard sums `parts_value` in SQL; it follows every write of the lines (§2.1 warranty cost)."""
    from decimal import Decimal

    from engine.records.service_sales_order import ServiceSalesOrder

    order = ServiceSalesOrder(lines=[{"part_no": "BRG-6205", "qty": 2, "unit_price": 380.0}])
    assert order.parts_value == Decimal("760.00")
    order.lines = [{"part_no": "X", "qty": 3, "unit_price": "12.5"}, {"part_no": "Y", "qty": "two"}, "not a line"]
    assert order.parts_value == Decimal("37.50")
    order.lines = []
    assert order.parts_value == Decimal("0.00")
