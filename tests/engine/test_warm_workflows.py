"""Issue 12 item 4: a step of an unchanged instance reuses its live workflow; a changed instance is re-read."""

from __future__ import annotations

from engine.bootstrap import build_runtime
from tests.helpers import assert_round_trip
from tests.helpers import complete
from tests.helpers import register


def _counting_loads(runtime, monkeypatch) -> list[int]:
    loads: list[int] = []
    real = runtime.load

    def load(*args, **kwargs):
        loads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runtime, "load", load)
    return loads


def test_the_next_step_of_an_unchanged_instance_skips_deserialization(session, user_named, calendar, monkeypatch):
    runtime = build_runtime()
    loads = _counting_loads(runtime, monkeypatch)
    _csi, instance = register(session, runtime, user_named("manager"), calendar)
    complete(session, runtime, instance, "analyse_root_cause", user_named("manager"), calendar)
    complete(session, runtime, instance, "review_csi", user_named("supervisor"), calendar)
    assert loads == []
    assert runtime.warm.hits == 2
    assert_round_trip(session, runtime, instance)


def test_an_instance_changed_elsewhere_is_read_again(session, user_named, calendar, monkeypatch):
    ours, theirs = build_runtime(), build_runtime()  # two processes, each with its own warm workflows
    loads = _counting_loads(ours, monkeypatch)
    _csi, instance = register(session, ours, user_named("manager"), calendar)
    complete(session, ours, instance, "analyse_root_cause", user_named("manager"), calendar)
    complete(session, theirs, instance, "review_csi", user_named("supervisor"), calendar)  # ours is now stale
    assert loads == []
    complete(session, ours, instance, "answer_customer", user_named("manager"), calendar)
    assert loads == [1]  # the stale workflow was not used: the stored state was read
    assert_round_trip(session, ours, instance)


def test_a_failed_step_leaves_no_half_run_workflow(session, user_named, calendar, monkeypatch):
    runtime = build_runtime()
    _csi, instance = register(session, runtime, user_named("manager"), calendar)
    real = runtime.complete

    def failing(handle, task_id, data):
        real(handle, task_id, data)
        raise RuntimeError("boom after the run")

    monkeypatch.setattr(runtime, "complete", failing)
    try:
        complete(session, runtime, instance, "analyse_root_cause", user_named("manager"), calendar)
    except RuntimeError:
        session.rollback()
    monkeypatch.setattr(runtime, "complete", real)
    loads = _counting_loads(runtime, monkeypatch)
    complete(session, runtime, instance, "analyse_root_cause", user_named("manager"), calendar)
    assert loads == [1]
    assert_round_trip(session, runtime, instance)
