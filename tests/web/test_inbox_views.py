"""The inbox a service team works from all day (issue 11 item 3): filter by process, step, customer and due date,
sort, page with the filter kept, saved views ("my overdue"), several tasks claimed at once, and a supervisor giving
several to one person (§2.6) with counts per tab."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from engine.clock import utcnow
from engine.records.inbox_view import InboxView
from engine.records.process import HumanTask
from tests.helpers import register
from tests.web.test_pages_flow import browser
from tests.web.test_pages_flow import sign_in
from tests.web.test_pages_flow import submit
from tests.web.test_pages_flow import text_of


def task_links(html: str) -> list[str]:
    return re.findall(r'href="/tasks/([0-9a-f-]{36})"', html)


def test_the_inbox_filters_by_customer_step_and_due_date_and_keeps_the_filter_across_pages(
    app, session, runtime, calendar, user_named
):
    first, _ = register(session, runtime, user_named("manager"), calendar)  # C001
    second, _ = register(
        session,
        runtime,
        user_named("manager"),
        calendar,
        customer_code="C002",
        origin_so_no="SO-2022-0042",
        serial_no="CNC500-0042",
    )
    late = session.scalars(sa.select(HumanTask).where(HumanTask.csi_id == second.id)).one()
    late.due_at = utcnow() - timedelta(hours=2)
    session.commit()
    manager = browser(app)
    sign_in(manager, "manager")
    everything = text_of(manager.get("/?tab=available"))
    assert len(set(task_links(everything))) == 2 and "Filter and sort" in everything or "筛选" in everything
    by_customer = text_of(manager.get("/?tab=available&customer=C002"))
    assert (
        set(task_links(by_customer)) == {late.id} and second.csi_no in by_customer and first.csi_no not in by_customer
    )
    overdue = text_of(manager.get("/?tab=available&due=overdue"))
    assert set(task_links(overdue)) == {late.id}
    by_step = text_of(manager.get("/?tab=available&step=analyse_root_cause&sort=newest"))
    assert task_links(by_step)[0] == late.id  # the newest first
    nothing = manager.get("/?tab=available&step=no_such_step")
    assert nothing.status_code == 200 and not task_links(text_of(nothing))
    odd = manager.get("/?tab=available&due=yesterday&sort=sideways")  # unknown values filter nothing
    assert odd.status_code == 200 and len(set(task_links(text_of(odd)))) == 2


def test_a_saved_view_opens_the_filter_in_one_click_and_belongs_to_its_user(app, session):
    manager = browser(app)
    sign_in(manager, "manager")
    saved = submit(manager, "/", "/inbox/views", {"name": "本周重点", "query": "tab=mine&due=overdue&page=3&x=1"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("?tab=mine&due=overdue")
    view = session.scalars(sa.select(InboxView)).one()
    assert (view.username, view.name, view.query) == ("manager", "本周重点", "tab=mine&due=overdue")
    session.commit()
    assert "本周重点" in text_of(manager.get("/"))
    bad = submit(manager, "/", "/inbox/views", {"name": "", "query": "tab=mine"})
    assert bad.status_code == 302 and session.scalar(sa.select(sa.func.count()).select_from(InboxView)) == 1
    session.commit()
    engineer = browser(app)
    sign_in(engineer, "engineer")
    assert "本周重点" not in text_of(engineer.get("/"))
    assert submit(engineer, "/", f"/inbox/views/{view.id}/delete", {}).status_code == 404
    assert submit(manager, "/", f"/inbox/views/{view.id}/delete", {}).status_code == 302
    assert session.scalar(sa.select(sa.func.count()).select_from(InboxView)) == 0


def test_several_tasks_are_claimed_at_once_and_one_taken_meanwhile_is_named_not_fatal(
    app, session, runtime, calendar, user_named
):
    cases = [register(session, runtime, user_named("manager"), calendar)[0] for _ in range(3)]
    ids = [session.scalars(sa.select(HumanTask.id).where(HumanTask.csi_id == c.id)).one() for c in cases]
    session.get(HumanTask, ids[2]).assignee = "director"  # taken meanwhile by someone else
    session.commit()
    manager = browser(app)
    sign_in(manager, "manager")
    done = submit(manager, "/?tab=available", "/tasks/bulk", {"action": "claim", "task_id": ids, "next": "/?tab=mine"})
    assert done.status_code == 302
    session.expire_all()
    owners = [session.get(HumanTask, i).assignee for i in ids]
    session.commit()
    assert owners == ["manager", "manager", "director"]
    page = text_of(manager.get("/?tab=mine"))
    assert "2" in page and ("Not done" in page or "未完成" in page)


def test_a_supervisor_gives_several_team_tasks_to_one_person_with_a_reason(app, session, runtime, calendar, user_named):
    cases = [register(session, runtime, user_named("manager"), calendar)[0] for _ in range(2)]
    ids = [session.scalars(sa.select(HumanTask.id).where(HumanTask.csi_id == c.id)).one() for c in cases]
    session.commit()
    supervisor = browser(app)
    sign_in(supervisor, "supervisor")
    team = text_of(supervisor.get("/?tab=team"))
    assert set(ids) <= set(task_links(team))
    no_reason = submit(
        supervisor,
        "/?tab=team",
        "/tasks/bulk",
        {"action": "reassign", "task_id": ids, "assignee": "manager", "reason": ""},
    )
    assert no_reason.status_code == 302
    session.expire_all()
    assert [session.get(HumanTask, i).assignee for i in ids] == [None, None]  # nothing changed
    session.commit()
    given = submit(
        supervisor,
        "/?tab=team",
        "/tasks/bulk",
        {"action": "reassign", "task_id": ids, "assignee": "manager", "reason": "本周由李经理统一处理"},
    )
    assert given.status_code == 302
    session.expire_all()
    assert [session.get(HumanTask, i).assignee for i in ids] == ["manager", "manager"]
    session.commit()
    engineer = browser(app)
    sign_in(engineer, "engineer")
    assert "?tab=team" not in text_of(engineer.get("/"))  # the team tab is the supervisors'
    refused = submit(
        engineer, "/", "/tasks/bulk", {"action": "reassign", "task_id": ids[:1], "assignee": "engineer", "reason": "x"}
    )
    assert refused.status_code == 302
    session.expire_all()
    assert session.get(HumanTask, ids[0]).assignee == "manager"  # refused: an engineer reassigns nothing
