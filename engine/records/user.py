"""Users, their roles (BPMN lane name == role key) and server-side sessions that can be revoked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engine.db import Base
from engine.db import UTCDateTime
from engine.labels import N_


class Role(StrEnum):
    """Roles of DESIGN.md "Roles"; each is also the name of the BPMN lane whose tasks it may do."""

    SERVICE_DIRECTOR = "service_director"
    SERVICE_MANAGER = "service_manager"
    SERVICE_SUPERVISOR = "service_supervisor"
    SERVICE_ENGINEER = "service_engineer"
    ENGINEERING_QC = "engineering_qc"
    SALES = "sales"
    PRODUCT_DESIGN = "product_design"
    HR = "hr"
    PROCESS_DESIGNER = "process_designer"
    ADMIN = "admin"


ROLE_KEYS = frozenset(role.value for role in Role)
ROLE_LABELS: Mapping[Role, str] = {
    Role.SERVICE_DIRECTOR: N_("Service director"),
    Role.SERVICE_MANAGER: N_("Service manager"),
    Role.SERVICE_SUPERVISOR: N_("Service supervisor"),
    Role.SERVICE_ENGINEER: N_("Service engineer"),
    Role.ENGINEERING_QC: N_("Engineering / QC"),
    Role.SALES: N_("Sales"),
    Role.PRODUCT_DESIGN: N_("Product design"),
    Role.HR: N_("HR"),
    Role.PROCESS_DESIGNER: N_("Process designer"),
    Role.ADMIN: N_("Administrator"),
}


class User(Base):
    """A signed-in person; `active=False` revokes every session at the next request."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(128), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(sa.String(16), default="zh_Hans_CN")
    email: Mapped[str | None] = mapped_column(sa.String(320))  # where notices are mailed (none: the bell only)
    mail_muted: Mapped[list[str] | None] = mapped_column(sa.JSON)  # notice kinds the user does not want mailed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    roles: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )

    @property
    def role_keys(self) -> frozenset[str]:
        """The user's role keys."""
        return frozenset(r.role for r in self.roles)


class UserRole(Base):
    """One role held by one user."""

    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(32), primary_key=True)


class AuthSession(Base):
    """A browser session or API token, stored by hash so logout, disable and expiry revoke it server-side."""

    __tablename__ = "auth_session"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class SignInFailure(Base):
    """One failed sign-in, kept for the throttling window so every web and worker process slows guessing alike.

    `channel` keeps the browser sign-in ("web") and the API token route ("api") apart: failures on one never lock
    the other, so a person mistyping in the browser cannot lock out an integration's token requests.
    """

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        sa.Index("ix_sign_in_failure_account", "channel", "username", "at"),
        sa.Index("ix_sign_in_failure_address", "channel", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(8))
    username: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
