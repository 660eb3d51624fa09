"""Imported Camunda, Flowable and Activiti models become deployed versions that run to completion through the
platform exactly as a designer's own process would (issue 7 item 4): import as the designer does, deploy as a
process designer, start as the start lane's role, complete every task as its lane's role."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from engine.platform import model_import
from engine.platform import starting
from engine.platform import tasks
from engine.platform.definitions import require_latest_version
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from tests.engine.test_importer import CORPUS
from tests.engine.test_importer import MODELS
from tests.engine.test_importer import valid_answer

USER_OF_ROLE = {
    "service_manager": "manager",
    "service_supervisor": "supervisor",
    "service_engineer": "engineer",
    "engineering_qc": "qc",
    "sales": "sales",
    "hr": "hr",
    "admin": "admin",
    "process_designer": "modeler",
    "service_director": "director",
    "product_design": "designer",
}
RUNS: dict[str, tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]] = {
    "invoice": (
        {"amount": 600, "invoiceCategory": "Software License Costs"},
        {"approve_invoice": [{"approved": False}, {"approved": True}]},
    ),
    "loan_approval": ({"netIncome": 5000, "loanAmount": 20000}, {"approve_request": [{"approved": True}]}),
    "vacation_request": (
        {"days": 5},
        {"approve_vacation": [{"approved": False}, {"approved": True}], "adjust_request": [{"resend": "yes"}]},
    ),
    "onboarding": ({}, {}),
    "holidayRequest": ({"employee": "li.lei", "nrOfHolidays": 3}, {"approveTask": [{"approved": True}]}),
    "vacationRequest": (
        {"numberOfDays": 4},
        {
            "handleRequest": [{"vacationApproved": "false"}, {"vacationApproved": "true"}],
            "adjustVacationRequestTask": [{"resendRequest": "true", "numberOfDays": 2}],
        },
    ),
}


def open_tasks(session, instance_id: int) -> list[HumanTask]:
    children = sa.select(ProcessInstance.id).where(ProcessInstance.parent_instance_id == instance_id)
    query = sa.select(HumanTask).where(
        HumanTask.status == "open", sa.or_(HumanTask.instance_id == instance_id, HumanTask.instance_id.in_(children))
    )
    return list(session.scalars(query.order_by(HumanTask.created_at)))


@pytest.mark.parametrize("process_id", sorted(RUNS))
def test_an_imported_model_is_deployed_started_and_worked_to_its_end(
    session, runtime, calendar, user_named, process_id
):
    names, mapping = MODELS[process_id]
    sources = {name: (CORPUS / name).read_bytes() for name in names}
    result = model_import.convert_for_deploy(session, sources, group_roles=mapping, catalog=runtime.catalog)
    assert result.ok, [str(n) for n in result.report if n.severity == "error"]
    deployed = model_import.deploy_import(session, result, username="modeler", catalog=runtime.catalog)
    session.commit()
    assert process_id in {v.process_id for v in deployed.created}

    start_data, answers = RUNS[process_id]
    item = starting.describe(session, require_latest_version(session, process_id))
    starter = user_named(USER_OF_ROLE[item.roles[0]])
    form = item.form.schema if item.form is not None else {"properties": {}}
    started = starting.start_process(
        session, runtime, starter, process_id, valid_answer(form, start_data), calendar=calendar
    )
    session.commit()
    instance_id = started.instance.id
    done: list[str] = []
    for _ in range(30):
        pending = open_tasks(session, instance_id)
        if not pending:
            break
        task = pending[0]
        answer = answers.get(task.bpmn_id, [])
        data = valid_answer(tasks.form_of(session, task).schema, answer.pop(0) if answer else {})
        worker = user_named(task.assignee or USER_OF_ROLE[task.lane])
        tasks.complete_task(session, runtime, worker, task.id, data, calendar=calendar)
        session.commit()
        done.append(task.bpmn_id)
    session.expire_all()
    instance = session.get(ProcessInstance, instance_id)
    assert instance.status == "completed", (done, instance.active_elements, instance.error_message)
    assert done  # at least one task was worked by its lane's role
