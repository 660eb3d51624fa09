"""The timer worker survives database outages (it waits and polls again) and stops on real bugs."""

from __future__ import annotations

import threading

import psycopg
import pytest
import sqlalchemy as sa

from engine import worker


@pytest.mark.parametrize(
    "driver_error",
    [
        psycopg.errors.ReadOnlySqlTransaction("cannot execute UPDATE in a read-only transaction"),
        psycopg.errors.DiskFull("could not extend file"),
        psycopg.OperationalError("connection refused"),
    ],
)
def test_an_outage_is_waited_out(monkeypatch, driver_error):
    stop, calls = threading.Event(), []

    def failing(*_args):
        calls.append(1)
        if len(calls) == 3:
            stop.set()
        raise sa.exc.InternalError("UPDATE …", {}, driver_error)

    monkeypatch.setattr(worker, "run_once", failing)
    monkeypatch.setattr(stop, "wait", lambda seconds: None)
    worker.run_forever(None, None, stop, 0.01)  # type: ignore[arg-type]
    assert len(calls) == 3


def test_a_bug_stops_the_worker(monkeypatch):
    def broken(*_args):
        raise ValueError("a bug")

    monkeypatch.setattr(worker, "run_once", broken)
    with pytest.raises(ValueError):
        worker.run_forever(None, None, threading.Event(), 0.01)  # type: ignore[arg-type]
