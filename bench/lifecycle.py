"""Lifecycle benchmark: §4 cases start to finish through the service layer on SQLite vs the fair raw engine.

The raw side (bench/raw.py) runs the same deployed specs with the product's own instance-only serializer, loading and
dumping the instance around every step. The persistent side uses the real services: registration, six task
completions, each in its own committed transaction on an SQLite file (WAL, synchronous=FULL), and counts the SQL
statements of each completion (transaction control included). The two sides alternate case by case in one run, so
load drift on a shared machine moves both alike. HTTP figures (real server, authentication and the answer counted)
come from bench/http.py.

Run: .venv/bin/python bench/lifecycle.py [--cases N]. The last line is `lifecycle persistent/raw ratio: X.XX`.
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
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.raw import ACTOR  # noqa: E402
from bench.raw import STEPS  # noqa: E402
from bench.raw import RawCases  # noqa: E402
from engine.aftersales.demo import load_demo  # noqa: E402
from engine.aftersales.intake.service import parse_register_request  # noqa: E402
from engine.aftersales.intake.service import register_request  # noqa: E402
from engine.bootstrap import build_runtime  # noqa: E402
from engine.calendar import load_calendar  # noqa: E402
from engine.db import make_engine  # noqa: E402
from engine.db import make_session_factory  # noqa: E402
from engine.migrate import upgrade_database  # noqa: E402
from engine.platform import tasks  # noqa: E402
from engine.platform.definitions import read_directory  # noqa: E402
from engine.platform.deployment import deploy_files  # noqa: E402
from engine.records.process import HumanTask  # noqa: E402
from engine.records.user import User  # noqa: E402
from tests.helpers import ANSWERS  # noqa: E402
from tests.helpers import QUALITY_COMPLAINT  # noqa: E402


class StatementCounter:
    """Counts SQL statements sent on an engine while `active`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count, self.active = 0, False
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        if self.active:
            self.count += 1


def persistent_lifecycle(folder: Path, cases: int, raw: RawCases) -> tuple[float, dict[str, list[int]]]:
    """Cases per second through the services on an SQLite file (a raw case before each), and SQL statements per
    task completion."""
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    runtime = build_runtime()
    with sessions() as session:
        deploy_files(session, read_directory(ROOT / "workflows"), actor="bench", catalog=build_runtime().catalog)
        load_demo(session, date.today())
        session.commit()
    counter = StatementCounter(engine)
    per_completion: dict[str, list[int]] = {bpmn_id: [] for bpmn_id in STEPS}
    with sessions() as session:
        people = {u.username: u for u in session.scalars(sa.select(User))}  # roles load eagerly; used detached
        session.commit()
    spent = 0.0
    for number in range(cases):
        raw.run_case(number)
        start = time.perf_counter()
        with sessions() as session:
            csi, instance = register_request(
                session,
                runtime,
                parse_register_request(QUALITY_COMPLAINT),
                actor=people["manager"],
                calendar=lambda s=session: load_calendar(s),
            )
            session.commit()
            csi_id = csi.id
        for bpmn_id in STEPS:
            with sessions() as session:
                task_id = session.scalars(
                    sa.select(HumanTask.id).where(
                        HumanTask.csi_id == csi_id, HumanTask.bpmn_id == bpmn_id, HumanTask.status == "open"
                    )
                ).one()  # what the inbox query does, inside the same transaction
                counter.count, counter.active = 0, True
                tasks.complete_task(
                    session,
                    runtime,
                    people[ACTOR[bpmn_id]],
                    task_id,
                    ANSWERS[bpmn_id],
                    calendar=lambda s=session: load_calendar(s),
                )
                session.commit()
                counter.active = False
                per_completion[bpmn_id].append(counter.count)
        spent += time.perf_counter() - start
    engine.dispose()
    return cases / spent, per_completion


def main() -> None:
    """Run both sides interleaved in one process and print rates, statements per completion and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    args = parser.parse_args()
    raw = RawCases()
    for number in range(5):
        raw.run_case(number)  # warm-up: imports, allocator
    raw.case_s.clear()
    raw.step_ms.clear()
    with tempfile.TemporaryDirectory() as tmp:
        persistent, statements = persistent_lifecycle(Path(tmp), args.cases, raw)
    raw_rate = len(raw.case_s) / sum(raw.case_s)
    print(f"cases per run: {args.cases} (6 human tasks in 2 instances each: the case and its visit round)")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"raw SpiffWorkflow (same specs, instance-only serializer, load/dump per step): {raw_rate:.1f} cases/s")
    print(f"  raw step p50 {statistics.median(raw.step_ms):.2f} ms")
    print(f"persistent (services + SQLite WAL synchronous=FULL, 7 commits per case): {persistent:.1f} cases/s")
    every = [n for counts in statements.values() for n in counts]
    print(
        f"SQL statements per task completion (transaction control included): mean {statistics.mean(every):.2f}, "
        f"max {max(every)}"
    )
    for bpmn_id, counts in statements.items():
        print(f"  {bpmn_id}: {statistics.mean(counts):.1f} statements (records it writes included)")
    print(f"lifecycle persistent/raw ratio: {persistent / raw_rate:.2f}")


if __name__ == "__main__":
    main()
