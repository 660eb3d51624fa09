"""The server's log at INFO (as `aftersales serve` configures it) gets no line per SpiffWorkflow task state change:
they cost a completion 20-30 % over HTTP (issue 12) and carried the case's data in their records."""

from __future__ import annotations

import logging

from tests.helpers import ANSWERS
from tests.helpers import complete
from tests.helpers import register


def test_a_registered_case_and_a_completed_step_log_no_engine_state_changes(
    session, runtime, user_named, calendar, caplog
):
    caplog.set_level(logging.INFO)  # the command line's level
    manager = user_named("manager")
    _csi, instance = register(session, runtime, manager, calendar)
    complete(session, runtime, instance, "analyse_root_cause", manager, ANSWERS["analyse_root_cause"])
    session.commit()
    engine_lines = [r for r in caplog.records if r.name.startswith("spiff") and r.levelno < logging.WARNING]
    assert engine_lines == []
    assert logging.getLogger("spiff.task").getEffectiveLevel() == logging.WARNING  # its warnings still reach the log
