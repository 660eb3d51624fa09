"""Customer links (issue 10 item 3): unguessable tokens (32 random bytes) of which only the SHA-256 is kept; each
opens one case's status page or one visit's QAHRC0807C survey (§5.7), expires, can be revoked, and a survey link
works once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.clock import as_utc
from engine.clock import utcnow
from engine.errors import NotFoundError
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.portal import CaseLink
from engine.records.portal import LinkPurpose

STATUS_DAYS = 180  # a status link lives about as long as a case with its visits
SURVEY_DAYS = 30  # §5.7: the survey belongs to a recent visit


def token_hash(token: str) -> str:
    """What is stored of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_link(
    session: Session,
    csi: CSI,
    purpose: LinkPurpose,
    *,
    email: str,
    actor: str,
    wo_id: int | None = None,
    psr_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """Create a link and return its token (shown or mailed once; never readable again)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    days = SURVEY_DAYS if purpose is LinkPurpose.SURVEY else STATUS_DAYS
    session.add(
        CaseLink(
            token_hash=token_hash(token),
            csi_id=csi.id,
            purpose=purpose.value,
            wo_id=wo_id,
            psr_id=psr_id,
            email=email,
            created_by=actor,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    return token


def resolve(session: Session, token: str, purpose: LinkPurpose, *, now: datetime | None = None) -> CaseLink:
    """The live link behind a token.

    :raises NotFoundError: unknown, of another purpose, expired, revoked, or (a survey) already used — one answer for
        all, so a guess learns nothing.
    """
    now = now or utcnow()
    if not token or len(token) > 100:
        raise NotFoundError("this link does not exist or has expired")
    link = session.scalar(sa.select(CaseLink).where(CaseLink.token_hash == token_hash(token)))
    if (
        link is None
        or link.purpose != purpose.value
        or link.revoked_at is not None
        or as_utc(link.expires_at) <= now
        or (purpose is LinkPurpose.SURVEY and link.used_at is not None)
    ):
        raise NotFoundError("this link does not exist or has expired")
    return link


def revoke_links(session: Session, csi: CSI, *, actor: str) -> int:
    """Revoke every live link of a case (a wrong address, a leaked mail); returns how many."""
    now = utcnow()
    result = session.execute(
        sa.update(CaseLink)
        .where(CaseLink.csi_id == csi.id, CaseLink.revoked_at.is_(None), CaseLink.expires_at > now)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    log_event(session, "customer.links_revoked", actor=actor, csi_id=csi.id, message=str(count), data={"count": count})
    return count


def case_links(session: Session, csi_id: int) -> list[CaseLink]:
    """The links of a case, newest first (for the staff's case page)."""
    return list(session.scalars(sa.select(CaseLink).where(CaseLink.csi_id == csi_id).order_by(CaseLink.id.desc())))
