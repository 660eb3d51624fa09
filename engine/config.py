"""Settings read once from the environment so the engine, web app, CLI and worker agree on one configuration."""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path
from typing import Any
from typing import TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUSINESS_TIMEZONE = "Asia/Shanghai"  # the company calendar governs the regulatory clocks (domain.md (3))
_N = TypeVar("_N", int, float)


@dataclass(frozen=True)
class Settings:
    """Deployment settings: database, home folder, workflows folder and business timezone."""

    home: Path = PROJECT_ROOT / "instance"
    database_url: str = ""
    secret_key: str = ""
    timezone: str = BUSINESS_TIMEZONE
    workflows_dir: Path = PROJECT_ROOT / "workflows"
    attachment_max_bytes: int = 20 * 1024 * 1024
    bpmn_max_bytes: int = 2 * 1024 * 1024
    timer_poll_seconds: float = 5.0
    proxy_hops: int = 0  # reverse proxies in front whose X-Forwarded-For/-Proto are trusted (deploy.md)
    step_budget_seconds: float = 2.0  # wall time of model code per engine step (engine/bpmn/budget.py)
    step_memory_mb: int = 256  # process growth allowed while one step's model code runs
    step_data_max_bytes: int = 1_000_000  # serialized data of any task after a step
    smtp_url: str = ""  # AFTERSALES_SMTP_URL: smtp://user:pass@host:25, smtp+starttls://…, smtps://… ("": no mail)
    mail_from: str = "aftersales@localhost"
    base_url: str = "http://127.0.0.1:5000"  # how mailed links start
    reminder_share: float = 2 / 3  # §4.6 reminder once this share of the 3 working days has passed (issue 10)
    digest_hour: int = 8  # local hour (business time zone) of the managers' daily digest; -1 turns it off
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def attachments_dir(self) -> Path:
        """Folder for uploaded attachments, outside any static folder."""
        return self.home / "attachments"

    @property
    def requests_dir(self) -> Path:
        """Folder for the files of public customer requests until a manager registers them."""
        return self.home / "requests"

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced (tests and the CLI use this)."""
        return replace(self, **changes)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from AFTERSALES_* environment variables (DESIGN.md "Command line")."""
    env = os.environ if environ is None else environ
    home = Path(env.get("AFTERSALES_HOME", str(PROJECT_ROOT / "instance"))).resolve()
    url = env.get("AFTERSALES_DATABASE_URL") or f"sqlite:///{home / 'aftersales.db'}"
    return Settings(
        home=home,
        database_url=url,
        secret_key=env.get("AFTERSALES_SECRET_KEY", ""),
        timezone=env.get("AFTERSALES_TIMEZONE", BUSINESS_TIMEZONE),
        workflows_dir=Path(env.get("AFTERSALES_WORKFLOWS_DIR", str(PROJECT_ROOT / "workflows"))),
        proxy_hops=int(env.get("AFTERSALES_PROXY_HOPS", "0") or 0),
        step_budget_seconds=_positive(env, "AFTERSALES_STEP_BUDGET_SECONDS", 2.0, float),
        step_memory_mb=_positive(env, "AFTERSALES_STEP_MEMORY_MB", 256, int),
        step_data_max_bytes=_positive(env, "AFTERSALES_STEP_DATA_MAX_BYTES", 1_000_000, int),
        smtp_url=env.get("AFTERSALES_SMTP_URL", ""),
        mail_from=env.get("AFTERSALES_MAIL_FROM", "aftersales@localhost"),
        base_url=env.get("AFTERSALES_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        reminder_share=_share(env.get("AFTERSALES_REMINDER_SHARE", "")),
        digest_hour=_hour(env.get("AFTERSALES_DIGEST_HOUR", "")),
    )


def _share(raw: str) -> float:
    """The §4.6 reminder share, 0 < share < 1 (default 2/3).

    :raises ValueError: not a number strictly between 0 and 1.
    """
    if not raw.strip():
        return 2 / 3
    value = float(raw)
    if not 0 < value < 1:
        raise ValueError(f"AFTERSALES_REMINDER_SHARE must lie strictly between 0 and 1, not {raw!r}")
    return value


def _hour(raw: str) -> int:
    """The digest hour 0..23, or -1 for no digest (default 8).

    :raises ValueError: not an integer in -1..23.
    """
    if not raw.strip():
        return 8
    value = int(raw)
    if not -1 <= value <= 23:
        raise ValueError(f"AFTERSALES_DIGEST_HOUR must be -1 (off) or 0..23, not {raw!r}")
    return value


def _positive(env: Mapping[str, str], name: str, default: _N, kind: Callable[[str], _N]) -> _N:
    """A positive number from the environment, or the default when unset.

    :raises ValueError: the variable is set but is not a positive number (a typo must not lift a budget).
    """
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
    if not value > 0:
        raise ValueError(f"{name}={raw!r} must be positive")
    return value
