"""What the customer sees and is sent (issue 10 item 3): a status link mailed at registration, the §4.6 answer mailed
with the plan summary, a QAHRC0807C survey link after each visit (§5.7), the status page and the survey form.

Customer pages show the CSI no., kind, status, the decided plan once answered and visit dates — never internal
notes, costs, names of staff or another case's data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.portal.links import issue_link
from engine.clock import utcnow
from engine.config import BUSINESS_TIMEZONE
from engine.errors import InvalidInputError
from engine.errors import Problem
from engine.platform.notices import notify
from engine.platform.notices import render
from engine.platform.notices import users_with_role
from engine.platform.outbox import enqueue
from engine.platform.timeline import log_event
from engine.platform.user_admin import EMAIL
from engine.records.csi import CSI
from engine.records.notification import Channel
from engine.records.numbering import next_number
from engine.records.portal import CaseContact
from engine.records.portal import CaseLink
from engine.records.portal import LinkPurpose
from engine.records.psr import PSR
from engine.records.quality import DISSATISFIED
from engine.records.quality import SatisfactionSurvey
from engine.records.user import Role
from engine.records.work_order import WorkOrder

SATISFACTION = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied")
CUSTOMER = "customer"  # filed_by of a survey the customer filled through a link


_CONTACT_OF = sa.select(CaseContact).where(CaseContact.csi_id == sa.bindparam("csi_id"))  # built once


def contact_of(session: Session, csi_id: int) -> CaseContact | None:
    """The case's customer contact, if one was given."""
    return session.scalar(_CONTACT_OF, {"csi_id": csi_id})


def welcome_contact(session: Session, csi: CSI, *, name: str, email: str, actor: str, lang: str = "zh_Hans_CN") -> str:
    """Record (or replace) the case's contact and mail them a status link; returns the token.

    :raises InvalidInputError: not an e-mail address (field `email`).
    """
    address = email.strip()
    if not address or len(address) > 320 or not EMAIL.match(address):
        raise InvalidInputError("not an e-mail address", {"email": Problem("email", "not an e-mail address")})
    contact = contact_of(session, csi.id)
    if contact is None:
        contact = CaseContact(csi_id=csi.id, name=name[:100], email=address, lang=lang)
        session.add(contact)
    else:
        contact.name, contact.email, contact.lang = name[:100] or contact.name, address, lang
    token = issue_link(session, csi, LinkPurpose.STATUS, email=address, actor=actor)
    _mail(session, contact, "customer.registered", csi, {"key": csi.csi_no}, link=f"/status/{token}")
    log_event(session, "customer.status_link", actor=actor, csi_id=csi.id, message=_masked(address))
    return token


def mail_answer(session: Session, csi: CSI, *, actor: str) -> bool:
    """§4.6: mail the decided plan's summary to the case's contact (with a fresh status link); False without one."""
    params = {"key": csi.csi_no, "plan": csi.plan_summary or ""}
    return _mail_status(session, csi, "customer.answered", params, actor=actor, event="customer.answer_mailed")


def mail_closure(session: Session, csi: CSI, *, actor: str) -> bool:
    """§2.2: tell the case's contact that the case is closed (with a status link); False without a contact."""
    return _mail_status(session, csi, "customer.closed", {"key": csi.csi_no}, actor=actor, dedupe=f"closed:{csi.id}")


def _mail_status(
    session: Session,
    csi: CSI,
    kind: str,
    params: Mapping[str, Any],
    *,
    actor: str,
    event: str | None = None,
    dedupe: str | None = None,
) -> bool:
    """Mail the case's contact a message with a fresh status link (and note it on the timeline); False without one."""
    contact = contact_of(session, csi.id)
    if contact is None:
        return False
    token = issue_link(session, csi, LinkPurpose.STATUS, email=contact.email, actor=actor)
    _mail(session, contact, kind, csi, params, link=f"/status/{token}", dedupe=dedupe)
    if event:
        log_event(session, event, actor=actor, csi_id=csi.id, message=_masked(contact.email))
    return True


def offer_survey(session: Session, csi: CSI, work_order: WorkOrder, psr: PSR, *, actor: str) -> bool:
    """§5.7: after a visit, mail the contact a one-time QAHRC0807C survey link; False without a contact."""
    contact = contact_of(session, csi.id)
    if contact is None:
        return False
    token = issue_link(
        session, csi, LinkPurpose.SURVEY, email=contact.email, actor=actor, wo_id=work_order.id, psr_id=psr.id
    )
    params = {"key": csi.csi_no, "visit": psr.visit_date.isoformat()}
    _mail(session, contact, "customer.survey", csi, params, link=f"/survey/{token}", dedupe=f"survey:{psr.id}")
    return True


