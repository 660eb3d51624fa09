"""`aftersales import-bpmn`: convert a Camunda/Flowable model into a folder, ask for roles, deploy right away."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.bootstrap import build_runtime
from engine.bpmn.lint import lint_bundle
from engine.platform.definitions import read_directory
from web.cli import main

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "import"
INVOICE = [str(CORPUS / "camunda_invoice.bpmn"), str(CORPUS / "camunda_invoice_assign_approver.dmn")]
INVOICE_ROLES = ["--map", "approverGroups=service_manager", "--map", "Team assistant=service_supervisor"]


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("AFTERSALES_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AFTERSALES_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_an_unknown_group_is_asked_for_and_nothing_is_written(cli, tmp_path):
    result = cli("import-bpmn", *INVOICE, *INVOICE_ROLES)
    assert result.exit_code == 2
    assert "group 'accounting' of prepare_bank_transfer: which role?" in result.stderr
    assert "service_manager" in result.stderr  # the roles to choose from
    assert not (tmp_path / "imported").exists()


def test_mapped_groups_write_a_bundle_the_deploy_lint_accepts(cli, tmp_path):
    result = cli("import-bpmn", *INVOICE, *INVOICE_ROLES, "--map", "accounting=sales", "--out", "out")
    assert result.exit_code == 0, result.output
    assert "[archive_invoice] warning: service task: Java delegate" in result.output
    assert "wrote 10 file(s) to out" in result.output
    files = read_directory(tmp_path / "out")
    assert {"invoice.bpmn", "invoice_assign_approver.dmn", "forms/approve_invoice.schema.json"} <= set(files)
    assert lint_bundle(files, catalog=build_runtime().catalog) == []


def test_the_default_folder_is_named_after_the_source(cli, tmp_path):
    result = cli(
        "import-bpmn",
        str(CORPUS / "flowable_holiday_request.bpmn20.xml"),
        "--map",
        "managers=service_manager",
        "--map",
        "employee=service_engineer",
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "imported" / "flowable_holiday_request" / "holidayRequest.bpmn").is_file()


def test_what_still_needs_fixing_is_written_and_exits_1(cli, tmp_path):
    broken = tmp_path / "loan.bpmn"
    text = (CORPUS / "camunda_loan_approval.bpmn").read_text(encoding="utf-8")
    broken.write_text(text.replace("${approved &amp;&amp; loanAmount le netIncome * 5}", "${risk.ok(execution)}"))
    result = cli("import-bpmn", str(broken), "--map", "demo=service_manager", "--out", "out")
    assert result.exit_code == 1
    assert "[flow_granted] error: condition '${risk.ok(execution)}' was not converted" in result.output
    assert (tmp_path / "out" / "loan_approval.bpmn").is_file()


def test_deploy_records_the_process_designer_and_refuses_other_roles(cli):
    assert cli("init", "--demo").exit_code == 0
    mapped = [*INVOICE, *INVOICE_ROLES, "--map", "accounting=sales", "--deploy"]
    refused = cli("import-bpmn", *mapped, "--as", "manager")
    assert refused.exit_code == 1 and "manager is not a process designer" in refused.stderr
    deployed = cli("import-bpmn", *mapped, "--as", "modeler")
    assert deployed.exit_code == 0, deployed.output
    assert "deployed invoice v1" in deployed.output
    again = cli("import-bpmn", *mapped, "--as", "modeler")
    assert "unchanged invoice v1" in again.output


def test_deploy_needs_a_user_and_a_map_needs_a_role(cli):
    assert cli("import-bpmn", *INVOICE, "--deploy").exit_code == 2
    bad = cli("import-bpmn", *INVOICE, "--map", "accounting")
    assert bad.exit_code == 2 and "GROUP=ROLE" in bad.output
