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
