"""Upgrading to the claim process (§5.5): a visit round started on the older field_visit_round version (one-shot
`supplier_claim` task, free-text supplier) keeps running after the new models are deployed; a claim it leaves
`submitted` goes on in the new claim process, where Sales names the supplier of the master and settles it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.aftersales.claims.service import resume_open_claims
from engine.clock import utcnow
from engine.config import PROJECT_ROOT
from engine.config import Settings
from engine.errors import InvalidInputError
from engine.platform import tasks
from engine.platform.definitions import read_directory
from engine.platform.deployment import deploy_files
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.supplier_claim import SupplierClaim
from tests.helpers import case_task
from tests.helpers import case_tasks
from tests.helpers import do
from tests.helpers import drive_to_dispatch

LEGACY = Path(__file__).parent / "legacy_workflows"  # field_visit_round as deployed before the claim process
NEW_ONLY = ("supplier_claim.bpmn", "forms/send_claim", "forms/claim_answer", "forms/claim_settlement")


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """The shipped workflows as they were before the claim process: the legacy round, no supplier_claim process."""
    folder = tmp_path / "workflows-before"
    shutil.copytree(PROJECT_ROOT / "workflows", folder)
    for name in NEW_ONLY:
        for path in folder.glob(name + "*"):
            path.unlink()
    shutil.copytree(LEGACY, folder, dirs_exist_ok=True)
    return Settings(home=tmp_path / "home", database_url=db_url, secret_key="test-" + "x" * 40, workflows_dir=folder)


def test_a_round_on_the_older_version_finishes_its_one_shot_claim_task(session, runtime, calendar, user_named):
    csi, case = drive_to_dispatch(session, runtime, calendar, user_named)
    do(session, runtime, csi.id, "issue_work_order", user_named("manager"), calendar)
    visit = {"old_parts": "unrecoverable", "parts_used": [{"part_no": "BRG-6205", "qty": 2, "source": "bought"}]}
    do(session, runtime, csi.id, "field_visit", user_named("engineer"), calendar, **visit)
    assert "supplier_claim" in case_tasks(session, csi.id)  # the older round's one-shot task
    deploy_files(session, read_directory(PROJECT_ROOT / "workflows"), actor="test", catalog=runtime.catalog)
    session.commit()
    versions = session.scalars(
        sa.select(ProcessVersion.version).where(ProcessVersion.process_id == "field_visit_round")
    )
    assert sorted(versions) == [1, 2]
    task = case_task(session, csi.id, "supplier_claim")
    with pytest.raises(InvalidInputError):  # the older form still applies: free-text supplier and outcome
        tasks.complete_task(
            session, runtime, user_named("sales"), task.id, {"supplier_code": "S-BRG"}, calendar=calendar
        )
    session.rollback()
    legacy = {"supplier": "某轴承有限公司", "claim_amount": 1200.0, "outcome": "submitted"}
    tasks.complete_task(session, runtime, user_named("sales"), task.id, legacy, calendar=calendar)
    session.commit()
    session.expire_all()
    claim = session.scalars(sa.select(SupplierClaim).where(SupplierClaim.csi_id == csi.id)).one()
    assert claim.status == "submitted" and claim.supplier == "某轴承有限公司" and claim.supplier_id is None
    instance = session.scalars(sa.select(ProcessInstance).where(ProcessInstance.business_key == claim.sc_no)).one()
    assert instance.process_id == "supplier_claim" and instance.parent_instance_id == case.id
    assert case_tasks(session, csi.id) == ["close_case", "send_claim"]
    do(session, runtime, csi.id, "send_claim", user_named("sales"), calendar)  # confirmed with the master's supplier
    do(session, runtime, csi.id, "claim_answer", user_named("sales"), calendar)
    do(session, runtime, csi.id, "claim_settlement", user_named("sales"), calendar)
    session.expire_all()
    assert claim.status == "settled" and claim.supplier == "洛阳精密轴承有限公司" and claim.closed_at
    assert session.scalars(sa.select(HumanTask.status).where(HumanTask.id == task.id)).one() == "completed"


def test_claims_left_open_before_the_upgrade_are_resumed_in_the_claim_process(session, runtime, calendar, user_named):
    csi, case = drive_to_dispatch(session, runtime, calendar, user_named)
    deploy_files(session, read_directory(PROJECT_ROOT / "workflows"), actor="test", catalog=runtime.catalog)
    old = SupplierClaim(
        sc_no="SC-2025-000007",
        csi_id=csi.id,
        csi_snapshot=csi.facts(),
        status="submitted",
        supplier="某轴承有限公司",
        created_at=utcnow(),
    )
    done = SupplierClaim(
        sc_no="SC-2025-000008",
        csi_id=csi.id,
        csi_snapshot={},
        status="accepted",
        created_at=utcnow(),
        closed_at=utcnow(),
    )
    session.add_all([old, done])
    session.commit()
    assert resume_open_claims(session, runtime, actor="cli", calendar=calendar) == ["SC-2025-000007"]
    session.commit()
    instance = session.scalars(sa.select(ProcessInstance).where(ProcessInstance.business_key == old.sc_no)).one()
    assert instance.parent_instance_id == case.id and "send_claim" in case_tasks(session, csi.id)
    assert resume_open_claims(session, runtime, actor="cli", calendar=calendar) == []  # once only
