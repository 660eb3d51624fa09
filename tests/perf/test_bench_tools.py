"""The page benchmark's tools still run on the shipped models (bench/generate.py broke unnoticed when the supplier
claim became its own process): a small generated database answers every benchmarked page with 200. No timing is
asserted here; the figures are the benchmark's (docs/performance.md)."""

from __future__ import annotations

import sqlalchemy as sa


def test_generate_fills_a_database_whose_benchmarked_pages_all_answer(tmp_path, capsys):
    from bench import generate
    from bench import pages

    target = tmp_path / "generated.db"
    generate.main([str(target), "--cases", "40", "--force"])
    engine = sa.create_engine(f"sqlite:///{target}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM csi")).scalar_one() >= 40
        assert conn.execute(sa.text("SELECT count(*) FROM human_task WHERE status = 'open'")).scalar_one() > 0
    engine.dispose()
    capsys.readouterr()

    pages.main([str(target), "--runs", "1"])
    printed = capsys.readouterr().out
    measured = [line for line in printed.splitlines() if line.startswith("/") and " median " in line]
    assert len(measured) == len(pages.PAGES) + len(pages.INBOX_PAGES), printed
    assert all("HTTP 200" in line for line in measured), printed
    assert "skipped" not in printed


def test_the_http_bench_clients_run_whole_cases_listing_and_following_the_answers(tmp_path):
    """bench/http.py's two clients against its real server process: the listing client lists before each of the 6
    tasks, the following client lists once and takes each next task from the completion's `next_tasks`; both close
    their case, and the server counts the SQL of every request (no timing asserted)."""
    from bench import http as bench_http

    url = f"sqlite:///{tmp_path / 'http.db'}"
    bench_http.prepare(url)
    server = bench_http.Server(url, tmp_path / "home", threads=2, workers=1)
    try:
        calls = bench_http.Calls()
        client = bench_http.Client(server.port, calls)
        client.run_case(follow=False)
        client.run_case(follow=True)
        client.close()
    finally:
        server.stop()
    counted = {kind: len(ms) for kind, ms in calls.ms.items()}
    assert counted == {"token": 3, "create case": 2, "list case tasks": 7, "complete task": 6, "complete (follow)": 6}
    assert all(n >= 1 for sql in calls.sql.values() for n in sql), calls.sql
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM csi ORDER BY id")).scalars().all() == ["closed", "closed"]
    engine.dispose()
