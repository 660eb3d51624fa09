"""Process designer pages (role process_designer): the BPMN modeler with this engine's properties panel, the DMN
and form-schema editors, validate and deploy, version history with the files of each version and a readable diff,
downloads, retiring a process, and the migration of running instances to a newer version (preview, then bulk move
with a report).

The editors post JSON with the CSRF token in the `X-CSRFToken` header; everything else is plain pages and forms.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from flask import Blueprint
from flask import jsonify
from flask import make_response
from flask import render_template
from flask import request
from flask import url_for
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from engine.errors import DefinitionError
from engine.errors import DefinitionProblem
from engine.errors import EngineError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform import designer
from engine.platform import version_migration
from engine.platform.definitions import list_versions
from engine.platform.deployment import definitions
from engine.platform.users import display_names
from engine.records.process import ProcessVersion
from engine.records.user import Role
from web.auth import current_user
from web.auth import roles_required
from web.context import app_context
from web.context import db
from web.errors import engine_error_response
from web.forms import build_fields
from web.forms import localized
from web.i18n import current_lang
from web.params import version_arg
from web.security import CSP
from web.security import as_download
from web.views import ROLE_LABELS
from web.views import STATUS_LABELS
from web.views import business_zone
from web.views import designer_import
from web.views import install
from web.views.designer_words import install_words

bp = Blueprint("designer", __name__, url_prefix="/designer")
install(bp)
install_words(bp)
DESIGNER = Role.PROCESS_DESIGNER.value
MAX_FILES = 40
designer_only = roles_required(DESIGNER)
# Words for the values of the catalog's properties, as the properties panel shows them (the CSI statuses).
VALUE_LABELS = {"caseStatus": STATUS_LABELS}


# ---- pages -------------------------------------------------------------------------------------------------


@bp.get("/")
@designer_only
def index() -> str:
    """Deployed processes (latest version, instances per version), decision tables and forms to edit."""
    session = db()
    versions = list_versions(session)
    latest: dict[str, ProcessVersion] = {}
    for version in versions:
        latest.setdefault(version.process_id, version)
    counts = designer.instance_counts(session, [v.id for v in versions])
    older: dict[str, int] = {}
    for version in versions:
        if version is not latest[version.process_id]:
            pending = sum(n for status, n in counts.get(version.id, {}).items() if status in version_migration.PENDING)
            older[version.process_id] = older.get(version.process_id, 0) + pending
    pickers = designer.pickers(session, app_context().runtime.catalog)
    retired = {pid: d for pid, d in definitions(session, latest).items() if d.retired_at is not None}
    return render_template(
        "designer/index.html",
        processes=sorted(latest.values(), key=lambda v: (v.process_id in retired, v.process_id)),
        retired=retired,
        counts=counts,
        older=older,
        catalog=pickers,
        decision_files=[f for f in pickers.files if f.endswith(".dmn")],
        names=display_names(
            session, [v.deployed_by for v in latest.values()] + [d.retired_by for d in retired.values()]
        ),
    )


@bp.get("/process/<process_id>")
@designer_only
def modeler(process_id: str) -> str:
    """The BPMN modeler on the latest version of a process, or on `?version=n`."""
    session = db()
    number = version_arg(request.args.get("version"))
    version = designer.get_version(session, process_id, number)
    latest = designer.get_version(session, process_id)
    main = designer.main_file(session, version)
    used = [PurePosixPath(n).name for n in designer.version_files(session, version) if n.endswith(".schema.json")]
    config = _editor_config(
        mode="bpmn",
        file=main,
        source=url_for("designer.bundle_file", bundle_id=version.bundle_id, name=main),
        process_id=process_id,
        version=version.version,
        latest=latest.version,
        forms_used=used,
    )
    return render_template("designer/modeler.html", version=version, latest=latest, main=main, config=config)


@bp.get("/new")
@designer_only
def new() -> str:
    """The modeler on a blank diagram, or on a BPMN file opened from disk (Camunda Modeler, bpmn.io…)."""
    config = _editor_config(mode="bpmn", file="", source="", process_id="", version=0, latest=0, forms_used=[])
    return render_template("designer/modeler.html", version=None, latest=None, main="", config=config)


@bp.get("/decisions/<name>")
@designer_only
def decision(name: str) -> Response:
    """The DMN editor (dmn-js) on a decision table of the latest bundle."""
    catalog = designer.pickers(db(), app_context().runtime.catalog)
    if name not in catalog.files or not name.endswith(".dmn"):
        raise NotFoundError(f"no decision table {name!r} is deployed")
    config = _editor_config(mode="dmn", file=name, source=url_for("designer.repository_file", name=name))
    response = make_response(render_template("designer/decision.html", name=name, config=config))
    # dmn-js writes style attributes in HTML strings (its bpmn.io watermark among them, a file its licence forbids
    # changing): allow style attributes on this page only; scripts and style elements stay 'self'.
    response.headers["Content-Security-Policy"] = CSP.replace(
        "style-src 'self';", "style-src 'self'; style-src-attr 'unsafe-inline';"
    )
    return response


@bp.get("/forms/<name>")
@designer_only
def form(name: str) -> str:
    """The form schema editor with a live preview (an unknown name starts a new form)."""
    config = _editor_config(mode="form", file=name)
    return render_template("designer/form.html", name=name, config=config)


@bp.get("/files/current/<path:name>")
@designer_only
def repository_file(name: str) -> Response:
    """The deployed text of one file of the repository (always a download, never rendered inline)."""
    text = designer.repository_file(db(), name)
    kind = "application/json" if name.endswith(".json") else "application/xml"
    return as_download(text, PurePosixPath(name).name, kind)


@bp.get("/files/<int:bundle_id>/<path:name>")
@designer_only
def bundle_file(bundle_id: int, name: str) -> Response:
    """One file of a deployed bundle (fetched by the editors; always a download, never rendered inline)."""
    text = designer.bundle_file(db(), bundle_id, name)
    kind = "application/json" if name.endswith(".json") else "application/xml"
    return as_download(text, PurePosixPath(name).name, kind)


# ---- JSON endpoints of the editors --------------------------------------------------------------------------


@bp.post("/validate")
@designer_only
def validate() -> tuple[Response, int]:
    """Lint the latest bundle overlaid with the posted files: 200 when clean, 422 with pinned problems."""
    try:
        problems = designer.validate_edits(db(), _posted_files(), app_context().runtime.catalog)
    except DefinitionError as exc:
        problems = exc.problems
    except EngineError as exc:
        return engine_error_response(exc)
    return jsonify({"ok": not problems, "problems": [_problem(p) for p in problems]}), 422 if problems else 200


@bp.post("/deploy")
@designer_only
def deploy() -> tuple[Response, int]:
    """Deploy the posted files as new versions (201), nothing changed (200), or the lint's problems (422)."""
    session = db()
    body = request.get_json(silent=True) or {}
    note = body.get("note", "") if isinstance(body.get("note", ""), str) else ""
    try:
        result = designer.deploy_edits(
            session, _posted_files(), actor=current_user().username, catalog=app_context().runtime.catalog, note=note
        )
    except DefinitionError as exc:
        session.rollback()
        return jsonify({"ok": False, "problems": [_problem(p) for p in exc.problems]}), 422
    except EngineError as exc:
        session.rollback()
        return engine_error_response(exc)
    session.commit()
    created = [_version_json(v) for v in result.created]
    body = {
        "ok": True,
        "created": created,
        "unchanged": [_version_json(v) for v in result.unchanged],
        "retired": result.retired,
        "notes": result.notes,
    }
    return jsonify(body), 201 if created else 200


