"""The customer's side (issue 10 item 3): a public request page (§4.1) with bad input refused and nothing stored and a
rate limit per client address; managers register the CSI from it and the customer is mailed a status link; the §4.6
answer is mailed with the plan; after a visit the customer fills QAHRC0807C through a one-time link (§5.7); a link
shows only its own case, never internal notes or costs, and stops working when revoked or expired."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import sqlalchemy as sa
import time_machine

from engine.clock import utcnow
from engine.records.attachment import Attachment
from engine.records.csi import CSI
from engine.records.notification import Notice
from engine.records.notification import OutboxMessage
from engine.records.portal import CaseLink
from engine.records.portal import CustomerRequest
from engine.records.quality import SatisfactionSurvey
from tests.helpers import do
from tests.helpers import drive_to_dispatch
from tests.helpers import register
from tests.web.test_pages_flow import browser
from tests.web.test_pages_flow import sign_in
from tests.web.test_pages_flow import submit
from tests.web.test_pages_flow import text_of

GOOD = {
    "contact_name": "王工",
    "contact_email": "wang@customer.example",
    "contact_phone": "13800000000",
    "company": "华东机械",
    "customer_code": "C001",
    "product": "CNC500",
    "serial_no": "CNC500-0001",
    "description": "主轴异响，停机待修",
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def customer(app, address="203.0.113.7"):
    client = browser(app)
    client.environ_base["REMOTE_ADDR"] = address
    return client


def send(client, data, files=None):
    body = dict(data)
    if files:
        body["files"] = files
    return submit(client, "/request", "/request", body, content_type="multipart/form-data")


def mailed(session, kind):
    """The queued messages of a kind, as plain values; the transaction ends (a SQLite transaction holds the write
    lock from BEGIN, so the test must not keep one open while the app writes)."""
    query = sa.select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    found = [
        SimpleNamespace(**{c.key: getattr(m, c.key) for c in sa.inspect(OutboxMessage).columns})
        for m in session.scalars(query)
    ]
    session.commit()
    return found


def told(session, kind):
    found = [n.username for n in session.scalars(sa.select(Notice).where(Notice.kind == kind))]
    session.commit()
    return found


def count(session, record):
    found = session.scalar(sa.select(sa.func.count()).select_from(record))
    session.commit()
    return found


def token_in(message):
    found = re.search(r"/(status|survey)/([A-Za-z0-9_-]+)", message.payload["link"])
    assert found, message.payload
    return found.group(0)


def test_bad_input_on_the_public_page_is_refused_naming_the_fields_and_nothing_is_stored(app, session, settings):
    bad = {**GOOD, "contact_email": "not-an-address", "description": ""}
    import io

    page = send(customer(app), bad, files=[(io.BytesIO(b"MZ\x90\x00"), "tool.exe")])
    html = text_of(page)
    assert page.status_code == 422
    assert "contact_email" in html and "field-description" in html and "has-error" in html
    assert count(session, CustomerRequest) == 0
    assert mailed(session, "request.received") == []
    assert not (settings.requests_dir.exists() and any(settings.requests_dir.iterdir()))


def test_a_request_lands_with_the_service_managers_and_is_rate_limited_per_address(app, session, user_named):
    manager = user_named("manager")
    manager.email = "manager@example.com"
    session.commit()
    client = customer(app)
    first = send(client, GOOD)
    assert first.status_code == 200 and "REQ-" in text_of(first)
    assert told(session, "request.received") == ["manager"]
    assert [m.address for m in mailed(session, "request.received")] == ["manager@example.com"]
    for _ in range(4):
        assert send(client, GOOD).status_code == 200
    limited = send(client, GOOD)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert count(session, CustomerRequest) == 5
    assert send(customer(app, "198.51.100.9"), GOOD).status_code == 200  # another address is not held back


def test_a_manager_registers_the_csi_and_the_customer_follows_it_through_a_link_showing_only_their_case(
    app, session, runtime, calendar, user_named
):
    import io

    assert send(customer(app), GOOD, files=[(io.BytesIO(PNG), "现场照片.png")]).status_code == 200
    request_row = session.scalars(sa.select(CustomerRequest)).one()
    session.commit()
    manager = browser(app)
    sign_in(manager, "manager")
    assert request_row.request_no in text_of(manager.get("/requests"))
    page = f"/requests/{request_row.id}"
    refused = submit(manager, page, f"{page}/register", {"kind": "quality_complaint", "customer_code": "C001"})
    assert refused.status_code == 422  # a quality complaint needs its SO# (§4.2): nothing registered
    assert count(session, CSI) == 0
    done = submit(
        manager,
        page,
        f"{page}/register",
        {
            "kind": "quality_complaint",
            "customer_code": "C001",
            "origin_so_no": "SO-2025-0001",
            "serial_no": "CNC500-0001",
        },
    )
    assert done.status_code == 302
    session.expire_all()
    csi = session.scalars(sa.select(CSI)).one()
    assert csi.channel == "portal" and csi.description == GOOD["description"]
    assert [a.filename for a in session.scalars(sa.select(Attachment))] == ["现场照片.png"]
    assert session.get(CustomerRequest, request_row.id).csi_id == csi.id
    session.commit()
    [welcome] = mailed(session, "customer.registered")
    assert welcome.address == GOOD["contact_email"] and csi.csi_no in welcome.subject
    other, _ = register(session, runtime, user_named("manager"), calendar)  # another customer's case
    do(session, runtime, csi.id, "analyse_root_cause", user_named("manager"), calendar, root_cause="内部：轴承批次问题")
    anonymous = browser(app)
    status = anonymous.get(token_in(welcome))
    html = text_of(status)
    assert status.status_code == 200 and csi.csi_no in html
    assert other.csi_no not in html and "内部：轴承批次问题" not in html and "manager" not in html
    assert anonymous.get("/status/" + "A" * 43).status_code == 404
    assert anonymous.get(token_in(welcome).replace("/status/", "/survey/")).status_code == 404  # wrong purpose


def test_a_revoked_or_expired_link_shows_nothing(app, session, runtime, calendar, user_named):
    csi, _ = register(session, runtime, user_named("manager"), calendar)
    staff = browser(app)
    sign_in(staff, "supervisor")
    sent = submit(staff, f"/cases/{csi.id}", f"/cases/{csi.id}/customer-link", {"email": "li@c.example", "lang": "en"})
    assert sent.status_code == 302
    [welcome] = mailed(session, "customer.registered")
    assert welcome.lang == "en" and "registered" in welcome.subject
    anonymous = browser(app)
    assert anonymous.get(token_in(welcome)).status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=181)):
        assert anonymous.get(token_in(welcome)).status_code == 404
    assert submit(staff, f"/cases/{csi.id}", f"/cases/{csi.id}/customer-links/revoke", {}).status_code == 302
    assert anonymous.get(token_in(welcome)).status_code == 404
    assert session.scalars(sa.select(CaseLink)).one().revoked_at is not None
    session.commit()
    engineer = browser(app)
    sign_in(engineer, "engineer")
    assert submit(engineer, "/", f"/cases/{csi.id}/customer-links/revoke", {}).status_code == 403


def test_the_answer_is_mailed_with_the_plan_and_each_visit_brings_a_one_time_survey(
    app, session, runtime, calendar, user_named
):
    csi, _ = register(session, runtime, user_named("manager"), calendar)
    from engine.aftersales.portal.customer import welcome_contact

    welcome_contact(session, csi, name="王工", email="wang@customer.example", actor="manager")
    session.commit()
    do(session, runtime, csi.id, "analyse_root_cause", user_named("manager"), calendar)
    do(session, runtime, csi.id, "review_csi", user_named("supervisor"), calendar)
    do(
        session,
        runtime,
        csi.id,
        "answer_customer",
        user_named("manager"),
        calendar,
        plan_summary="派工程师上门更换轴承",
    )
    [answer] = mailed(session, "customer.answered")
    assert "派工程师上门更换轴承" in answer.body and answer.address == "wang@customer.example"
    anonymous = browser(app)
    assert "派工程师上门更换轴承" in text_of(anonymous.get(token_in(answer)))
    do(session, runtime, csi.id, "issue_work_order", user_named("manager"), calendar)
    do(session, runtime, csi.id, "field_visit", user_named("engineer"), calendar, satisfaction="satisfied")
    [invite] = mailed(session, "customer.survey")
    survey = token_in(invite)
    form = anonymous.get(survey)
    assert form.status_code == 200 and "QAHRC0807C" in text_of(form)
    before = count(session, SatisfactionSurvey)
    bad = submit(anonymous, survey, survey, {"satisfaction": "ecstatic"})
    assert bad.status_code == 422
    assert count(session, SatisfactionSurvey) == before
    good = submit(anonymous, survey, survey, {"satisfaction": "dissatisfied", "opinions": "响应太慢"})
    assert good.status_code == 200
    session.expire_all()
    mine = session.scalars(sa.select(SatisfactionSurvey).where(SatisfactionSurvey.filed_by == "customer")).one()
    assert mine.dissatisfied and mine.opinions == "响应太慢" and mine.csi_id == csi.id and mine.psr_id is not None
    assert anonymous.get(survey).status_code == 404  # once
    assert told(session, "survey.dissatisfied") == ["manager"]


def test_without_a_customer_contact_nothing_is_mailed_to_the_customer(session, runtime, calendar, user_named):
    drive_to_dispatch(session, runtime, calendar, user_named)
    assert mailed(session, "customer.answered") == [] and mailed(session, "customer.registered") == []


def test_closing_the_case_tells_its_customer_once(session, runtime, calendar, user_named):
    from engine.aftersales.portal.customer import mail_closure
    from engine.aftersales.portal.customer import welcome_contact

    csi, _ = register(session, runtime, user_named("manager"), calendar)
    assert mail_closure(session, csi, actor="manager") is False  # no contact, no mail
    welcome_contact(session, csi, name="王工", email="wang@customer.example", actor="manager")
    assert mail_closure(session, csi, actor="manager") and mail_closure(session, csi, actor="manager")
    session.commit()
    [closed] = mailed(session, "customer.closed")
    assert csi.csi_no in closed.subject and closed.payload["link"].startswith("/status/")
