"""People are told (issue 10): a new task mails its lane (or its assignee, with a bell entry), a returned task its
lane, a §4.6 breach the supervisors and the director; each in the transaction of the step, in each person's
language, and chat endpoints following the kind get it too."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from engine.calendar import load_calendar
from engine.platform import admin_actions
from engine.platform import notices
from engine.platform import tasks
from engine.platform.timers import fire_due_timers
from engine.records.notification import Notice
from engine.records.notification import OutboxMessage
from engine.records.notification import WebhookEndpoint
from tests.helpers import case_task
from tests.helpers import register

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
AFTER_DUE = datetime(2026, 11, 26, 18, 0, tzinfo=SHANGHAI)


def mails(session, kind=None):
    session.expire_all()
    query = sa.select(OutboxMessage).where(OutboxMessage.channel == "email")
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def bell(session, username):
    return list(session.scalars(sa.select(Notice).where(Notice.username == username)))


@pytest.fixture
def addresses(session, user_named):
    for name, locale in (
        ("manager", "zh_Hans_CN"),
        ("supervisor", "en"),
        ("director", "zh_Hans_CN"),
        ("engineer", "en"),
    ):
        user = user_named(name)
        user.email, user.locale = f"{name}@example.com", locale
    session.commit()


def test_a_new_task_mails_its_lane_in_the_same_transaction_and_the_inbox_is_its_bell(
    session, runtime, calendar, user_named, addresses
):
    csi, _ = register(session, runtime, user_named("manager"), calendar)
    [mail] = mails(session, "task.available")
    assert mail.address == "manager@example.com" and csi.csi_no in mail.subject and "待认领" in mail.subject
    assert mail.payload == {"link": f"/tasks/{case_task(session, csi.id, 'analyse_root_cause').id}"}
    assert bell(session, "manager") == []  # the inbox already shows tasks waiting for a role


def test_reassigning_tells_the_new_assignee_in_their_language_with_a_bell_entry(
    session, runtime, calendar, user_named, addresses
):
    csi, _ = register(session, runtime, user_named("manager"), calendar)
    task = case_task(session, csi.id, "analyse_root_cause")
    admin_actions.reassign_task(session, user_named("supervisor"), task.id, "engineer", "临时支援")
    session.commit()
    [mail] = mails(session, "task.assigned")
    assert mail.address == "engineer@example.com" and mail.subject.startswith("New task:") and mail.lang == "en"
    [entry] = bell(session, "engineer")
    assert entry.kind == "task.assigned" and entry.link == f"/tasks/{task.id}" and entry.read_at is None
    assert notices.unread(session, "engineer")[0] == 1
    assert notices.mark_read(session, "engineer") == 1 and notices.unread(session, "engineer")[0] == 0


def test_a_returned_task_mails_the_rest_of_its_lane(session, runtime, calendar, user_named, addresses):
    csi, _ = register(session, runtime, user_named("manager"), calendar)
    task = case_task(session, csi.id, "analyse_root_cause")
    tasks.claim_task(session, user_named("manager"), task.id)
    session.commit()
    tasks.release_task(session, user_named("supervisor"), task.id)
    session.commit()
    [returned] = mails(session, "task.returned")
    assert returned.address == "manager@example.com" and "supervisor" in returned.body


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_breach_escalates_to_supervisors_and_the_director_once(session, sessions, runtime, user_named, addresses):
    with time_machine.travel(MONDAY, tick=False):
        csi, _ = register(session, runtime, user_named("manager"), lambda: load_calendar(session), received_at=MONDAY)
    session.add(
        WebhookEndpoint(name="service-group", kind="wecom", url="http://chat.invalid/x", kinds=["sla.breached"])
    )
    session.commit()
    with time_machine.travel(AFTER_DUE, tick=False):
        assert fire_due_timers(sessions, runtime, load_calendar) == 1
        assert fire_due_timers(sessions, runtime, load_calendar) == 0
    breached = mails(session, "sla.breached")
    assert sorted(m.address for m in breached) == ["director@example.com", "supervisor@example.com"]
    assert {m.lang for m in breached} == {"en", "zh_Hans_CN"} and all(csi.csi_no in m.subject for m in breached)
    assert "2026-11-26 17:30" in next(m.body for m in breached if m.lang == "zh_Hans_CN")
    assert [n.kind for n in bell(session, "director")] == ["sla.breached"]
    chats = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.channel == "webhook")).all()
    assert [c.address for c in chats] == ["service-group"]


@pytest.mark.parametrize("kind", sorted(notices.TEXTS))
def test_every_notice_has_a_chinese_and_an_english_text(kind):
    params = {"task": "评审CSI", "key": "CSI-2026-000001", "due": "2026-12-10 17:30", "actor": "supervisor"}
    params |= {"date": "2026-12-10", "breached_list": "CSI-2026-000001"}  # the digest names breached cases
    chinese, english = notices.render(kind, "zh_Hans_CN", params), notices.render(kind, "en", params)
    assert chinese.subject != english.subject and "CSI-2026-000001" in chinese.subject + chinese.body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.subject)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english.subject.replace("评审CSI", ""))
    assert "{" not in chinese.body + english.body  # every field filled
