"""GET /api/v1/records/{type}/{number}: one business record by its readable number."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from engine.errors import NotFoundError
from engine.services import cases
from engine.services.access import check_can_view_case
from web.api import bp
from web.api.common import caller
from web.context import app_context
from web.context import db

RECORD_TYPES = ("csi", "so", "wo", "po", "psr", "quality-feedback", "survey", "supplier-claim")


@bp.get("/records/<record_type>/<number>")
def get_record(record_type: str, number: str) -> Response:
    """A record by type and number; the document-chain records (SO/WO/PO/PSR/...) arrive with dispatch (§5)."""
    if record_type not in RECORD_TYPES:
        raise NotFoundError(f"unknown record type {record_type!r}; known: {', '.join(RECORD_TYPES)}")
    if record_type != "csi":
        raise NotFoundError(f"no {record_type} record numbered {number!r}")
    csi = cases.find_csi_by_number(db(), number)
    check_can_view_case(caller(), csi)
    view = cases.case_view(db(), csi, timezone=app_context().settings.timezone)
    return jsonify(
        {
            "type": "csi",
            "number": csi.csi_no,
            "case_id": csi.id,
            **view["csi"],
            "sla": view["sla"],
            "links": {"case": f"/api/v1/cases/{csi.id}"},
        }
    )
