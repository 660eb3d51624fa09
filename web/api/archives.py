"""GET /api/v1/archives/{serial_no}: the service archive of one factory serial number (§2.2, §2.4, §3.1)."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from engine.aftersales.archives import read as archives
from web.api import bp
from web.api.common import caller
from web.context import db


@bp.get("/archives/<serial_no>")
def get_archive(serial_no: str) -> Response:
    """The unit and its service history in time order; 404 (with the §3.1 reason) when its product keeps none."""
    archives.check_can_view_archive(caller())
    return jsonify(archives.service_archive(db(), serial_no))
