"""The main navigation: the sections a user's roles may open, and which of them the role uses every day.

On a phone (below 600 px) only the everyday sections stay in the bar; the rest fold under "More".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from engine.aftersales.archives.read import ARCHIVE_READERS
from engine.records.user import User

CASE_ROLES = frozenset({"service_director", "service_manager", "service_supervisor"})
MONITOR_ROLES = CASE_ROLES | {"process_designer", "admin"}
# What each role opens every day (the phone bar keeps these; §2 roles, in the order of their work).
EVERYDAY: dict[str, tuple[str, ...]] = {
    "service_director": ("dashboard", "cases", "monitor"),
    "service_manager": ("inbox", "cases", "register"),
    "service_supervisor": ("inbox", "cases", "dashboard"),
    "service_engineer": ("inbox", "cases", "archives"),
    "engineering_qc": ("inbox", "archives"),
    "sales": ("inbox", "archives"),
    "product_design": ("inbox", "archives"),
    "hr": ("inbox", "register"),
    "process_designer": ("designer", "monitor", "inbox"),
    "admin": ("users", "monitor"),
}
SECTIONS: tuple[tuple[str, str, Any], ...] = (
    ("inbox", "tasks.inbox", _l("Inbox")),
    ("cases", "cases.index", _l("Cases")),
    ("register", "cases.new", _l("Register")),
    ("requests", "requests.index", _l("Requests")),
    ("processes", "processes.index", _l("Start a process")),
    ("archives", "records.archive_search", _l("Archives")),
    ("dashboard", "dashboard.index", _l("Dashboard")),
    ("monitor", "monitor.instances", _l("Monitor")),
    ("users", "admin.users", _l("Users")),
    ("suppliers", "admin.suppliers", _l("Suppliers")),
    ("designer", "designer.index", _l("Designer")),
)


@dataclass(frozen=True)
class NavItem:
    """One link of the main navigation."""

    key: str
    url: str
    label: str
    active: bool
    everyday: bool


def main_nav(user: User, endpoint: str) -> list[NavItem]:
    """The sections `user` may open, marking the current one and the role's everyday ones."""
    roles = user.role_keys
    allowed = {"inbox", "cases", "register", "processes"}
    allowed |= {"archives"} if roles & ARCHIVE_READERS else set()
    allowed |= {"dashboard", "requests"} if roles & CASE_ROLES else set()
    allowed |= {"monitor"} if roles & MONITOR_ROLES else set()
    allowed |= {"users"} if "admin" in roles else set()
    allowed |= {"suppliers"} if roles & {"sales", "admin"} else set()
    allowed |= {"designer"} if "process_designer" in roles else set()
    everyday = {key for role in roles for key in EVERYDAY.get(role, ("inbox",))}
    current = _section(endpoint)
    return [
        NavItem(key, url_for(target), str(text), key == current, key in everyday or key == current)
        for key, target, text in SECTIONS
        if key in allowed
    ]


def _section(endpoint: str) -> str:
    if endpoint == "cases.new":
        return "register"
    if endpoint in ("records.archive_search", "records.archive"):
        return "archives"
    if endpoint.startswith("admin.") and "supplier" in endpoint:
        return "suppliers"
    blueprint = endpoint.split(".")[0]
    names = {"tasks": "inbox", "cases": "cases", "processes": "processes", "dashboard": "dashboard"}
    names |= {"requests": "requests"}
    names |= {"monitor": "monitor", "admin": "users", "designer": "designer"}
    return names.get(blueprint, "")
