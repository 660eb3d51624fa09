"""Outside-in benchmark: the product behind a real waitress server, driven over HTTP by 1 and 8 clients, on SQLite and
PostgreSQL, against the fair raw engine (bench/raw.py: same specs, the product's instance-only serializer).

Each client runs whole §4 cases through the API: register (POST /cases), then for each of the 6 human tasks list
the case's tasks (GET /tasks?case_id=) and complete the task. A second, following client finds each next task in the
previous completion's `next_tasks` instead (what that answer is for) and lists only once; its case rate is printed
too, but the headline case rate stays the listing client's, the dearer of the two. With 1 client, raw cases and
HTTP cases alternate in one run so load drift moves both sides alike. The server counts the SQL statements of every
request (authentication and the answer included) and returns the count in a header, so the figures are per HTTP
request. The load average is printed with the figures: the machine is shared.

A growth phase (SQLite) drives one case through `--rounds` unsolved visit rounds and compares the completion time at
the last rounds with round 10.

Run: .venv/bin/python bench/http.py [--cases N] [--clients-cases M] [--pg URL | --no-pg] [--rounds R]. The last two
lines are `http completion p50 / raw step p50: X.XX` and `http case rate / raw case rate: X.XX` (the listing client);
the line before them gives the following client's case rate against the same raw cases.
"""

from __future__ import annotations

import os
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != BENCH]  # this file shadows stdlib `http`
sys.path.insert(0, os.path.dirname(BENCH))

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import defaultdict  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from bench.raw import ACTOR  # noqa: E402
from bench.raw import STEPS  # noqa: E402
from bench.raw import RawCases  # noqa: E402
from tests.helpers import ANSWERS  # noqa: E402
from tests.helpers import QUALITY_COMPLAINT  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STATEMENTS_HEADER = "X-Bench-Statements"
PASSWORD = "demo-pass-2026"


# --- the server (a child process: its own interpreter, as in production) ---------------------------------------------


def serve(url: str, home: str, port: int, threads: int, workers: int) -> None:
    """Serve the app as `aftersales serve --workers N` does (waitress, or gunicorn's worker processes), counting the
    SQL statements of each request into a response header."""
    from waitress import serve as waitress_serve

    from engine.config import Settings
    from web import create_app
    from web import ready_to_serve
    from web.cli import configure_logging
    from web.serving import workers_app

    configure_logging()  # as the command line does: a server that logs less than the real one would flatter
    settings = Settings(home=Path(home), database_url=url, secret_key="bench-" + "x" * 40)
    app = create_app(settings=settings)
    ready_to_serve(app)  # as `aftersales serve` does
    counter = threading.local()

    def seen(*_: Any) -> None:
        counter.n = getattr(counter, "n", 0) + 1

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", seen)  # every engine: reads have their own pool

    inner = app.wsgi_app

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        counter.n = 0

        def start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            return start_response(status, [*headers, (STATEMENTS_HEADER, str(counter.n))], *rest)

        return inner(environ, start)

    app.wsgi_app = counted  # type: ignore[method-assign]
    if workers > 1:
        workers_app(app, host="127.0.0.1", port=port, threads=threads, workers=workers, on_worker=None).run()
    else:
        waitress_serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