@bp.post("/forms/preview")
@designer_only
def form_preview() -> tuple[Response, int]:
    """The task form as staff will see it, rendered by the task pages' own renderer (422: the JSON is not usable)."""
    body = request.get_json(silent=True) or {}
    schema_text, ui_text = body.get("schema", ""), body.get("ui", "")
    if not isinstance(schema_text, str) or not isinstance(ui_text, str):
        return engine_error_response(InvalidInputError("schema and ui must be text", {"schema": "text"}))
    try:
        schema, ui = designer.parse_form_texts(schema_text, ui_text)
        lang = current_lang()
        fields = build_fields(schema, ui, lang, zone=business_zone())
    except InvalidInputError as exc:
        return engine_error_response(exc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # odd but valid JSON the renderer cannot show
        problem = Problem("schema_unrenderable", f"cannot render this schema: {exc}")
        return engine_error_response(InvalidInputError(problem, {"schema": problem}))
    html = render_template(
        "designer/_form_preview.html",
        fields=fields,
        title=localized(schema, "title", lang),
        description=localized(schema, "description", lang),
    )
    return jsonify({"html": html, "fields": [f.name for f in fields]}), 200


# ---- helpers -----------------------------------------------------------------------------------------------


def _editor_config(**values: Any) -> dict[str, Any]:
    """What the editor page's script needs: endpoints, pickers' contents and the CSRF token."""
    catalog = designer.pickers(db(), app_context().runtime.catalog)
    file_url = url_for("designer.repository_file", name="forms/__NAME__")
    return {
        "lang": current_lang(),
        "csrf": generate_csrf(),
        "validateUrl": url_for("designer.validate"),
        "deployUrl": url_for("designer.deploy"),
        "previewUrl": url_for("designer.form_preview"),
        "formUrl": file_url,
        "roles": catalog.roles,
        "roleLabels": {r: str(ROLE_LABELS.get(r, r)) for r in catalog.roles},
        "operators": [o["name"] for o in catalog.operators],
        "operatorSpecs": catalog.operators,
        "properties": catalog.properties,
        "valueLabels": {
            p["name"]: {v: str(VALUE_LABELS[p["name"]].get(v, v)) for v in p["values"] or ()}
            for p in catalog.properties
            if p["name"] in VALUE_LABELS
        },
        "decisions": catalog.decisions,
        "processes": catalog.processes,
        "forms": catalog.forms,
        "uiForms": catalog.ui_forms,
        **values,
    }


def _posted_files() -> dict[str, str]:
    """The `files` object of the JSON body: file name → text, within the deploy's size limits.

    :raises InvalidInputError: missing, not an object of texts, too many or too large files.
    """
    body = request.get_json(silent=True)
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, dict) or not files:
        raise InvalidInputError('send {"files": {name: text}}', {"files": "required"})
    if len(files) > MAX_FILES:
        raise InvalidInputError(f"at most {MAX_FILES} files at a time", {"files": "too many"})
    limit = app_context().settings.bpmn_max_bytes
    for name, text in files.items():
        if not isinstance(text, str):
            raise InvalidInputError(f"{name}: the content must be text", {"files": name})
        if len(text.encode("utf-8")) > limit:
            problem = DefinitionProblem(str(name), None, f"file is larger than {limit} bytes")
            raise DefinitionError([problem])
    return {str(k): v for k, v in files.items()}


