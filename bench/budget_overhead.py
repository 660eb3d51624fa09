"""Budget overhead: engine step time on the §4 case path, to compare a tree with step budgets and one without.

Runs bench/lifecycle.py's persistent path (registration, six task completions, the visit round and its message,
on an SQLite file) and times every WorkflowRuntime step method (start, complete, fire_due_timers,
deliver_message, retry), so the figure is the engine step itself: model code with its tracer, ticks and guards,
SpiffWorkflow, operators and their SQL. Run the same file in both trees (e.g. this commit and the one before
engine/bpmn/budget.py existed) and compare the medians.

Run: .venv/bin/python bench/budget_overhead.py [--cases N]. The last line is `budget_overhead ...`.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]  # bench/http.py shadows stdlib http

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import lifecycle  # noqa: E402

from engine.bpmn.runtime import WorkflowRuntime  # noqa: E402

STEP_METHODS = ("start", "complete", "fire_due_timers", "deliver_message", "retry")
TIMINGS: list[float] = []
_DEPTH = [0]


def timed(method: Callable[..., Any]) -> Callable[..., Any]:
    """Time the outermost step call only (a step may start another instance's step inside it)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _DEPTH[0] += 1
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0:
                TIMINGS.append(time.perf_counter() - started)

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=30)
    args = parser.parse_args()
    for name in STEP_METHODS:
        setattr(WorkflowRuntime, name, timed(getattr(WorkflowRuntime, name)))
    budgeted = (ROOT / "engine" / "bpmn" / "budget.py").exists()
    with tempfile.TemporaryDirectory() as tmp:
        lifecycle.persistent_lifecycle(Path(tmp) / "warm", 3) if (Path(tmp) / "warm").mkdir() is None else None
        TIMINGS.clear()
        (Path(tmp) / "run").mkdir()
        rate, _ = lifecycle.persistent_lifecycle(Path(tmp) / "run", args.cases)
    steps = sorted(TIMINGS)
    print(
        f"budget_overhead budgets={'on' if budgeted else 'off'} cases={args.cases} steps={len(steps)} "
        f"median_step_ms={statistics.median(steps) * 1000:.2f} mean_step_ms={statistics.mean(steps) * 1000:.2f} "
        f"p95_step_ms={steps[int(len(steps) * 0.95)] * 1000:.2f} cases_per_s={rate:.1f}"
    )


if __name__ == "__main__":
    main()
