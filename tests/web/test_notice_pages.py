"""The bell, my notices and the administrator's outbox pages (issue 10)."""

from __future__ import annotations

import sqlalchemy as sa

from engine.platform import admin_actions
from engine.records.notification import OutboxMessage
from tests.helpers import case_task
from tests.helpers import register
from tests.web.test_pages_flow import browser
from tests.web.test_pages_flow import sign_in
from tests.web.test_pages_flow import submit
from tests.web.test_pages_flow import text_of


def test_a_task_given_to_me_rings_the_bell_until_i_read_it(app, session, runtime, calendar, user_named):
    csi, _ = register(session, runtime, user_named("manager"), calendar)
    task = case_task(session, csi.id, "analyse_root_cause")
    admin_actions.reassign_task(session, user_named("supervisor"), task.id, "engineer", "临时支援")
    session.commit()
    engineer = browser(app)
    sign_in(engineer, "engineer")
    inbox = text_of(engineer.get("/"))
    assert 'class="bell has-unread"' in inbox and 'class="bell-count">1<' in inbox
    page = text_of(engineer.get("/notices/"))
    assert csi.csi_no in page and f"/tasks/{task.id}" in page
    assert submit(engineer, "/notices/", "/notices/read", {}).status_code == 302
    assert "has-unread" not in text_of(engineer.get("/"))


def test_the_admin_sets_an_email_and_sees_undeliverable_messages_to_send_again(app, session):
    session.add(
        OutboxMessage(
            created_at=sa.func.now(),
            kind="sla.breached",
            channel="email",
            address="director@example.com",
            subject="方案超期：CSI-2026-000009",
            body="x",
            status="dead",
            attempts=8,
            next_attempt_at=sa.func.now(),
            last_error="SMTP: ConnectionRefusedError",
            lang="zh_Hans_CN",
        )
    )
    session.commit()
    admin = browser(app)
    sign_in(admin, "admin")
    bad = submit(admin, "/admin/users/manager", "/admin/users/manager/email", {"email": "not-an-address"})
    assert bad.status_code == 422 and "name@example.com" in text_of(bad)
    good = submit(
        admin,
        "/admin/users/manager",
        "/admin/users/manager/email",
        {"email": "li@example.com", "muted": "task.available"},
    )
    assert good.status_code == 302
    outbox_page = text_of(admin.get("/admin/outbox"))
    assert "CSI-2026-000009" in outbox_page and "ConnectionRefusedError" in outbox_page
    [dead] = session.scalars(sa.select(OutboxMessage)).all()
    session.commit()  # SQLite: a test transaction would hold the write lock the page needs
    again = submit(admin, "/admin/outbox", f"/admin/outbox/{dead.id}/send-again", {})
    assert again.status_code == 302
    session.expire_all()
    assert dead.status == "pending" and dead.attempts == 0
