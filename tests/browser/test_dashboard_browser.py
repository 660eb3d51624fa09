"""The director in real Chromium: the dashboard draws its Chart.js charts from /dashboard/data with non-empty data."""

from __future__ import annotations

import os
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from tests.helpers import do
from tests.helpers import drive_to_dispatch
from tests.helpers import register

SHOTS = os.environ.get("AFTERSALES_SCREENSHOTS")
CHARTS_DRAWN = """() => {
  const canvases = [...document.querySelectorAll('canvas[data-chart]')];
  return canvases.length > 0 && canvases.every((c) => window.Chart && Chart.getChart(c));
}"""
SIZES = """() => Object.fromEntries([...document.querySelectorAll('canvas[data-chart]')].map((c) => {
  const chart = Chart.getChart(c);
  return [c.dataset.chart, chart.data.datasets.map((d) => d.data.filter((v) => v !== null && v !== 0).length)];
}))"""


def test_director_sees_the_charts_drawn_with_data(page, sign_in, session, runtime, calendar, user_named):
    people = user_named
    csi, _ = drive_to_dispatch(session, runtime, calendar, people)  # decided in time
    do(session, runtime, csi.id, "issue_work_order", people("manager"), calendar)
    do(
        session,
        runtime,
        csi.id,
        "field_visit",
        people("engineer"),
        calendar,
        outcome="unsolved",
        satisfaction="neutral",
    )
    do(session, runtime, csi.id, "technical_support", people("manager"), calendar)
    do(session, runtime, csi.id, "field_visit", people("engineer"), calendar)
    late, _ = register(
        session, runtime, people("manager"), calendar, received_at=datetime.now(UTC) - timedelta(days=15)
    )
    do(session, runtime, late.id, "handle_overdue_plan", people("supervisor"), calendar)
    session.commit()

    sign_in("director")
    page.click("nav.mainnav >> text=看板")
    page.wait_for_url("**/dashboard")
    page.wait_for_function(CHARTS_DRAWN, timeout=15_000)
    sizes = page.evaluate(SIZES)
    assert len(sizes) == 11
    assert sizes["sla-weeks"][0] >= 1 and sizes["sla-weeks"][1] >= 1  # in time and late bars
    assert sizes["sla-supervisors"] == [1]
    assert sizes["throughput"][0] >= 1
    assert sum(sizes["ageing"]) >= 1  # one dataset per status of the open cases
    assert sum(sizes["backlog-steps"]) >= 1 and sizes["backlog-lanes"][0] >= 1
    assert sizes["visits"][1] >= 1  # escalated visits (the fix rate is 0: the first visit did not solve it)
    assert sizes["surveys"] == [2]  # neutral and satisfied
    assert sizes["cost-product"][0] == 1  # labour on the CNC500
    first = page.evaluate("Chart.getChart(document.querySelector('canvas[data-chart=sla-weeks]')).data.datasets[0]")
    assert len(first["data"]) == 12  # one bar per ISO week of the default period

    page.click("#sla-data > summary")  # the numbers a click away
    assert page.locator("#sla-data table").first.is_visible()
    assert page.locator("text=等待供应商检测报告").first.is_visible()  # the recorded reason of the late plan
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/dashboard.png", full_page=True)
