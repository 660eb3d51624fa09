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
    page.click("text=原因分析")
    page.fill("textarea[name=root_cause]", "主轴轴承润滑不足导致磨损")
    page.click("button[type=submit]:has-text('完成任务')")
    error = page.locator(".field-error, .error").first
    assert error.is_visible() and "必填" in page.content()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/staff-inline-error.png", full_page=True)
    page.check("input[name=responsibility][value=supplier]")
    page.click("button[type=submit]:has-text('完成任务')")
    page.wait_for_url(f"**/cases/{csi.id}")
    assert "评审" in page.content()
    session.expire_all()
    assert csi.responsibility == "supplier"
