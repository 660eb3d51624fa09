"""GET /api/v1/records/{type}/{number}: one business record by its readable number, with its links both ways."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from engine.aftersales.cases import read as cases
from engine.platform.access import check_can_view_case
from engine.reports import chain
from web.api import bp
from web.api.common import caller
from web.context import app_context
from web.context import db

RECORD_TYPES = chain.RECORD_TYPES


@bp.get("/records/<record_type>/<number>")
def get_record(record_type: str, number: str) -> Response:
    """A CSI, service SO, WO, zero-price PO, PSR, QAHRC0722C, QAHRC0807C, supplier claim or training plan.

    404 for an unknown type or number; 403 when the caller may not see the record's case.
    """
    session = db()
    csi = chain.find_csi_of(session, record_type, number)
    check_can_view_case(caller(), csi)
    view = chain.record_view(session, record_type, number)
    links = {"case": f"/api/v1/cases/{csi.id}", "csi": f"/api/v1/records/csi/{csi.csi_no}"}
    if record_type == "csi":
        view["sla"] = cases.sla_view(csi, timezone=app_context().settings.timezone)
    if csi.serial_no and csi.archive_required:
        links["archive"] = f"/api/v1/archives/{csi.serial_no}"
    return jsonify({**view, "links": links})