def _problem(problem: DefinitionProblem) -> dict[str, Any]:
    return {"file": problem.file, "line": problem.line, "element_id": problem.element_id, "message": problem.message}


def _version_json(version: ProcessVersion) -> dict[str, Any]:
    return {**version.as_dict(), "history_url": url_for("designer.history", process_id=version.process_id)}


def file_order(name: str) -> tuple[bool, bool, str]:
    """BPMN files first, then decision tables, then forms."""
    return not name.endswith(".bpmn"), not name.endswith(".dmn"), name


# ---- import from Camunda / Flowable / Activiti (issue 7, item 4; the steps are in designer_import) --------------


@bp.get("/import")
@designer_only
def import_page() -> str:
    """Upload a model made in Camunda Modeler, Flowable or Activiti (with its DMN files) to convert it."""
    return render_template("designer/import.html", **designer_import.blank_page())


@bp.post("/import")
@designer_only
def import_post() -> str | tuple[str, int]:
    """Convert the upload (or the files carried from the previous step with the roles chosen); then show the report
    or the role questions, deploy, or open the result in the modeler."""
    step = designer_import.run_step(db(), current_user().username)
    if step.opened is None:
        return render_template("designer/import.html", **step.page), step.status
    config = _editor_config(**designer_import.modeler_values(step.opened))
    return render_template("designer/modeler.html", version=None, latest=None, main=config["sourceFile"], config=config)


from web.views import designer_versions  # noqa: E402,F401  (its routes register on bp)