def prepare(url: str) -> None:
    """Create the schema, deploy workflows/ and load the demo users and master data."""
    from engine.aftersales.demo import load_demo
    from engine.bootstrap import build_runtime
    from engine.db import make_engine
    from engine.db import make_session_factory
    from engine.migrate import upgrade_database
    from engine.platform.definitions import read_directory
    from engine.platform.deployment import deploy_files

    upgrade_database(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        files = read_directory(Path(BENCH).parent / "workflows")
        deploy_files(session, files, actor="bench", catalog=build_runtime().catalog)
        load_demo(session, date.today())
        session.commit()
    engine.dispose()


class Server:
    """The server child process on a free port (its log in a file beside its home), stopped on exit."""

    def __init__(self, url: str, home: Path, threads: int, workers: int) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        command = [sys.executable, __file__, "--serve", url, str(home), str(self.port), str(threads), str(workers)]
        self.log = open(home.parent / f"{home.name}-server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


# --- the clients ------------------------------------------------------------------------------------------------------


class Calls:
    """Latency (ms) and SQL statements per call type, shared by the client threads."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.sql: dict[str, list[int]] = defaultdict(list)
        self.by_step: dict[str, list[int]] = defaultdict(list)  # SQL per completion request, per task
        self.lock = threading.Lock()

    def add(self, kind: str, ms: float, statements: int) -> None:
        with self.lock:
            self.ms[kind].append(ms)
            self.sql[kind].append(statements)


class Client:
    """One HTTP/1.1 keep-alive connection with a Bearer token per demo user."""

    def __init__(self, port: int, calls: Calls) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.calls = calls
        self.tokens = {
            name: self.call("token", "POST", "/api/v1/auth/token", {"username": name, "password": PASSWORD})["token"]
            for name in ("manager", "supervisor", "engineer")
        }

    def call(self, kind: str, method: str, path: str, body: Any = None, user: str | None = None, step: str = "") -> Any:
        headers = {"Content-Type": "application/json"}
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        started = time.perf_counter()
        self.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        statements = int(response.getheader(STATEMENTS_HEADER) or 0)
        self.calls.add(kind, elapsed, statements)
        if step:
            with self.calls.lock:
                self.calls.by_step[step].append(statements)
        return json.loads(payload)

    def close(self) -> None:
        self.connection.close()

    def run_case(self, _number: int = 0, *, follow: bool = False) -> None:
        """One §4 case start to finish over HTTP: each task is found by listing the case's tasks, or with `follow`
        in the previous completion's `next_tasks` (as an API client chaining the answers does; it lists once, after
        the registration, whose answer has no tasks)."""
        case = self.call("create case", "POST", "/api/v1/cases", QUALITY_COMPLAINT, "manager")
        kind = "complete (follow)" if follow else "complete task"
        listed: list[dict[str, Any]] | None = None
        for bpmn_id in STEPS:
            user = ACTOR[bpmn_id]
            if listed is None or not follow:
                listed = self.call("list case tasks", "GET", f"/api/v1/tasks?case_id={case['id']}", user=user)
            task = next(t for t in listed if t["bpmn_id"] == bpmn_id)
            body = {"data": ANSWERS[bpmn_id]}
            answer = self.call(kind, "POST", f"/api/v1/tasks/{task['id']}/complete", body, user, step=bpmn_id)
            listed = answer["next_tasks"]

    def run_rounds(self, rounds: int) -> list[float]:
        """One case driven to its visit, then `rounds` unsolved visit rounds (field visit + technical support);
        returns the completion latency (ms) of each round's two tasks, summed."""
        case = self.call("create case", "POST", "/api/v1/cases", QUALITY_COMPLAINT, "manager")
        for bpmn_id in STEPS[:4]:
            self._complete(case["id"], bpmn_id, ANSWERS[bpmn_id])
        unsolved = {**ANSWERS["field_visit"], "outcome": "unsolved", "satisfaction": "neutral"}
        per_round = []
        for _ in range(rounds):
            per_round.append(
                self._complete(case["id"], "field_visit", unsolved)
                + self._complete(case["id"], "technical_support", ANSWERS["technical_support"])
            )
        return per_round

    def _complete(self, case_id: int, bpmn_id: str, data: dict[str, Any]) -> float:
        user = "engineer" if bpmn_id == "field_visit" else ACTOR.get(bpmn_id, "manager")
        listed = self.call("list case tasks", "GET", f"/api/v1/tasks?case_id={case_id}", user=user)
        task = next(t for t in listed if t["bpmn_id"] == bpmn_id)
        started = time.perf_counter()
        self.call("complete task", "POST", f"/api/v1/tasks/{task['id']}/complete", {"data": data}, user)
        return (time.perf_counter() - started) * 1000


# --- phases -----------------------------------------------------------------------------------------------------------


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]


