"""Issue 11 in real Chromium: errors in the user's language, print views, the phone, evidence, comments.

Each test looks at desktop (1366 px) and phone (390 px) width; AFTERSALES_SCREENSHOTS=<dir> keeps the pictures.
"""

from __future__ import annotations

import os
from typing import Any

SHOTS = os.environ.get("AFTERSALES_SCREENSHOTS")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def shoot(page: Any, name: str) -> None:
    """Screenshots at desktop and phone width (when AFTERSALES_SCREENSHOTS is set); the page must not scroll sideways
    on the phone."""
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        if label == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{name}: {overflow}px sideways scroll at 390px"
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_errors_read_in_the_users_language(page, sign_in):
    sign_in("manager")
    page.goto("/cases/9999")
    assert "案件 9999 不存在。" in page.content() and "does not exist" not in page.content()
    shoot(page, "error-404-case")
    page.goto("/admin/users")
    assert "You don't have the permission" not in page.content() and "您的角色" in page.content()
    shoot(page, "error-403")


def test_record_sheets_print_on_a4_and_read_on_a_phone(page, sign_in, session, runtime, calendar, user_named):
    from engine.reports.chain import document_chain
    from tests.scenarios import field_service_case

    csi = field_service_case(session, runtime, calendar, user_named)
    chain = document_chain(session, csi)
    session.commit()
    sign_in("manager")
    for record_type in ("wo", "psr", "quality-feedback", "survey"):
        number = chain[record_type.replace("-", "_")][0]["number"]
        page.goto(f"/records/{record_type}/{number}")
        page.click(f"a[href='/records/{record_type}/{number}/print']")
        page.wait_for_url(f"**/records/{record_type}/{number}/print")
        assert page.locator("table.sign").is_visible()
        shoot(page, f"print-{record_type}")
        page.emulate_media(media="print")
        assert not page.locator(".toolbar").is_visible()  # the toolbar stays off the paper
        page.emulate_media(media="screen")
