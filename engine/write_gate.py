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


def is_file_database(database: str | None) -> bool:
    """Whether `database` (a URL's database part) names a database file that several connections share."""
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


def gate_for(database: str | None) -> WriteGate | None:
    """The one gate of this process for the database file `database`; None for in-memory databases (every
    connection of `sqlite://` is a database of its own: there is nobody to take turns with)."""
    if not is_file_database(database):
        return None
    key = os.path.abspath(str(database))
    with _GATES_GUARD:
        if key not in _GATES:
            _GATES[key] = WriteGate(key + "-write.lock")
        return _GATES[key]


def _after_fork_in_child() -> None:
    """A forked child has only the thread that forked: a mutex another thread of the parent held would stay taken
    for ever. Give the child fresh mutexes (connections inherited mid-transaction are the parent's: see leave_gate)."""
    global _GATES_GUARD
    _GATES_GUARD = threading.Lock()
    for gate in _GATES.values():
        gate.mutex = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class GatedConnection(sqlite3.Connection):
    """An SQLite connection (the `factory` of `sqlite3.connect`) whose write transactions pass its WriteGate."""

    gate: WriteGate | None = None
    _lock_fd: int | None = None
    _holds = False
    _holder_pid = 0  # the process that took the gate (a forked child must not hand back its parent's turn)

    def attach_gate(self, gate: WriteGate) -> None:
        """Use `gate` for this connection's write transactions (the lock file is opened by the first write, so a
        reader's connection never holds it open)."""
        self.gate = gate

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
        mutex = self.gate.mutex
        if not mutex.acquire(timeout=max(wait_ms, 0) / 1000):
            raise sqlite3.OperationalError("database is locked")
        try:
            if self.gate.lock_path is not None and self._lock_fd is None:
                self._lock_fd = os.open(self.gate.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            if self._lock_fd is not None and not self._lock_file(deadline):
                raise sqlite3.OperationalError("database is locked")
        except BaseException:
            mutex.release()
            raise
        self._holds, self._holder_pid = True, os.getpid()

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
        if self._holder_pid != os.getpid():  # inherited over a fork: the turn (flock, mutex) is the parent's
            return
        assert self.gate is not None
        try:
            if self._lock_fd is not None and fcntl is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        finally:
            self.gate.mutex.release()

    def commit(self) -> None:
        """COMMIT, then let the next writer in.

        A COMMIT that fails (a deferred constraint, a full disk) can leave SQLite's transaction open, while
        SQLAlchemy takes the transaction as ended and hands the connection back to its pool without a ROLLBACK:
        the write lock would stay with an idle pooled connection. Roll back here, so SQLite agrees with SQLAlchemy.
        """
        try:
            super().commit()
        except BaseException:
            if self.in_transaction:
                try:
                    super().rollback()
                except sqlite3.Error:
                    pass  # the COMMIT's error is the one to report; close() ends the transaction at the latest
            raise
        finally:
            if not self.in_transaction:
                self.leave_gate()

    def rollback(self) -> None:
        """ROLLBACK, then let the next writer in."""
        try:
            super().rollback()
        finally:
            self.leave_gate()

    def __del__(self) -> None:
        """Dropped without close() (a pool disposed with close=False, a reader pool nobody disposed): sqlite3's own
        finaliser closes the database but knows nothing of the gate, so give back the turn and the lock file here."""
        try:
            self.leave_gate()
        finally:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def close(self) -> None:
        """Close the connection and its lock file; a transaction still open ends with it, and so does its turn."""
        try:
            super().close()
        finally:
            self.leave_gate()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