def report(title: str, calls: Calls, cases: int, seconds: float) -> float:
    rate = cases / seconds
    print(f"{title}: {rate:.2f} cases/s ({cases} cases in {seconds:.1f} s) — {load()}")
    for kind in sorted(calls.ms):
        ms, sql = calls.ms[kind], calls.sql[kind]
        print(
            f"  {kind:16} p50 {pct(ms, 0.5):7.2f} ms  p95 {pct(ms, 0.95):7.2f} ms  "
            f"SQL/request mean {statistics.mean(sql):.1f} max {max(sql)}  (n={len(ms)})"
        )
    return rate


def one_client(port: int, raw: RawCases, cases: int) -> tuple[Calls, float, float]:
    """HTTP cases alternating with raw cases: a raw case, a listing client's case, a following client's case;
    returns the HTTP calls and the two HTTP case rates (listing, following)."""
    calls = Calls()
    client = Client(port, calls)
    client.run_case()  # warm-up: imports, caches, parsed specs
    client.run_case(follow=True)
    raw.run_case(-1)
    calls.ms.clear()
    calls.sql.clear()
    calls.by_step.clear()
    raw.step_ms.clear()
    raw.case_s.clear()
    http_s: dict[bool, list[float]] = {False: [], True: []}
    for number in range(cases):
        raw.run_case(number)
        for follow in (False, True):
            started = time.perf_counter()
            client.run_case(number, follow=follow)
            http_s[follow].append(time.perf_counter() - started)
    client.close()
    return calls, cases / sum(http_s[False]), cases / sum(http_s[True])


def many_clients(port: int, clients: int, cases_each: int) -> tuple[Calls, int, float]:
    """`clients` threads, each with its own connection, running cases at once; returns calls, cases and seconds."""
    calls = Calls()
    workers = [Client(port, calls) for _ in range(clients)]
    calls.ms.clear()
    calls.sql.clear()
    errors: list[BaseException] = []

    def work(client: Client) -> None:
        try:
            for number in range(cases_each):
                client.run_case(number)
        except BaseException as exc:  # noqa: BLE001 - reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in workers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    for client in workers:
        client.close()
    if errors:
        print(f"  {len(errors)} client(s) failed, first: {errors[0]}")
    return calls, clients * cases_each - len(errors) * cases_each, seconds


def database(kind: str, folder: Path, pg: str) -> tuple[str, Any]:
    """A fresh database URL and a function that drops it."""
    if kind == "sqlite":
        return f"sqlite:///{folder / f'http-{uuid.uuid4().hex[:6]}.db'}", lambda: None
    name = f"aftersales_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return pg.rsplit("/", 1)[0] + f"/{name}", drop


