"""§3.1 spare-part returns: register a returned part on its case (starts `part_return`) and read one by its RT
number; its steps are completed through the task API like any other task."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from engine.aftersales.cases import read as cases
from engine.aftersales.returns.service import get_part_return
from engine.aftersales.returns.service import start_part_return
from engine.platform.access import check_can_view_case
from engine.reports import chain
from web.api import bp
from web.api.common import caller
from web.api.common import json_body
from web.context import app_context
from web.context import calendar_loader
from web.context import db


@bp.post("/cases/<int:case_id>/part-returns")
def create_part_return(case_id: int) -> tuple[Response, int]:
    """Register a returned spare part `{part_no, quantity, remedy, reason}` (service manager): 201 with its RT number
    and status; 409 on a closed or cancelled case; 422 naming the bad field (nothing written)."""
    session = db()
    check_can_view_case(caller(), cases.get_csi(session, case_id))
    record = start_part_return(
        session, app_context().runtime, caller(), case_id, json_body(), calendar=calendar_loader(session)
    )
    body = {**return_view(record.rt_no), "process_instance_id": record.instance_id}
    response = jsonify(body)
    response.headers["Location"] = f"/api/v1/part-returns/{record.rt_no}"
    session.commit()
    return response, 201


@bp.get("/part-returns/<rt_no>")
def read_part_return(rt_no: str) -> Response:
    """One part return with its steps, its case and its exchange SO (readers of the case; 404 unknown)."""
    session = db()
    record = get_part_return(session, rt_no)
    check_can_view_case(caller(), cases.get_csi(session, record.csi_id))
    return jsonify({**return_view(rt_no), "process_instance_id": record.instance_id})


def return_view(rt_no: str) -> dict[str, Any]:
    """The API shape of a return: the record view of the chain plus `rt_no` and its case's links."""
    view = chain.record_view(db(), "part-return", rt_no)
    links = {"case": f"/api/v1/cases/{view['case_id']}", "self": f"/api/v1/part-returns/{rt_no}"}
    return {**view, "rt_no": rt_no, "links": links}
