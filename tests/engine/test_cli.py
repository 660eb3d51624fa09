"""The `aftersales` command line on a real SQLite database: init, deploy, user add, import, worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from web.cli import main

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("AFTERSALES_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AFTERSALES_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None):
        return runner.invoke(main, list(args), input=stdin, catch_exceptions=False)

    return run


def test_init_deploys_workflows_and_demo_users_once(cli):
    first = cli("init", "--demo")
    assert first.exit_code == 0, first.output
    assert "deployed after_sales_case v1" in first.output and "manager (service_manager)" in first.output
    again = cli("init", "--demo")
    assert again.exit_code == 0 and "deployed" not in again.output


def test_deploy_refuses_a_hostile_file_with_file_and_line(cli):
    cli("init")
    result = cli("deploy", str(CORPUS / "bpmn" / "escape_script.bpmn"))
    assert result.exit_code == 1
    assert "escape_script.bpmn:" in result.output and "__subclasses__" in result.output


def test_deploy_of_unchanged_workflows_reports_unchanged(cli):
    cli("init")
    result = cli("deploy", str(Path(__file__).resolve().parents[2] / "workflows"))
    assert result.exit_code == 0 and "unchanged after_sales_case v1" in result.output


def test_user_add_reads_the_password_from_stdin_and_checks_roles(cli):
    cli("init")
    ok = cli(
        "user",
        "add",
        "li.lei",
        "--role",
        "service_manager",
        "--role",
        "sales",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert ok.exit_code == 0 and "service_manager, sales" in ok.output
    bad = cli("user", "add", "han.mei", "--role", "wizard", "--password-stdin", stdin="a-long-password\n")
    assert bad.exit_code == 1 and "role" in bad.output


def test_user_add_refuses_common_passwords_and_the_user_name(cli):
    cli("init")
    for weak in ("password", "12345678", "Han.Mei.01", "aftersales"):
        name = "han.mei.01" if weak == "Han.Mei.01" else "han.mei"
        result = cli("user", "add", name, "--role", "sales", "--password-stdin", stdin=weak + "\n")
        assert result.exit_code == 1 and "password:" in result.output, (weak, result.output)


def test_user_list_disable_enable_set_password_and_revoke_tokens(cli):
    from engine.aftersales.demo import DEMO_PASSWORD
    from web import create_app

    cli("init", "--demo")
    client = create_app({"TESTING": False}).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"

    def token() -> str:
        issued = client.post("/api/v1/auth/token", json={"username": "sales", "password": DEMO_PASSWORD})
        return issued.get_json()["token"]

    def works(bearer: str) -> bool:
        return client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {bearer}"}).status_code == 200

    first = token()
    listed = cli("user", "list")
    assert listed.exit_code == 0 and "sales\tactive\tsales\tsessions=0\ttokens=1" in listed.output
    disabled = cli("user", "disable", "sales")
    assert disabled.exit_code == 0 and "1 session(s)/token(s) revoked" in disabled.output
    assert not works(first) and "sales\tdisabled" in cli("user", "list").output
    assert client.post("/api/v1/auth/token", json={"username": "sales", "password": DEMO_PASSWORD}).status_code == 401
    assert cli("user", "enable", "sales").exit_code == 0
    second = token()
    weak = cli("user", "set-password", "sales", "--password-stdin", stdin="12345678\n")
    assert weak.exit_code == 1 and works(second)
    changed = cli("user", "set-password", "sales", "--password-stdin", stdin="a-new-sales-pass-2027\n")
    assert changed.exit_code == 0 and not works(second)
    third = client.post("/api/v1/auth/token", json={"username": "sales", "password": "a-new-sales-pass-2027"})
    assert works(third.get_json()["token"])
    assert "1 session(s)/token(s) of sales revoked" in cli("user", "revoke-tokens", "sales").output
    assert not works(third.get_json()["token"])
    assert cli("user", "disable", "nobody").exit_code == 1
    last_admin = cli("user", "disable", "admin")
    assert last_admin.exit_code == 1 and "last active administrator" in last_admin.output
    client.application.extensions["aftersales"].sessions.kw["bind"].dispose()


def test_import_reports_bad_rows_by_line_and_imports_nothing(cli, tmp_path):
    cli("init")
    good = tmp_path / "customers.csv"
    good.write_text("code,name,country\nC500,上海机床厂,CN\nC501,Acme Ltd,GB\n", encoding="utf-8")
    result = cli("import", "customers", str(good))
    assert result.exit_code == 0 and "2 rows: 2 created" in result.output
    bad = tmp_path / "products.csv"
    bad.write_text(
        "code,name,category,warranty_months\nP1,Lathe,complete_equipment,24\nP2,Widget,gadget,12\n"
        "P3,Drill,tool_set,many\n",
        encoding="utf-8",
    )
    result = cli("import", "products", str(bad))
    assert result.exit_code == 1
    assert "line 3: category 'gadget'" in result.output and "line 4: warranty_months 'many'" in result.output
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "so_no,customer_code,sale_date,product_code,serial_no,qty\nSO-1,C500,2026-01-05,P1,S1,1\n", encoding="utf-8"
    )
    result = cli("import", "sales-orders", str(orders))
    assert result.exit_code == 1 and "line 2: product 'P1' does not exist" in result.output  # P1 was not imported


def test_import_checks_the_header(cli, tmp_path):
    cli("init")
    wrong = tmp_path / "customers.csv"
    wrong.write_text("id,name\n1,x\n", encoding="utf-8")
    result = cli("import", "customers", str(wrong))
    assert result.exit_code == 1 and "expected header: code,name,country" in result.output


def test_worker_once_runs_and_exits(cli):
    cli("init", "--demo")
    result = cli("worker", "--once")
    assert result.exit_code == 0 and "advanced 0 instance(s)" in result.output


def test_calendar_commands_edit_overrides_and_report_recomputed_deadlines(cli):
    cli("init", "--demo")
    made_up = cli("calendar", "set-day", "2027-02-20", "--kind", "makeup_workday", "--name", "春节调休上班")
    assert made_up.exit_code == 0 and "is now makeup_workday" in made_up.output and "recomputed" in made_up.output
    shown = cli("calendar", "show", "2027-02")
    assert "2027-02-20 Sat work" in shown.output
    assert cli("calendar", "published-through", "2027").exit_code == 0
    assert cli("calendar", "published-through", "1999").exit_code == 1
    assert "removed" in cli("calendar", "clear-day", "2027-02-20").output


def test_start_runs_any_deployed_process_as_a_user_of_its_start_lane(cli):
    cli("init", "--demo")
    deployed = cli("deploy", str(CORPUS / "general"))
    assert deployed.exit_code == 0 and "deployed spare_part_return v1" in deployed.output, deployed.output
    data = '{"customer_code": "C001", "part_no": "BRG-6205", "reason": "异响"}'
    started = cli("start", "spare_part_return", "--as", "manager", "--data", data)
    assert started.exit_code == 0, started.output
    assert "started spare_part_return v1" in started.output and "(BRG-6205 / C001)" in started.output
    assert "waits at approve_return" in started.output
    refused = cli("start", "spare_part_return", "--as", "sales", "--data", data)
    assert refused.exit_code == 1 and "needs the role service_manager" in refused.output
    bad = cli("start", "spare_part_return", "--as", "manager", "--data", '{"part_no": ""}')
    assert bad.exit_code == 1 and "customer_code" in bad.output
    case = cli("start", "after_sales_case", "--as", "manager")
    assert case.exit_code == 1 and "POST /api/v1/cases" in case.output


def test_claims_resume_starts_the_claim_process_for_open_claims_without_one(cli):
    cli("init", "--demo")
    result = cli("claims", "resume")
    assert result.exit_code == 0 and "resumed 0 claim(s)" in result.output  # nothing left open without a process


def test_a_fresh_demo_install_labels_the_dashboards_satisfaction_scale(cli):
    """The satisfaction scale is named in the visit round's form, a bundle of its own after `init`: the dashboard
    read only the case's bundle and drew raw keys (`very_satisfied`) in both languages."""
    import re

    from engine.aftersales.demo import DEMO_PASSWORD
    from web import create_app

    cli("init", "--demo")
    client = create_app({"TESTING": False}).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert csrf is not None
    client.post("/login", data={"username": "director", "password": DEMO_PASSWORD, "csrf_token": csrf.group(1)})
    labels = client.get("/dashboard/data").get_json()["labels"]
    assert labels["satisfaction"]["very_satisfied"] == "非常满意"