def bench_database(
    kind: str, folder: Path, pg: str, raw: RawCases, cases: int, cases_each: int, rounds: int, serving: tuple[int, int]
) -> dict[str, float]:
    """Both phases on one database kind, on one server of `serving` = (worker processes, threads each); returns the
    figures the summary lines need."""
    url, drop = database(kind, folder, pg)
    try:
        prepare(url)
        workers, threads = serving
        server = Server(url, folder / f"home-{kind}", threads=threads, workers=workers)
        print(f"{kind}: server with {workers} worker process(es) of {threads} threads")
        try:
            calls, http_rate, follow_rate = one_client(server.port, raw, cases)
            report(f"{kind}, 1 client (listing)", calls, cases, cases / http_rate)
            print(f"  the following client: {follow_rate:.2f} cases/s")
            steps = ", ".join(f"{step} {statistics.mean(n):.0f}" for step, n in calls.by_step.items())
            print(f"  SQL per completion request by task: {steps}")
            raw_step = statistics.median(raw.step_ms)
            raw_rate = len(raw.case_s) / sum(raw.case_s)
            print(f"  raw (interleaved): step p50 {raw_step:.2f} ms, {raw_rate:.2f} cases/s")
            many, done, seconds = many_clients(server.port, 8, cases_each)
            rate8 = report(f"{kind}, 8 clients", many, done, seconds)
            growth = visit_rounds(server.port, rounds) if rounds and kind == "sqlite" else 0.0
        finally:
            server.stop()
    finally:
        drop()
    completion = statistics.median(calls.ms["complete task"])
    return {
        "completion": completion,
        "raw_step": raw_step,
        "http_rate": http_rate,
        "follow_rate": follow_rate,
        "raw_rate": raw_rate,
        "rate8": rate8,
        "sql": max(calls.sql["complete task"]),
        "growth": growth,
    }


def visit_rounds(port: int, rounds: int) -> float:
    """Completion time at visit round `rounds` against round 10 (medians of rounds 6–15 and of the last ten: single
    rounds are too noisy on a shared machine)."""
    client = Client(port, Calls())
    per_round = client.run_rounds(rounds)
    client.close()
    early, late = statistics.median(per_round[5:15]), statistics.median(per_round[-10:])
    print(
        f"  visit rounds: round 10 completion (2 tasks) {early:.1f} ms, round {rounds} {late:.1f} ms, "
        f"ratio {late / early:.2f} — {load()}"
    )
    return late / early


def main() -> None:
    """Run SQLite (and PostgreSQL when reachable) and print the figures, the ratios last."""
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=15, help="cases for the 1-client phase (each side)")
    parser.add_argument("--clients-cases", type=int, default=4, help="cases per client in the 8-client phase")
    parser.add_argument("--pg", default=os.environ.get("AFTERSALES_TEST_PG_URL", PG_DEFAULT))
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--rounds", type=int, default=100, help="visit rounds of the growth phase (SQLite; 0: skip)")
    parser.add_argument("--workers", type=int, default=1, help="server processes, as `aftersales serve --workers`")
    parser.add_argument("--threads", type=int, default=8, help="threads per server process")
    args = parser.parse_args()
    print(f"start — {load()}")
    raw = RawCases()
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        kinds = ["sqlite"] if args.no_pg else ["sqlite", "postgresql"]
        for kind in kinds:
            try:
                figures[kind] = bench_database(
                    kind,
                    Path(tmp),
                    args.pg,
                    raw,
                    args.cases,
                    args.clients_cases,
                    args.rounds,
                    (args.workers, args.threads),
                )
            except sa.exc.OperationalError as exc:
                print(f"{kind}: skipped ({type(exc).__name__}: database not reachable)")
    lite = figures["sqlite"]
    for kind, f in figures.items():
        print(
            f"{kind}: completion p50 {f['completion']:.2f} ms = {f['completion'] / f['raw_step']:.2f}x raw step; "
            f"case rate {f['http_rate'] / f['raw_rate']:.2f}x raw (following the answers: "
            f"{f['follow_rate'] / f['raw_rate']:.2f}x); 8 clients {f['rate8'] / f['http_rate']:.2f}x "
            f"one client; SQL per completion request (max) {f['sql']:.0f}"
            + (f"; visit round 100 / round 10 completion {f['growth']:.2f}" if f["growth"] else "")
        )
    print(f"end — {load()}")
    print(f"http completion p50 / raw step p50: {lite['completion'] / lite['raw_step']:.2f}")
    print(f"http case rate (following the answers) / raw case rate: {lite['follow_rate'] / lite['raw_rate']:.2f}")
    print(f"http case rate / raw case rate: {lite['http_rate'] / lite['raw_rate']:.2f}")


if __name__ == "__main__":
    main()
