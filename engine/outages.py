"""Database outages told apart from bugs: a server that cannot be reached, a full disk, a read-only database or a
lock that did not come free is "try again later" (HTTP 503 with Retry-After), never an internal error.

Drivers are recognised by their error codes, not imported: SQLite's `sqlite_errorcode` (primary code in the low
byte) and PostgreSQL's SQLSTATE (`sqlstate` on psycopg errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import exc as sa_exc

SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN = 5, 6, 8, 10, 13, 14


class OutageKind(StrEnum):
    """Why the database cannot do the work now."""

    UNREACHABLE = "database_unavailable"
    DISK_FULL = "disk_full"
    READ_ONLY = "read_only"
    BUSY = "busy"


@dataclass(frozen=True)
class Outage:
    """An outage with how long a client should wait before trying again and a message for it."""

    kind: OutageKind
    retry_after: int
    message: str


OUTAGES = {
    OutageKind.UNREACHABLE: Outage(
        OutageKind.UNREACHABLE, 30, "the database cannot be reached; nothing was saved; try again shortly"
    ),
    OutageKind.DISK_FULL: Outage(
        OutageKind.DISK_FULL, 120, "the database disk is full; nothing was saved; try again later"
    ),
    OutageKind.READ_ONLY: Outage(
        OutageKind.READ_ONLY, 120, "the database is read-only (maintenance); nothing was saved; try again later"
    ),
    OutageKind.BUSY: Outage(OutageKind.BUSY, 5, "the database is busy; try again"),
}
_SQLITE = {
    SQLITE_BUSY: OutageKind.BUSY,
    SQLITE_LOCKED: OutageKind.BUSY,
    SQLITE_READONLY: OutageKind.READ_ONLY,
    SQLITE_IOERR: OutageKind.UNREACHABLE,
    SQLITE_FULL: OutageKind.DISK_FULL,
    SQLITE_CANTOPEN: OutageKind.UNREACHABLE,
}
_SQLSTATE = {
    "53100": OutageKind.DISK_FULL,  # disk_full
    "25006": OutageKind.READ_ONLY,  # read_only_sql_transaction (hot standby, default_transaction_read_only)
    "55P03": OutageKind.BUSY,  # lock_not_available (lock_timeout)
    "57014": OutageKind.BUSY,  # query_canceled (statement_timeout)
    "40001": OutageKind.BUSY,  # serialization_failure
    "40P01": OutageKind.BUSY,  # deadlock_detected
    "53300": OutageKind.BUSY,  # too_many_connections
    "53200": OutageKind.BUSY,  # out_of_memory
    "57P01": OutageKind.UNREACHABLE,  # admin_shutdown
    "57P02": OutageKind.UNREACHABLE,  # crash_shutdown
    "57P03": OutageKind.UNREACHABLE,  # cannot_connect_now (starting up, recovering)
}


def classify_outage(error: BaseException) -> Outage | None:
    """The outage behind a database error, or None when the error is not an outage (a bug or bad data)."""
    if isinstance(error, sa_exc.TimeoutError):  # the connection pool stayed exhausted
        return OUTAGES[OutageKind.BUSY]
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return OUTAGES[OutageKind.UNREACHABLE]
    driver = getattr(error, "orig", None) or error
    kind = _sqlite_kind(driver) or _postgres_kind(driver)
    return OUTAGES[kind] if kind is not None else None


def _sqlite_kind(driver: BaseException) -> OutageKind | None:
    code = getattr(driver, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE.get(code & 0xFF)
    if "database is locked" in str(driver):
        return OutageKind.BUSY
    return None


def _postgres_kind(driver: BaseException) -> OutageKind | None:
    if not type(driver).__module__.startswith("psycopg"):
        return None
    state = getattr(driver, "sqlstate", None)
    if isinstance(state, str):
        return _SQLSTATE.get(state) or (OutageKind.UNREACHABLE if state.startswith("08") else None)
    # no SQLSTATE: the client library failed (connection refused, timed out, server closed the connection)
    return OutageKind.UNREACHABLE if type(driver).__name__ in ("OperationalError", "InterfaceError") else None
