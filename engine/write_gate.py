"""The SQLite write gate: writers of this machine take turns at once instead of sleeping in SQLite's busy handler.

SQLite lets one writer in at a time and makes the others poll with growing sleeps (its busy handler waits 1, 2, 5 …
up to 100 ms between tries), so the threads of a busy server slept while the lock stood free: eight clients got no
more done than one, and a request could wait a second and more (issue 12). The gate is taken before BEGIN IMMEDIATE
and given back by COMMIT or ROLLBACK (or when the connection closes): threads of one process queue on a mutex and
the next one wakes the moment the writer before it is done; processes (`aftersales serve --workers N`, a worker, the
command line) meet at an advisory lock on `<database>-write.lock`, tried every half millisecond. SQLite's own lock
and busy timeout stay the rule for correctness: a process without the gate is only slower, never unsafe.

Hand-written because no library hands SQLite's write lock between threads and processes; `fcntl.flock` is the
standard library's advisory lock (POSIX; elsewhere only the in-process mutex is used).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the in-process mutex only
    fcntl = None  # type: ignore[assignment]

_POLL_SECONDS = 0.0005  # how often a process waiting for another process's writer tries again


class WriteGate:
    """The gate of one database file in this process: a mutex, and the lock file shared with other processes."""

    def __init__(self, lock_path: str | None) -> None:
        self.mutex = threading.Lock()
        self.lock_path = lock_path if fcntl is not None else None


_GATES: dict[str, WriteGate] = {}
_GATES_GUARD = threading.Lock()


def gate_for(database: str | None) -> WriteGate:
    """The one gate of this process for `database` (a file path; in-memory databases get a mutex only)."""
    on_disk = bool(database) and database != ":memory:" and not str(database).startswith("file:")
    key = os.path.abspath(str(database)) if on_disk else f"memory:{database}"
    with _GATES_GUARD:
        if key not in _GATES:
            _GATES[key] = WriteGate(key + "-write.lock" if on_disk else None)
        return _GATES[key]


class GatedConnection(sqlite3.Connection):
    """An SQLite connection (the `factory` of `sqlite3.connect`) whose write transactions pass its WriteGate."""

    gate: WriteGate | None = None
    _lock_fd: int | None = None
    _holds = False

    def attach_gate(self, gate: WriteGate) -> None:
        """Use `gate` for this connection's write transactions (opening the shared lock file once)."""
        self.gate = gate
        if gate.lock_path is not None and self._lock_fd is None:
            self._lock_fd = os.open(gate.lock_path, os.O_RDWR | os.O_CREAT, 0o600)

    @property
    def holds_gate(self) -> bool:
        """Whether this connection's write transaction holds the gate now."""
        return self._holds

    def pass_gate(self, wait_ms: int) -> None:
        """Take the gate before BEGIN IMMEDIATE, waiting at most `wait_ms` (the busy timeout) as SQLite would.

        :raises sqlite3.OperationalError: "database is locked" — another writer kept it all that time.
        """
        if self.gate is None or self._holds:
            return
        deadline = time.monotonic() + max(wait_ms, 0) / 1000
        if not self.gate.mutex.acquire(timeout=max(wait_ms, 0) / 1000):
            raise sqlite3.OperationalError("database is locked")
        if self._lock_fd is not None and not self._lock_file(deadline):
            self.gate.mutex.release()
            raise sqlite3.OperationalError("database is locked")
        self._holds = True

    def _lock_file(self, deadline: float) -> bool:
        assert fcntl is not None and self._lock_fd is not None
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(_POLL_SECONDS)

    def leave_gate(self) -> None:
        """Give the gate back: the transaction ended (or its BEGIN failed)."""
        if not self._holds:
            return
        self._holds = False
        assert self.gate is not None
        if self._lock_fd is not None and fcntl is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        self.gate.mutex.release()

    def commit(self) -> None:
        """COMMIT, then let the next writer in."""
        try:
            super().commit()
        finally:
            self.leave_gate()

    def rollback(self) -> None:
        """ROLLBACK, then let the next writer in."""
        try:
            super().rollback()
        finally:
            self.leave_gate()

    def close(self) -> None:
        """Close the connection and its lock file; a transaction still open ends with it, and so does its turn."""
        try:
            super().close()
        finally:
            self.leave_gate()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
