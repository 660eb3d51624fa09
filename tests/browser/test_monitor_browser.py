"""A manager in real Chromium: the instance list, then an instance's diagram with the active element marked and the
task's SLA badge; the heatmap draws its counts on the diagram."""

from __future__ import annotations

import os

from tests.helpers import do
from tests.helpers import register

SHOTS = os.environ.get("AFTERSALES_SCREENSHOTS")


def test_manager_sees_the_active_element_marked(page, sign_in, session, runtime, calendar, user_named):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    session.commit()
    sign_in("manager")
    page.goto("/monitor/instances")
    page.click(f"a[href='/monitor/instances/{instance.id}']")
    page.wait_for_selector(".mon-canvas-pane[data-ready]")
    # the case diagram: the call activity that holds the root-cause analysis is active, the start event done
    page.wait_for_selector('.djs-element.highlight-active[data-element-id="decide_service_plan"]')
    page.wait_for_selector('.djs-element.highlight-done[data-element-id="case_received"]')
    page.click("[data-diagram-tab='1']")
    active = page.wait_for_selector('.djs-element.highlight-active[data-element-id="analyse_root_cause"]')
    assert active.is_visible()
    badge = page.wait_for_selector(".mon-canvas-pane:not([hidden]) .sla-badge")
    assert badge.is_visible() and badge.inner_text().strip()
    assert csi.csi_no in page.inner_text(".mon-head")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/monitor-instance.png", full_page=True)


def test_heatmap_draws_waiting_counts_on_the_diagram(page, sign_in, session, runtime, calendar, user_named):
    for _ in range(2):
        register(session, runtime, user_named("manager"), calendar)
    csi, _instance = register(session, runtime, user_named("manager"), calendar)
    do(session, runtime, csi.id, "analyse_root_cause", user_named("manager"), calendar)
    session.commit()
    sign_in("director")
    page.goto("/monitor/heatmap")
    page.wait_for_selector(".mon-canvas-pane[data-ready]")
    page.click("[data-diagram-tab='1']")
    page.wait_for_selector(".mon-canvas-pane[data-process-id='decide_service_plan'][data-ready]")
    counts = page.locator(".mon-canvas-pane:not([hidden]) .heat-badge").all_inner_texts()
    assert sorted(counts) == ["1", "2"]
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/monitor-heatmap.png", full_page=True)
