"""A staff member in real Chromium: sign in, open the inbox, fill a task form with a mistake, see it, fix it, submit."""

from __future__ import annotations

import os

from tests.helpers import register

SHOTS = os.environ.get("AFTERSALES_SCREENSHOTS")


def test_staff_fixes_an_inline_error_and_submits(page, sign_in, session, runtime, calendar, user_named):
    csi, _ = register(session, runtime, user_named("manager"), calendar)
    sign_in("manager")
    page.goto("/?tab=available")
    assert page.locator(f"text={csi.csi_no}").first.is_visible()
    page.click("a.task-link:has-text('原因分析')")
    page.fill("textarea[name=root_cause]", "主轴轴承润滑不足导致磨损")
    page.click("button[type=submit]:has-text('完成任务')")
    error = page.locator(".field-error, .error").first
    assert error.is_visible() and "必填" in page.content()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/staff-inline-error.png", full_page=True)
    page.check("input[name=responsibility][value=supplier]")
    page.click("button[type=submit]:has-text('完成任务')")
    page.wait_for_url("**/")  # back to the inbox for the next task (issue 11)
    assert csi.csi_no in page.locator(".flash-success").inner_text()
    session.expire_all()
    assert csi.responsibility == "supplier"


def test_the_inbox_the_start_page_and_the_document_chain_read_well(
    page, sign_in, session, runtime, calendar, user_named
):
    """What a service manager sees every day: the inbox with §4.6 deadlines, the processes to start, a case's chain."""
    from tests.helpers import do
    from tests.helpers import drive_to_dispatch

    people = user_named
    csi, _ = drive_to_dispatch(session, runtime, calendar, people, review={"service_plan": ["field_service"]})
    do(session, runtime, csi.id, "issue_work_order", people("manager"), calendar)
    for _ in range(2):
        register(session, runtime, people("manager"), calendar)
    sign_in("manager")
    page.goto("/?tab=available")
    assert page.locator("table.grid tbody tr").count() >= 2
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/inbox.png", full_page=True)
    page.goto("/processes/")
    assert page.locator(".start-card").first.is_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/start-a-process.png", full_page=True)
    page.goto(f"/cases/{csi.id}")
    assert page.locator("text=WO-").first.is_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/document-chain.png", full_page=True)
