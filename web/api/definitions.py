"""Process definitions: list deployed versions; deploy BPMN/DMN/form files as a new version (designers only)."""

from __future__ import annotations

from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from engine.errors import DefinitionError
from engine.errors import DefinitionProblem
from engine.platform.access import check_role
from engine.platform.definitions import list_versions
from engine.platform.deployment import deploy_files
from engine.records.user import Role
from web.api import bp
from web.api.common import caller
from web.context import app_context
from web.context import db


@bp.get("/process-definitions")
def list_definitions() -> Response:
    """Every deployed version, newest first per process."""
    return jsonify([v.as_dict() for v in list_versions(db())])


@bp.post("/process-definitions")
def deploy() -> tuple[Response, int]:
    """Validate and deploy the uploaded files (multipart, any field name); 422 lists file:line errors."""
    check_role(caller(), Role.PROCESS_DESIGNER.value)
    limit = app_context().settings.bpmn_max_bytes
    uploads: dict[str, bytes] = {}
    for _field, storage in request.files.items(multi=True):  # every file, however the fields are named
        data = storage.read(limit + 1)
        name = storage.filename or "(unnamed)"
        if len(data) > limit:
            raise DefinitionError([DefinitionProblem(name, None, f"file is larger than {limit} bytes")])
        if name in uploads:
            raise DefinitionError([DefinitionProblem(name, None, "two uploaded files have this name")])
        uploads[name] = data
    result = deploy_files(
        db(), uploads, actor=caller().username, catalog=app_context().runtime.catalog, note=request.form.get("note", "")
    )
    db().commit()
    status = 201 if result.created else 200
    return jsonify(
        {
            "created": [v.as_dict() for v in result.created],
            "unchanged": [v.as_dict() for v in result.unchanged],
            "retired": result.retired,
            "notes": result.notes,
        }
    ), status