def _mail(
    session: Session,
    contact: CaseContact,
    kind: str,
    csi: CSI,
    params: Mapping[str, Any],
    *,
    link: str,
    dedupe: str | None = None,
) -> None:
    text = render(kind, contact.lang, params)
    enqueue(
        session,
        kind=kind,
        channel=Channel.EMAIL,
        address=contact.email,
        lang=contact.lang,
        subject=text.subject,
        body=text.body,
        payload={"link": link, "csi_no": csi.csi_no},
        dedupe_key=dedupe,
    )


def _masked(address: str) -> str:
    """An address as the timeline shows it (the customer's mailbox is personal data)."""
    local, _, domain = address.partition("@")
    return f"{local[:2]}…@{domain}"


def status_view(session: Session, link: CaseLink) -> dict[str, Any]:
    """What a status link shows: only the customer's own case, only what is meant for the customer."""
    csi = session.get(CSI, link.csi_id)
    assert csi is not None  # a link always belongs to a case (foreign key)
    answered = csi.answered_at is not None
    visits = session.execute(
        sa.select(WorkOrder.wo_no, WorkOrder.planned_date, WorkOrder.status)
        .where(WorkOrder.csi_id == csi.id)
        .order_by(WorkOrder.planned_date)
    ).all()
    reports = session.execute(
        sa.select(PSR.visit_date, PSR.outcome).where(PSR.csi_id == csi.id).order_by(PSR.visit_date)
    ).all()
    return {
        "csi_no": csi.csi_no,
        "kind": csi.kind,
        "status": csi.status,
        "received_at": csi.received_at,
        "plan_due_at": csi.plan_due_at if csi.sla_running else None,  # no countdown when paused, closed, cancelled
        "answered_at": csi.answered_at,
        "plan_summary": csi.plan_summary if answered else None,
        "planned_visits": [{"wo_no": row.wo_no, "date": row.planned_date, "status": row.status} for row in visits],
        "visits": [{"date": row.visit_date, "outcome": row.outcome} for row in reports],
        "closed_at": csi.closed_at,
    }


def submit_survey(session: Session, link: CaseLink, form: Mapping[str, Any]) -> SatisfactionSurvey:
    """§5.7 QAHRC0807C filled by the customer: one survey per link; a dissatisfied answer tells the managers (§5.8).

    :raises InvalidInputError: no or unknown satisfaction, opinions too long (nothing stored).
    """
    satisfaction = form.get("satisfaction")
    opinions = form.get("opinions", "")
    problems: dict[str, str] = {}
    if satisfaction not in SATISFACTION:
        problems["satisfaction"] = Problem("choice", "must be one of: " + ", ".join(SATISFACTION))
    if not isinstance(opinions, str) or len(opinions) > 4000:
        problems["opinions"] = Problem("too_long", "must be text of at most 4000 characters", limit=4000)
    if problems:
        raise InvalidInputError("the survey has errors", problems)
    now = utcnow()
    survey = SatisfactionSurvey(
        sv_no=next_number(session, "SV", now.astimezone(ZoneInfo(BUSINESS_TIMEZONE)).year),
        csi_id=link.csi_id,
        wo_id=link.wo_id,
        psr_id=link.psr_id,
        satisfaction=str(satisfaction),
        dissatisfied=satisfaction in DISSATISFIED,
        opinions=str(opinions).strip(),
        filed_by=CUSTOMER,
        filed_at=now,
    )
    session.add(survey)
    link.used_at = now
    session.flush()
    log_event(
        session,
        "survey.filed",
        actor=CUSTOMER,
        csi_id=link.csi_id,
        message=survey.sv_no,
        data={"satisfaction": survey.satisfaction, "dissatisfied": survey.dissatisfied, "by": CUSTOMER},
    )
    if survey.dissatisfied:
        csi = session.get(CSI, link.csi_id)
        key = csi.csi_no if csi is not None else str(link.csi_id)
        managers = users_with_role(session, Role.SERVICE_MANAGER.value)
        notify(
            session,
            managers,
            "survey.dissatisfied",
            {"key": key},
            link=f"/cases/{link.csi_id}",
            dedupe=f"sv:{survey.id}",
        )
    return survey
